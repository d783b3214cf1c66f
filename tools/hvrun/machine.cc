#include "tools/hvrun/machine.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/status_macros.h"
#include "tools/hvrun/host_limits.h"
#include "tools/hvrun/host_thread.h"

namespace hv {
namespace {

// hvrun's own ceiling on guest RAM (--mem).
constexpr uint64_t kMaxMemorySize = 64ull << 40;
// The longest a run waits for its timeout; longer ones wait this long.
constexpr absl::Duration kLongestTimeout = absl::Hours(24 * 365);
// VcpuExit::code of a kInternalError for an instruction the hypervisor could
// not emulate (KVM's KVM_INTERNAL_ERROR_EMULATION); other suberrors are
// reported by number.
constexpr uint64_t kInternalErrorEmulation = 1;

// The payload and entry fit in RAM, and the architecture accepts them.
absl::Status CheckPlacement(const MachineOptions& o, const MachineLayout& layout,
                            GuestAddress load, GuestAddress entry) {
  const GuestAddress ram_end = layout.ram_base + o.mem_size;
  if (load < layout.ram_base || load > ram_end || o.payload.size() > ram_end - load) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "machine: payload of %u bytes at %#x does not fit in %#x bytes of RAM at %#x",
        o.payload.size(), load, o.mem_size, layout.ram_base));
  }
  if (entry < layout.ram_base || entry >= ram_end) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "machine: entry %#x is outside RAM [%#x, %#x)", entry, layout.ram_base, ram_end));
  }
  return machine_internal::CheckArchOptions(o, load, entry);
}

}  // namespace

absl::StatusOr<uint64_t> ParseMemorySize(absl::string_view text) {
  uint64_t multiplier = 1;
  absl::string_view digits = text;
  if (!text.empty() && !absl::ascii_isdigit(text.back())) {
    switch (absl::ascii_toupper(text.back())) {
      case 'K': multiplier = 1ull << 10; break;
      case 'M': multiplier = 1ull << 20; break;
      case 'G': multiplier = 1ull << 30; break;
      case 'T': multiplier = 1ull << 40; break;
      default:
        return absl::InvalidArgumentError(absl::StrFormat(
            "memory size \"%s\": unknown suffix '%c'; expected K, M, G or T", text,
            text.back()));
    }
    digits.remove_suffix(1);
  }
  uint64_t value = 0;
  if (digits.empty() || !absl::c_all_of(digits, absl::ascii_isdigit) ||
      !absl::SimpleAtoi(digits, &value)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "memory size \"%s\": expected digits and an optional K, M, G or T, such as 64M",
        text));
  }
  if (value > kMaxMemorySize / multiplier) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "memory size \"%s\": larger than hvrun's limit of 64T", text));
  }
  if (value == 0 || (value * multiplier) % 4096 != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "memory size \"%s\": expected a non-zero multiple of 4K such as 64M", text));
  }
  return value * multiplier;
}

absl::StatusOr<std::unique_ptr<Machine>> Machine::Create(
    MachineOptions options) {
  const MachineOptions& o = options;
  const MachineLayout& layout = MachineLayoutForTarget();
  if (o.vcpus == 0) return absl::InvalidArgumentError("machine: --vcpus must be at least 1");
  if (o.payload.empty() && !o.state_from_snapshot) {
    return absl::InvalidArgumentError("machine: the payload is empty");
  }
  if (o.linux_boot.has_value()) return CreateLinux(o);
  const GuestAddress load = o.load_address.value_or(layout.default_load_address);
  const GuestAddress entry = o.entry.value_or(load);
  // A machine restored from a snapshot gets its RAM and registers from it:
  // the boot state set below is only the vCPUs' configuration before that.
  if (!o.state_from_snapshot) RETURN_IF_ERROR(CheckPlacement(o, layout, load, entry));
  ASSIGN_OR_RETURN(std::unique_ptr<Hypervisor> hypervisor,
                   machine_internal::OpenHypervisor(o));
  ASSIGN_OR_RETURN(std::unique_ptr<Vm> vm, hypervisor->CreateVm());
  ASSIGN_OR_RETURN(std::unique_ptr<MemoryRegion> ram,
                   MemoryRegion::CreateShared("hvrun-ram", o.mem_size));
  uint8_t* ram_data = ram->data();
  if (!o.state_from_snapshot) {
    std::memcpy(ram_data + (load - layout.ram_base), o.payload.data(), o.payload.size());
  }
  RETURN_IF_ERROR(vm->AddMemoryRegion(layout.ram_base, std::move(ram), {}).status());

  std::vector<std::unique_ptr<Vcpu>> vcpus;
  for (uint32_t i = 0; i < o.vcpus; ++i) {
    absl::StatusOr<std::unique_ptr<Vcpu>> vcpu = machine_internal::CreateArchVcpu(
        *vm, i, o, entry, absl::MakeSpan(ram_data, o.mem_size));
    if (!vcpu.ok()) return machine_internal::VcpuCreationError(vcpu.status(), i, o.vcpus);
    vcpus.push_back(*std::move(vcpu));
  }
  std::unique_ptr<Machine> machine(new Machine(layout, o, std::move(hypervisor), std::move(vm),
                                               ram_data, std::move(vcpus)));
  machine->ram_size_ = o.mem_size;
  machine->ram_ranges_ = {{layout.ram_base, absl::MakeSpan(ram_data, o.mem_size)}};
  return machine;
}

Machine::~Machine() = default;

namespace machine_internal {

absl::StatusOr<std::unique_ptr<Hypervisor>> OpenHypervisor(const MachineOptions& o) {
  ASSIGN_OR_RETURN(std::unique_ptr<Hypervisor> hypervisor, CreateHypervisor(o.hypervisor));
  if (o.vcpus > hypervisor->MaxVcpus()) {
    return absl::OutOfRangeError(absl::StrFormat(
        "machine: %u vCPUs requested; the %s hypervisor's limit is %u vCPUs per VM "
        "(as it reports it)",
        o.vcpus, hypervisor->kind(), hypervisor->MaxVcpus()));
  }
  RETURN_IF_ERROR(CheckFdRoomForVcpus(o.vcpus));
  return hypervisor;
}

absl::Status VcpuCreationError(const absl::Status& status, uint32_t index, uint32_t count) {
  return absl::Status(status.code(), absl::StrFormat("creating vCPU %u of %u: %s", index,
                                                     count, status.message()));
}

absl::Status LinuxBootError(const absl::Status& status, absl::string_view what) {
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrFormat("linux boot: %s: %s", what, status.message()));
}

}  // namespace machine_internal

absl::Status Machine::AddPciDevice(uint8_t slot, virtio::PciDevice* device) {
  if (!add_pci_device_) {
    return absl::FailedPreconditionError(
        "machine: only Linux guests have a PCI bus of the machine's own");
  }
  return add_pci_device_(slot, device);
}

absl::Status Machine::AddDeviceState(DeviceState state) {
  if (state.index == kMachineStateIndex || !state.save || !state.check || !state.restore) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "machine: device state \"%s\": index %u (must be 1 or more) or a missing "
        "function",
        state.name, state.index));
  }
  for (const DeviceState& other : device_states_) {
    if (other.index == state.index) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "machine: device state \"%s\": index %u is \"%s\"'s", state.name, state.index,
          other.name));
    }
  }
  device_states_.push_back(std::move(state));
  return absl::OkStatus();
}

void Machine::QueueConsoleInput(absl::string_view bytes) {
  if (console_input_) console_input_(bytes);
}

RunResult RunInterrupter::Request(int signal) const {
  if (for_snapshot_) return RunResult{RunEnd::kSnapshot, 0, signal, "stopped for a snapshot"};
  return RunResult{RunEnd::kInterrupted, 0, signal, "interrupted"};
}

void RunInterrupter::Interrupt(int signal) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (signal_ == 0) signal_ = signal;
  if (machine_ != nullptr) machine_->EndRun(Request(signal_));
}

void RunInterrupter::StopForSnapshot(int signal) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (signal_ == 0) {
    signal_ = signal;
    for_snapshot_ = true;
  }
  if (machine_ != nullptr) machine_->EndRun(Request(signal_));
}

int RunInterrupter::signal() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return signal_;
}

void RunInterrupter::Attach(Machine* machine) {
  std::lock_guard<std::mutex> lock(mutex_);
  machine_ = machine;
  if (signal_ != 0) machine_->EndRun(Request(signal_));
}

void RunInterrupter::Detach() {
  std::lock_guard<std::mutex> lock(mutex_);
  machine_ = nullptr;
}

absl::Status Machine::SetHaltedVcpus(const std::vector<bool>& halted) {
  if (halted.size() != vcpus_.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "machine: halted states for %u vCPUs given to a machine of %u", halted.size(),
        vcpus_.size()));
  }
  halted_.assign(halted.begin(), halted.end());
  return absl::OkStatus();
}

void Machine::CountExit() {
  const uint64_t count = ++exits_handled_;
  if (stop_after_exits_ != 0 && count == stop_after_exits_) {
    EndRun(RunResult{RunEnd::kSnapshot, 0, 0,
                     absl::StrFormat("stopped for a snapshot after %u VM exits", count)});
  }
}

void Machine::KickAll() {
  for (const auto& vcpu : vcpus_) vcpu->Kick().IgnoreError();
}

void Machine::EndRun(RunResult result) {
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

void Machine::EndWithGuestFault(Vcpu& vcpu, absl::string_view what) {
  EndRun(RunResult{RunEnd::kGuestFault, 0, 0,
                   absl::StrFormat("%s on vCPU %u; registers as the hypervisor reports "
                                   "them after it: %s",
                                   what, vcpu.id(),
                                   machine_internal::DescribeVcpuRegisters(vcpu))});
}

void Machine::HandleAccess(bool is_port, IoRequest& io, std::ostream& serial,
                           bool* ended) {
  const MachineLayout& l = layout_;
  if (!linux_guest_ && is_port == l.console_is_port && io.address >= l.console_address &&
      io.address < l.console_address + l.console_size) {
    if (io.address == l.console_address && io.is_write) {
      std::lock_guard<std::mutex> lock(serial_mutex_);
      serial.write(reinterpret_cast<const char*>(io.data.data()), 1);
      if (io.data[0] == '\n') serial.flush();
    } else if (io.address == l.console_status_address && !io.is_write) {
      io.data[0] = l.console_status_value;
    }
    return;  // the console's other registers: writes dropped, reads 0
  }
  if (is_port == l.debug_exit_is_port && io.address == l.debug_exit_address &&
      io.is_write) {
    uint64_t value = 0;
    std::memcpy(&value, io.data.data(), std::min<size_t>(io.data.size(), sizeof(value)));
    if (l.debug_exit_ends_run) {
      *ended = true;
      EndRun(RunResult{RunEnd::kDebugExit, value, 0, "debug exit"});
    } else {
      pending_exit_value_ = value;
      has_pending_exit_value_ = true;
    }
    return;
  }
  for (const IoHandler& handler : is_port ? port_handlers_ : mmio_handlers_) {
    if (handler(io)) return;
  }
  // Nothing here: reads float high, writes are dropped.
  if (!io.is_write) std::memset(io.data.data(), 0xff, io.data.size());
}

ExitStats Machine::stats() const {
  ExitStats all;
  for (const ExitStats& one : vcpu_stats_) all.Add(one);
  return all;
}

void Machine::RunVcpu(size_t index, std::ostream& serial) {
  Vcpu& vcpu = *vcpus_[index];
  ExitStats& stats = vcpu_stats_[index];
  // With time_exits, two clock reads per exit (the end of one handling
  // starts the next run), from the steady clock: absl::Now() costs ~40 ns a
  // read here, a third of what hvrun adds to an exit (tools/vs_qemu).
  using Clock = std::chrono::steady_clock;
  const bool timed = time_exits_;
  Clock::time_point start = timed ? Clock::now() : Clock::time_point();
  while (!ending_ && !halted_[index]) {
    absl::StatusOr<VcpuExit> exit = vcpu.Run();
    const Clock::time_point ran = timed ? Clock::now() : Clock::time_point();
    if (!exit.ok()) {
      EndRun(RunResult{RunEnd::kHostError, 0, 0,
                       absl::StrFormat("vCPU %u: %s", vcpu.id(), exit.status().message())});
      return;
    }
    bool debug_exit = false;
    absl::Status handled = absl::OkStatus();
    bool stop = false;
    switch (exit->kind) {
      case VcpuExitKind::kIo:
        handled = vcpu.HandleIo(
            [&](IoRequest& io) { HandleAccess(/*is_port=*/true, io, serial, &debug_exit); });
        break;
      case VcpuExitKind::kMmio:
        handled = vcpu.HandleMmio(
            [&](IoRequest& io) { HandleAccess(/*is_port=*/false, io, serial, &debug_exit); });
        break;
      case VcpuExitKind::kHlt:
        halted_[index] = 1;
        stop = true;
        break;
      case VcpuExitKind::kInterrupted:
        break;  // a kick: the loop condition decides
      case VcpuExitKind::kSystemEvent: {
        const bool off = exit->system_event.kind == SystemEventKind::kShutdown;
        if (exit->system_event.kind == SystemEventKind::kCrash) {
          EndWithGuestFault(vcpu, absl::StrFormat("guest reported a crash (system event "
                                                  "flags %#x)",
                                                  exit->system_event.flags));
        } else if (has_pending_exit_value_) {
          EndRun(RunResult{RunEnd::kDebugExit, pending_exit_value_, 0,
                           off ? "system off" : "system event"});
        } else {
          EndRun(RunResult{RunEnd::kSystemOff, 0, 0, off ? "system off" : "system event"});
        }
        stop = true;
        break;
      }
      case VcpuExitKind::kShutdown:
        if (linux_guest_) {
          EndRun(RunResult{RunEnd::kReset, 0, 0,
                           absl::StrFormat("the guest reset the machine (triple fault on "
                                           "vCPU %u; its registers after it: %s)",
                                           vcpu.id(),
                                           machine_internal::DescribeVcpuRegisters(vcpu))});
          stop = true;
          break;
        }
        EndRun(RunResult{RunEnd::kGuestFault, 0, 0,
                         absl::StrFormat("guest triple-faulted (shutdown) on vCPU %u; "
                                         "registers as the hypervisor reports them "
                                         "after the shutdown: %s",
                                         vcpu.id(),
                                         machine_internal::DescribeVcpuRegisters(vcpu))});
        stop = true;
        break;
      case VcpuExitKind::kInternalError:
        EndWithGuestFault(
            vcpu, exit->code == kInternalErrorEmulation
                      ? absl::StrFormat("guest hit an emulation failure (hypervisor "
                                        "internal error, suberror %u)",
                                        exit->code)
                      : absl::StrFormat("hypervisor internal error (suberror %u)",
                                        exit->code));
        stop = true;
        break;
      case VcpuExitKind::kFailEntry:
        EndWithGuestFault(vcpu, absl::StrFormat("the hypervisor could not enter the guest "
                                                "(hardware entry failure reason %#x)",
                                                exit->code));
        stop = true;
        break;
      default:
        EndWithGuestFault(vcpu, absl::StrFormat("unexpected %s exit (reason %u, code %#x)",
                                                VcpuExitKindName(exit->kind),
                                                exit->raw_reason, exit->code));
        stop = true;
        break;
    }
    if (timed) {
      const Clock::time_point handled_at = Clock::now();
      stats.Record(exit->kind, absl::FromChrono(ran - start),
                   absl::FromChrono(handled_at - ran));
      start = handled_at;
    } else {
      stats.Count(exit->kind);
    }
    if (!handled.ok()) {
      EndRun(RunResult{RunEnd::kHostError, 0, 0,
                       absl::StrFormat("vCPU %u: %s", vcpu.id(), handled.message())});
      return;
    }
    if (exit->kind != VcpuExitKind::kInterrupted) CountExit();
    if (stop || debug_exit) return;
  }
}

void Machine::WriteConsoleByte(uint8_t byte) {
  std::lock_guard<std::mutex> lock(serial_mutex_);
  std::ostream* console = console_;
  if (console == nullptr) return;
  console->put(static_cast<char>(byte));
  if (byte == '\n') console->flush();
}

RunResult Machine::Run(std::ostream& serial, absl::Duration timeout,
                       RunInterrupter* interrupter) {
  console_ = &serial;
  if (interrupter != nullptr) interrupter->Attach(this);
  // When the host cannot start a thread (RLIMIT_NPROC, memory) the run ends
  // as a host error; the threads already started are kicked and joined.
  std::vector<std::thread> threads;
  for (size_t i = 0; i < vcpus_.size(); ++i) {
    absl::StatusOr<std::thread> thread =
        StartThread(absl::StrFormat("a thread for vCPU %u of %u", i, vcpus_.size()),
                    [this, i, &serial] { RunVcpu(i, serial); });
    if (!thread.ok()) {
      EndRun(RunResult{RunEnd::kHostError, 0, 0, std::string(thread.status().message())});
      break;
    }
    threads.push_back(*std::move(thread));
  }
  // The watchdog ends the run at the timeout unless it has ended by then.
  const bool forever = timeout == absl::InfiniteDuration();
  const absl::Duration wait = std::min(timeout, kLongestTimeout);
  absl::StatusOr<std::thread> watchdog = StartThread("the timeout thread", [&] {
    std::unique_lock<std::mutex> lock(mutex_);
    if (forever) {
      ended_changed_.wait(lock, [this] { return ended_; });
      return;
    }
    bool ended = ended_changed_.wait_for(lock, absl::ToChronoNanoseconds(wait),
                                         [this] { return ended_; });
    lock.unlock();
    if (!ended) {
      EndRun(RunResult{RunEnd::kTimeout, 0, 0,
                       absl::StrFormat("the guest did not finish within %s",
                                       absl::FormatDuration(timeout))});
    }
  });
  if (!watchdog.ok()) {
    EndRun(RunResult{RunEnd::kHostError, 0, 0, std::string(watchdog.status().message())});
  }
  for (std::thread& t : threads) t.join();
  EndRun(RunResult{RunEnd::kHalted, 0, 0, "all vCPUs halted"});  // no-op if it ended
  if (watchdog.ok()) watchdog->join();
  if (interrupter != nullptr) interrupter->Detach();
  {
    std::lock_guard<std::mutex> lock(serial_mutex_);
    console_ = nullptr;
    serial.flush();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  RunResult result = result_;
  // Every vCPU thread has been joined: their registers hold still.
  if (result.end == RunEnd::kTimeout) result.vcpu_states = DescribeVcpus();
  return result;
}

std::vector<std::string> Machine::DescribeVcpus() {
  std::vector<std::string> lines;
  for (size_t i = 0; i < vcpus_.size(); ++i) {
    Vcpu& vcpu = *vcpus_[i];
    absl::StatusOr<MpState> mp = vcpu.GetMpState();
    const uint64_t exits = vcpu_stats_[i].Total();
    lines.push_back(absl::StrFormat(
        "vCPU %u: %u exit%s, MP state %s; %s", vcpu.id(), exits, exits == 1 ? "" : "s",
        mp.ok() ? MpStateName(*mp) : "unknown",
        machine_internal::DescribeVcpuRegisters(vcpu)));
  }
  return lines;
}

}  // namespace hv
