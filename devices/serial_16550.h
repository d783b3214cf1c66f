// Serial16550: a 16550A UART (National Semiconductor PC16550D data sheet)
// on eight I/O ports, as a PC has at 0x3f8 (COM1, IRQ 4): what a guest's
// 8250/16550 driver needs to print and read a console with interrupts.
//
// Modelled: the divisor latch (DLAB), IER, IIR with the four interrupt
// sources in priority order (line status, received data, transmitter
// empty, modem status), FCR (FIFOs on: IIR bits 7:6 set, as a 16550A
// reports; receiver FIFO reset), LCR, MCR with loopback (transmitted bytes
// come back as received ones, MCR's outputs drive MSR's inputs, as the
// data sheet's loopback diagnostic mode does and Linux's probe checks), LSR
// and the scratch register. Bytes written leave at once: the transmitter
// is always empty. Received bytes wait in a FIFO of kRxFifoSize bytes;
// more are dropped and counted as overruns (LSR.OE). The interrupt output
// follows the PC wiring: it is raised only while MCR.OUT2 is set.
// Thread safe: vCPU threads call HandleIo, an input thread QueueInput.
// SaveState/RestoreState carry the registers and the receiver FIFO across
// a snapshot (snapshot/codec.h bytes).
//
// Example:
//   hv::Serial16550::Options options;
//   options.output = [](uint8_t byte) { std::putchar(byte); };
//   options.set_irq = [&vm](bool level) { vm->SetIrqLine(4, level).IgnoreError(); };
//   ASSIGN_OR_RETURN(auto uart, hv::Serial16550::Create(options));
//   // On a kIo exit: if (uart->HandlesPort(io.address)) uart->HandleIo(io);
//   uart->QueueInput("ls\n");
//   hv::snapshot::ByteWriter out;
//   uart->SaveState(out);  // between runs: no vCPU in HandleIo
#ifndef HV_DEVICES_SERIAL_16550_H_
#define HV_DEVICES_SERIAL_16550_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hypervisor/vcpu_exit.h"
#include "snapshot/codec.h"

namespace hv {

class Serial16550 {
 public:
  // The PC's first serial port.
  static constexpr uint16_t kCom1Port = 0x3f8;
  static constexpr uint32_t kCom1Irq = 4;
  static constexpr size_t kRxFifoSize = 64;

  struct Options {
    uint16_t base_port = kCom1Port;
    // Each byte the guest transmits (outside loopback). Required.
    std::function<void(uint8_t)> output;
    // Called with the interrupt output's new level whenever it changes.
    // Optional: without it the UART works polled.
    std::function<void(bool)> set_irq;
  };

  // Serial16550::Create(): INVALID_ARGUMENT without an output or for a base
  // port whose eight registers pass 0xffff.
  static absl::StatusOr<std::unique_ptr<Serial16550>> Create(Options options);

  Serial16550(const Serial16550&) = delete;
  Serial16550& operator=(const Serial16550&) = delete;

  // Serial16550::HandlesPort(): whether `port` is one of the eight.
  bool HandlesPort(uint64_t port) const {
    return port >= base_port_ && port < uint64_t{base_port_} + 8;
  }

  // Serial16550::HandleIo(): one guest access to one of the eight ports
  // (multi-byte accesses touch the byte at the port only, as on the ISA
  // bus; the other bytes read as ones).
  void HandleIo(IoRequest& io);

  // Serial16550::QueueInput(): bytes from the host for the guest to read.
  void QueueInput(absl::string_view bytes);

  // Serial16550::overruns(): received bytes dropped because the FIFO was full.
  uint64_t overruns() const;

  // Serial16550::SaveState(): the registers, the divisor, the received
  // bytes not read yet and the overrun count, appended to `out` (a
  // versioned record; the interrupt line's level follows from them).
  void SaveState(snapshot::ByteWriter& out) const;
  // Serial16550::CheckState(): reads a record SaveState() wrote from `in`
  // and checks it, changing nothing: DATA_LOSS naming the field for bytes
  // that are short or impossible (reserved IER or MCR bits, more received
  // bytes than the FIFO holds), FAILED_PRECONDITION for another version.
  absl::Status CheckState(snapshot::ByteReader& in) const;
  // Serial16550::RestoreState(): as CheckState(), then makes the UART's
  // state the record's and drives the interrupt line (set_irq) to the
  // level it gives, whether or not it changed: a new VM's line starts low.
  // On an error nothing is changed.
  absl::Status RestoreState(snapshot::ByteReader& in);

 private:
  struct SavedState;
  explicit Serial16550(Options options);
  static absl::StatusOr<SavedState> ReadState(snapshot::ByteReader& in);

  uint8_t Read(uint8_t offset) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Write(uint8_t offset, uint8_t value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Receive(uint8_t byte) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // The highest-priority pending interrupt's IIR value (1: none).
  uint8_t PendingInterrupt() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  uint8_t ModemStatus() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // The interrupt output's level the registers give.
  bool IrqLevel() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Drives the interrupt output from the registers; calls set_irq on change.
  void UpdateIrq() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const uint16_t base_port_;
  const std::function<void(uint8_t)> output_;
  const std::function<void(bool)> set_irq_;

  mutable std::mutex mutex_;
  std::deque<uint8_t> rx_ ABSL_GUARDED_BY(mutex_);
  uint16_t divisor_ ABSL_GUARDED_BY(mutex_) = 12;  // 9600 baud
  uint8_t ier_ ABSL_GUARDED_BY(mutex_) = 0;
  uint8_t lcr_ ABSL_GUARDED_BY(mutex_) = 0;
  uint8_t mcr_ ABSL_GUARDED_BY(mutex_) = 0;
  uint8_t scratch_ ABSL_GUARDED_BY(mutex_) = 0;
  bool fifo_enabled_ ABSL_GUARDED_BY(mutex_) = false;
  // A transmitter-empty interrupt is pending: set when the transmitter
  // empties (always at once) or when it is enabled while empty; cleared by
  // reading IIR while it is the interrupt shown, or by writing THR.
  bool thre_pending_ ABSL_GUARDED_BY(mutex_) = false;
  bool overrun_ ABSL_GUARDED_BY(mutex_) = false;
  uint64_t overruns_ ABSL_GUARDED_BY(mutex_) = 0;
  bool irq_level_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace hv

#endif  // HV_DEVICES_SERIAL_16550_H_
