// Machine: a small x86_64 VM that runs a flat binary: guest RAM at 0, the
// payload loaded at an address, N vCPUs started in a chosen mode, a serial
// port, a debug-exit port, and room for more port/MMIO devices (hvrun's
// demo adds a PCI bus with a virtio device).
//
// Guest-visible contract:
//   - RAM: [0, mem_size). hv writes its GDT and page tables at 0x1000
//     (six pages) in protected and long mode; keep payloads clear of it.
//   - Every vCPU starts at `entry` with its index in rdi (di in real mode)
//     and its own stack below the top of RAM (below 0x8000 in real mode).
//   - Port 0x3f8 (COM1 data) writes go to the serial output; reads of the
//     line status register 0x3fd say the transmitter is empty.
//   - Port 0xf4 (debug exit): a write ends the run with the written value
//     as the exit code.
//   - HLT stops that vCPU; the run ends when every vCPU has stopped (exit
//     code 0), at a debug exit, at a shutdown, or at the timeout.
//
// Example:
//   hv::MachineOptions options;
//   options.payload = bytes;
//   ASSIGN_OR_RETURN(auto machine, hv::Machine::Create(options));
//   ASSIGN_OR_RETURN(hv::RunResult result, machine->Run(std::cout));
#ifndef HV_TOOLS_HVRUN_MACHINE_H_
#define HV_TOOLS_HVRUN_MACHINE_H_

#include <atomic>
#include <cstdint>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/vm.h"
#include "hypervisor/x86_64/boot.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"
#include "tools/hvrun/exit_stats.h"

namespace hv {

inline constexpr uint16_t kSerialPort = 0x3f8;
inline constexpr uint16_t kDebugExitPort = 0xf4;
inline constexpr GuestAddress kBootTables = 0x1000;

struct MachineOptions {
  std::string hypervisor = "kvm";
  uint64_t mem_size = 64ull << 20;
  uint32_t vcpus = 1;
  X86Mode mode = X86Mode::kReal;
  GuestAddress load_address = 0x10000;
  GuestAddress entry = 0x10000;
  std::vector<uint8_t> payload;
};

struct RunResult {
  int exit_code = 0;
  std::string how;  // "debug exit", "all vCPUs halted", ...
};

// A device on the port or MMIO bus: returns false when the access is not
// its own.
using IoHandler = std::function<bool(IoRequest&)>;

class Machine {
 public:
  static absl::StatusOr<std::unique_ptr<Machine>> Create(
      const MachineOptions& options);
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;
  ~Machine();

  Vm& vm() { return *vm_; }
  uint8_t* ram() { return ram_; }

  // Machine::AddPortHandler() / AddMmioHandler(): before Run().
  void AddPortHandler(IoHandler handler) { port_handlers_.push_back(std::move(handler)); }
  void AddMmioHandler(IoHandler handler) { mmio_handlers_.push_back(std::move(handler)); }

  // Machine::Run(): runs every vCPU on its own thread until the run ends;
  // serial output goes to `serial`. DEADLINE_EXCEEDED after `timeout`.
  absl::StatusOr<RunResult> Run(std::ostream& serial,
                                absl::Duration timeout = absl::Seconds(30));

  const ExitStats& stats() const { return stats_; }

 private:
  Machine(std::unique_ptr<Hypervisor> hypervisor, std::unique_ptr<Vm> vm,
          uint8_t* ram, std::vector<std::unique_ptr<VcpuX86_64>> vcpus)
      : hypervisor_(std::move(hypervisor)),
        vm_(std::move(vm)),
        ram_(ram),
        vcpus_(std::move(vcpus)) {}

  // Runs one vCPU until it halts or the run ends; sets end_ when it ends
  // the run.
  void RunVcpu(VcpuX86_64& vcpu, std::ostream& serial);
  void HandlePort(IoRequest& io, std::ostream& serial, bool* debug_exit);
  void HandleMmio(IoRequest& io);
  void EndRun(absl::StatusOr<RunResult> result);
  void KickAll();

  const std::unique_ptr<Hypervisor> hypervisor_;
  const std::unique_ptr<Vm> vm_;
  uint8_t* const ram_;  // owned by vm_
  const std::vector<std::unique_ptr<VcpuX86_64>> vcpus_;
  std::vector<IoHandler> port_handlers_;
  std::vector<IoHandler> mmio_handlers_;
  ExitStats stats_;

  // std::mutex rather than absl::Mutex: Debian's Abseil is not built with
  // TSan, which then cannot see absl::Mutex's synchronisation.
  std::mutex mutex_;
  std::condition_variable ended_changed_;
  std::atomic<bool> ending_{false};
  bool ended_ ABSL_GUARDED_BY(mutex_) = false;
  absl::StatusOr<RunResult> result_ ABSL_GUARDED_BY(mutex_);
  std::mutex serial_mutex_;
};

// ParseMemorySize(): "64M", "2G", "4096K" or a byte count; must be a
// non-zero multiple of 4 KiB.
absl::StatusOr<uint64_t> ParseMemorySize(absl::string_view text);

}  // namespace hv

#endif  // HV_TOOLS_HVRUN_MACHINE_H_
