#include "tools/hvrun/machine.h"

#include <cstring>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/vm_x86_64.h"

namespace hv {
namespace {

constexpr uint16_t kSerialLineStatus = kSerialPort + 5;
// Line status: transmitter holding register and shift register empty
// (16550 UART, LSR bits 5 and 6).
constexpr uint8_t kLineStatusIdle = 0x60;
constexpr uint64_t kRealModeStackTop = 0x8000;
constexpr uint64_t kStackPerVcpu = 0x10000;

}  // namespace

absl::StatusOr<uint64_t> ParseMemorySize(absl::string_view text) {
  uint64_t multiplier = 1;
  absl::string_view digits = text;
  if (!text.empty()) {
    switch (absl::ascii_toupper(text.back())) {
      case 'K': multiplier = 1ull << 10; break;
      case 'M': multiplier = 1ull << 20; break;
      case 'G': multiplier = 1ull << 30; break;
      default: break;
    }
    if (multiplier != 1) digits.remove_suffix(1);
  }
  uint64_t value = 0;
  if (!absl::SimpleAtoi(digits, &value) || value == 0 ||
      value > (1ull << 46) / multiplier || (value * multiplier) % 4096 != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "memory size \"%s\": expected a non-zero multiple of 4K such as 64M",
        text));
  }
  return value * multiplier;
}

absl::StatusOr<std::unique_ptr<Machine>> Machine::Create(
    const MachineOptions& o) {
  if (o.vcpus == 0) return absl::InvalidArgumentError("machine: --vcpus must be at least 1");
  if (o.payload.empty()) return absl::InvalidArgumentError("machine: the payload is empty");
  if (o.load_address > o.mem_size || o.payload.size() > o.mem_size - o.load_address) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "machine: payload of %u bytes at %#x does not fit in %#x bytes of RAM",
        o.payload.size(), o.load_address, o.mem_size));
  }
  if (o.mode != X86Mode::kReal && o.load_address < kBootTables + kX86BootTablesSize &&
      o.load_address + o.payload.size() > kBootTables) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "machine: payload at %#x overlaps hv's boot tables at [%#x, %#x)",
        o.load_address, kBootTables, kBootTables + kX86BootTablesSize));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Hypervisor> hypervisor, CreateHypervisor(o.hypervisor));
  if (o.vcpus > hypervisor->MaxVcpus()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "machine: %u vCPUs requested, %s allows %u", o.vcpus, hypervisor->kind(),
        hypervisor->MaxVcpus()));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Vm> vm, hypervisor->CreateVm());
  VmX86_64* vm86 = vm->AsX86_64();
  if (vm86 == nullptr) {
    return absl::UnimplementedError(absl::StrFormat(
        "machine: %s did not create an x86_64 VM", hypervisor->kind()));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<MemoryRegion> ram,
                   MemoryRegion::CreateShared("hvrun-ram", o.mem_size));
  uint8_t* ram_data = ram->data();
  std::memcpy(ram_data + o.load_address, o.payload.data(), o.payload.size());
  RETURN_IF_ERROR(vm->AddMemoryRegion(0, std::move(ram), {}).status());

  std::vector<std::unique_ptr<VcpuX86_64>> vcpus;
  for (uint32_t i = 0; i < o.vcpus; ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<VcpuX86_64> vcpu, vm86->CreateVcpuX86_64(i));
    X86BootOptions boot;
    boot.mode = o.mode;
    boot.entry = o.entry;
    boot.tables = kBootTables;
    boot.stack = o.mode == X86Mode::kReal ? kRealModeStackTop - i * 0x400
                                          : o.mem_size - i * kStackPerVcpu;
    RETURN_IF_ERROR(SetupX86Boot(*vcpu, absl::MakeSpan(ram_data, o.mem_size), 0, boot));
    ASSIGN_OR_RETURN(Regs regs, vcpu->GetRegs());
    regs.rdi = i;
    RETURN_IF_ERROR(vcpu->SetRegs(regs));
    vcpus.push_back(std::move(vcpu));
  }
  return std::unique_ptr<Machine>(
      new Machine(std::move(hypervisor), std::move(vm), ram_data, std::move(vcpus)));
}

Machine::~Machine() = default;

void Machine::KickAll() {
  for (const auto& vcpu : vcpus_) vcpu->Kick().IgnoreError();
}

void Machine::EndRun(absl::StatusOr<RunResult> result) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (ended_) return;
    ended_ = true;
    result_ = std::move(result);
  }
  ended_changed_.notify_all();
  ending_ = true;
  KickAll();
}

void Machine::HandlePort(IoRequest& io, std::ostream& serial, bool* debug_exit) {
  if (io.address == kSerialPort && io.is_write) {
    std::lock_guard<std::mutex> lock(serial_mutex_);
    serial.write(reinterpret_cast<const char*>(io.data.data()), 1);
    if (io.data[0] == '\n') serial.flush();
    return;
  }
  if (io.address == kSerialLineStatus && !io.is_write) {
    io.data[0] = kLineStatusIdle;
    return;
  }
  if (io.address >= kSerialPort && io.address < kSerialPort + 8) return;
  if (io.address == kDebugExitPort && io.is_write) {
    uint32_t code = 0;
    std::memcpy(&code, io.data.data(), std::min<size_t>(io.data.size(), 4));
    *debug_exit = true;
    EndRun(RunResult{static_cast<int>(code), "debug exit"});
    return;
  }
  for (const IoHandler& handler : port_handlers_) {
    if (handler(io)) return;
  }
  // Nothing here: reads float high, writes are dropped.
  if (!io.is_write) std::memset(io.data.data(), 0xff, io.data.size());
}

void Machine::HandleMmio(IoRequest& io) {
  for (const IoHandler& handler : mmio_handlers_) {
    if (handler(io)) return;
  }
  if (!io.is_write) std::memset(io.data.data(), 0xff, io.data.size());
}

void Machine::RunVcpu(VcpuX86_64& vcpu, std::ostream& serial) {
  while (!ending_) {
    absl::Time start = absl::Now();
    absl::StatusOr<VcpuExit> exit = vcpu.Run();
    absl::Time ran = absl::Now();
    if (!exit.ok()) {
      EndRun(absl::Status(exit.status().code(),
                          absl::StrFormat("vCPU %u: %s", vcpu.id(),
                                          exit.status().message())));
      return;
    }
    bool debug_exit = false;
    absl::Status handled = absl::OkStatus();
    bool stop = false;
    switch (exit->kind) {
      case VcpuExitKind::kIo:
        handled = vcpu.HandleIo([&](IoRequest& io) { HandlePort(io, serial, &debug_exit); });
        break;
      case VcpuExitKind::kMmio:
        handled = vcpu.HandleMmio([&](IoRequest& io) { HandleMmio(io); });
        break;
      case VcpuExitKind::kHlt:
        stop = true;
        break;
      case VcpuExitKind::kInterrupted:
        break;  // a kick: the loop condition decides
      case VcpuExitKind::kSystemEvent:
        EndRun(RunResult{0, "system event"});
        stop = true;
        break;
      default:
        EndRun(absl::InternalError(absl::StrFormat(
            "vCPU %u: unexpected %s exit (reason %u, code %#x)", vcpu.id(),
            VcpuExitKindName(exit->kind), exit->raw_reason, exit->code)));
        stop = true;
        break;
    }
    stats_.Record(exit->kind, ran - start, absl::Now() - ran);
    if (!handled.ok()) {
      EndRun(handled);
      return;
    }
    if (stop || debug_exit) return;
  }
}

absl::StatusOr<RunResult> Machine::Run(std::ostream& serial,
                                       absl::Duration timeout) {
  std::vector<std::thread> threads;
  for (const auto& vcpu : vcpus_) {
    threads.emplace_back([this, &vcpu, &serial] { RunVcpu(*vcpu, serial); });
  }
  // The watchdog ends the run at the timeout unless it has ended by then.
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(mutex_);
    bool ended = ended_changed_.wait_for(
        lock, absl::ToChronoNanoseconds(timeout), [this] { return ended_; });
    lock.unlock();
    if (!ended) {
      EndRun(absl::DeadlineExceededError(absl::StrFormat(
          "the guest did not finish within %s", absl::FormatDuration(timeout))));
    }
  });
  for (std::thread& t : threads) t.join();
  EndRun(RunResult{0, "all vCPUs halted"});  // no-op if the run ended already
  watchdog.join();
  serial.flush();
  std::lock_guard<std::mutex> lock(mutex_);
  return result_;
}

}  // namespace hv
