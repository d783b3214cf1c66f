#include "devices/serial_16550.h"

#include <cstring>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"

namespace hv {
namespace {

// Register offsets (PC16550D, Table II).
enum Register : uint8_t {
  kData = 0,  // RBR (read) / THR (write); DLL with LCR.DLAB
  kIer = 1,   // DLM with LCR.DLAB
  kIir = 2,   // IIR (read) / FCR (write)
  kLcr = 3,
  kMcr = 4,
  kLsr = 5,
  kMsr = 6,
  kScratch = 7,
};

constexpr uint8_t kIerReceivedData = 1 << 0;
constexpr uint8_t kIerTransmitterEmpty = 1 << 1;
constexpr uint8_t kIerLineStatus = 1 << 2;
constexpr uint8_t kIerMask = 0x0f;

// IIR values: bit 0 clear means an interrupt is pending, bits 3:1 say which.
constexpr uint8_t kIirNone = 0x01;
constexpr uint8_t kIirLineStatus = 0x06;
constexpr uint8_t kIirReceivedData = 0x04;
constexpr uint8_t kIirTransmitterEmpty = 0x02;
constexpr uint8_t kIirFifosEnabled = 0xc0;

constexpr uint8_t kFcrEnable = 1 << 0;
constexpr uint8_t kFcrClearReceiver = 1 << 1;

constexpr uint8_t kLcrDlab = 1 << 7;

constexpr uint8_t kMcrDtr = 1 << 0;
constexpr uint8_t kMcrRts = 1 << 1;
constexpr uint8_t kMcrOut1 = 1 << 2;
constexpr uint8_t kMcrOut2 = 1 << 3;
constexpr uint8_t kMcrLoopback = 1 << 4;
constexpr uint8_t kMcrMask = 0x1f;

constexpr uint8_t kLsrDataReady = 1 << 0;
constexpr uint8_t kLsrOverrun = 1 << 1;
constexpr uint8_t kLsrThrEmpty = 1 << 5;
constexpr uint8_t kLsrTransmitterEmpty = 1 << 6;

constexpr uint8_t kMsrCts = 1 << 4;
constexpr uint8_t kMsrDsr = 1 << 5;
constexpr uint8_t kMsrRi = 1 << 6;
constexpr uint8_t kMsrDcd = 1 << 7;

// SaveState's record: u32 version, u16 divisor, u8 IER, LCR, MCR, scratch,
// bool FIFOs enabled, THRE interrupt pending, overrun, u64 overruns, then
// the received bytes as a blob (at most kRxFifoSize).
constexpr uint32_t kStateVersion = 1;

}  // namespace

struct Serial16550::SavedState {
  uint16_t divisor = 0;
  uint8_t ier = 0, lcr = 0, mcr = 0, scratch = 0;
  bool fifo_enabled = false, thre_pending = false, overrun = false;
  uint64_t overruns = 0;
  std::deque<uint8_t> rx;
};

void Serial16550::SaveState(snapshot::ByteWriter& out) const {
  std::lock_guard<std::mutex> lock(mutex_);
  out.Put32(kStateVersion);
  out.Put16(divisor_);
  for (uint8_t reg : {ier_, lcr_, mcr_, scratch_}) out.Put8(reg);
  for (bool flag : {fifo_enabled_, thre_pending_, overrun_}) out.PutBool(flag);
  out.Put64(overruns_);
  const std::vector<uint8_t> rx(rx_.begin(), rx_.end());
  out.PutBlob(rx);
}

absl::StatusOr<Serial16550::SavedState> Serial16550::ReadState(
    snapshot::ByteReader& in) {
  RETURN_IF_ERROR(in.ExpectVersion(kStateVersion, "serial 16550 state"));
  SavedState s;
  ASSIGN_OR_RETURN(s.divisor, in.Get16("divisor"));
  ASSIGN_OR_RETURN(s.ier, in.Get8("IER"));
  ASSIGN_OR_RETURN(s.lcr, in.Get8("LCR"));
  ASSIGN_OR_RETURN(s.mcr, in.Get8("MCR"));
  ASSIGN_OR_RETURN(s.scratch, in.Get8("scratch"));
  ASSIGN_OR_RETURN(s.fifo_enabled, in.GetBool("FIFOs enabled"));
  ASSIGN_OR_RETURN(s.thre_pending, in.GetBool("THRE pending"));
  ASSIGN_OR_RETURN(s.overrun, in.GetBool("overrun"));
  ASSIGN_OR_RETURN(s.overruns, in.Get64("overruns"));
  ASSIGN_OR_RETURN(absl::Span<const uint8_t> rx, in.GetBlob("received bytes"));
  if ((s.ier & ~kIerMask) != 0 || (s.mcr & ~kMcrMask) != 0) {
    return absl::DataLossError(absl::StrFormat(
        "serial 16550 state: IER %#x or MCR %#x has reserved bits set", s.ier, s.mcr));
  }
  if (rx.size() > kRxFifoSize) {
    return absl::DataLossError(absl::StrFormat(
        "serial 16550 state: %u received bytes; the FIFO holds %u", rx.size(),
        kRxFifoSize));
  }
  s.rx.assign(rx.begin(), rx.end());
  return s;
}

absl::Status Serial16550::CheckState(snapshot::ByteReader& in) const {
  return ReadState(in).status();
}

absl::Status Serial16550::RestoreState(snapshot::ByteReader& in) {
  ASSIGN_OR_RETURN(SavedState s, ReadState(in));
  std::lock_guard<std::mutex> lock(mutex_);
  divisor_ = s.divisor;
  ier_ = s.ier;
  lcr_ = s.lcr;
  mcr_ = s.mcr;
  scratch_ = s.scratch;
  fifo_enabled_ = s.fifo_enabled;
  thre_pending_ = s.thre_pending;
  overrun_ = s.overrun;
  overruns_ = s.overruns;
  rx_ = std::move(s.rx);
  irq_level_ = IrqLevel();
  if (set_irq_) set_irq_(irq_level_);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Serial16550>> Serial16550::Create(
    Options options) {
  if (!options.output) {
    return absl::InvalidArgumentError("serial 16550: no output given");
  }
  if (options.base_port > 0xffff - 7) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "serial 16550: base port %#x leaves no room for 8 registers",
        options.base_port));
  }
  return std::unique_ptr<Serial16550>(new Serial16550(std::move(options)));
}

Serial16550::Serial16550(Options options)
    : base_port_(options.base_port),
      output_(std::move(options.output)),
      set_irq_(std::move(options.set_irq)) {}

void Serial16550::HandleIo(IoRequest& io) {
  if (io.data.empty()) return;
  if (!HandlesPort(io.address)) {
    if (!io.is_write) std::memset(io.data.data(), 0xff, io.data.size());
    return;
  }
  const uint8_t offset = static_cast<uint8_t>(io.address - base_port_);
  std::lock_guard<std::mutex> lock(mutex_);
  if (io.is_write) {
    Write(offset, io.data[0]);
  } else {
    std::memset(io.data.data(), 0xff, io.data.size());
    io.data[0] = Read(offset);
  }
  UpdateIrq();
}

void Serial16550::QueueInput(absl::string_view bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (char byte : bytes) Receive(static_cast<uint8_t>(byte));
  UpdateIrq();
}

uint64_t Serial16550::overruns() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return overruns_;
}

void Serial16550::Receive(uint8_t byte) {
  if (rx_.size() >= kRxFifoSize) {
    overrun_ = true;
    ++overruns_;
    return;
  }
  rx_.push_back(byte);
}

uint8_t Serial16550::Read(uint8_t offset) {
  const bool dlab = (lcr_ & kLcrDlab) != 0;
  switch (offset) {
    case kData: {
      if (dlab) return static_cast<uint8_t>(divisor_);
      if (rx_.empty()) return 0;
      const uint8_t byte = rx_.front();
      rx_.pop_front();
      return byte;
    }
    case kIer:
      return dlab ? static_cast<uint8_t>(divisor_ >> 8) : ier_;
    case kIir: {
      const uint8_t id = PendingInterrupt();
      // Reading IIR while it shows the transmitter-empty interrupt clears it.
      if (id == kIirTransmitterEmpty) thre_pending_ = false;
      return id | (fifo_enabled_ ? kIirFifosEnabled : 0);
    }
    case kLcr:
      return lcr_;
    case kMcr:
      return mcr_;
    case kLsr: {
      uint8_t lsr = kLsrThrEmpty | kLsrTransmitterEmpty;
      if (!rx_.empty()) lsr |= kLsrDataReady;
      if (overrun_) lsr |= kLsrOverrun;
      overrun_ = false;  // reading LSR clears the error bits
      return lsr;
    }
    case kMsr:
      return ModemStatus();
    case kScratch:
      return scratch_;
  }
  return 0xff;
}

void Serial16550::Write(uint8_t offset, uint8_t value) {
  const bool dlab = (lcr_ & kLcrDlab) != 0;
  switch (offset) {
    case kData:
      if (dlab) {
        divisor_ = static_cast<uint16_t>((divisor_ & 0xff00) | value);
        return;
      }
      if (mcr_ & kMcrLoopback) {
        Receive(value);
      } else {
        output_(value);
      }
      // The byte leaves at once, so the holding register is empty again.
      thre_pending_ = true;
      return;
    case kIer:
      if (dlab) {
        divisor_ = static_cast<uint16_t>((divisor_ & 0x00ff) | value << 8);
        return;
      }
      // Enabling the transmitter-empty interrupt while the holding register
      // is empty (always, here) raises it.
      if ((value & kIerTransmitterEmpty) && !(ier_ & kIerTransmitterEmpty)) {
        thre_pending_ = true;
      }
      ier_ = value & kIerMask;
      return;
    case kIir:  // FCR
      fifo_enabled_ = (value & kFcrEnable) != 0;
      if (value & kFcrClearReceiver) rx_.clear();
      return;
    case kLcr:
      lcr_ = value;
      return;
    case kMcr:
      mcr_ = value & kMcrMask;
      return;
    case kScratch:
      scratch_ = value;
      return;
    default:  // LSR and MSR are read-only
      return;
  }
}

uint8_t Serial16550::PendingInterrupt() const {
  if ((ier_ & kIerLineStatus) && overrun_) return kIirLineStatus;
  if ((ier_ & kIerReceivedData) && !rx_.empty()) return kIirReceivedData;
  if ((ier_ & kIerTransmitterEmpty) && thre_pending_) {
    return kIirTransmitterEmpty;
  }
  return kIirNone;
}

uint8_t Serial16550::ModemStatus() const {
  if (!(mcr_ & kMcrLoopback)) return kMsrCts | kMsrDsr | kMsrDcd;  // a cable
  // Loopback: the modem-control outputs drive the modem-status inputs.
  uint8_t msr = 0;
  if (mcr_ & kMcrRts) msr |= kMsrCts;
  if (mcr_ & kMcrDtr) msr |= kMsrDsr;
  if (mcr_ & kMcrOut1) msr |= kMsrRi;
  if (mcr_ & kMcrOut2) msr |= kMsrDcd;
  return msr;
}

bool Serial16550::IrqLevel() const {
  // On a PC, OUT2 gates the UART's interrupt onto the ISA bus; loopback
  // disconnects it.
  return PendingInterrupt() != kIirNone && (mcr_ & kMcrOut2) && !(mcr_ & kMcrLoopback);
}

void Serial16550::UpdateIrq() {
  const bool level = IrqLevel();
  if (level == irq_level_) return;
  irq_level_ = level;
  if (set_irq_) set_irq_(level);
}

}  // namespace hv
