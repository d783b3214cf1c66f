#include "tools/hvrun/machine.h"

#include <algorithm>
#include <cstring>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/status_macros.h"

namespace hv {

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
  const MachineLayout& layout = MachineLayoutForTarget();
  if (o.vcpus == 0) return absl::InvalidArgumentError("machine: --vcpus must be at least 1");
  if (o.payload.empty()) return absl::InvalidArgumentError("machine: the payload is empty");
  const GuestAddress load = o.load_address.value_or(layout.default_load_address);
  const GuestAddress entry = o.entry.value_or(load);
  const GuestAddress ram_end = layout.ram_base + o.mem_size;
  if (load < layout.ram_base || load > ram_end || o.payload.size() > ram_end - load) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "machine: payload of %u bytes at %#x does not fit in %#x bytes of RAM at %#x",
        o.payload.size(), load, o.mem_size, layout.ram_base));
  }
  RETURN_IF_ERROR(machine_internal::CheckArchOptions(o, load));
  ASSIGN_OR_RETURN(std::unique_ptr<Hypervisor> hypervisor, CreateHypervisor(o.hypervisor));
  if (o.vcpus > hypervisor->MaxVcpus()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "machine: %u vCPUs requested, %s allows %u", o.vcpus, hypervisor->kind(),
        hypervisor->MaxVcpus()));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Vm> vm, hypervisor->CreateVm());
  ASSIGN_OR_RETURN(std::unique_ptr<MemoryRegion> ram,
                   MemoryRegion::CreateShared("hvrun-ram", o.mem_size));
  uint8_t* ram_data = ram->data();
  std::memcpy(ram_data + (load - layout.ram_base), o.payload.data(), o.payload.size());
  RETURN_IF_ERROR(vm->AddMemoryRegion(layout.ram_base, std::move(ram), {}).status());

  std::vector<std::unique_ptr<Vcpu>> vcpus;
  for (uint32_t i = 0; i < o.vcpus; ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<Vcpu> vcpu,
                     machine_internal::CreateArchVcpu(
                         *vm, i, o, entry, absl::MakeSpan(ram_data, o.mem_size)));
    vcpus.push_back(std::move(vcpu));
  }
  return std::unique_ptr<Machine>(new Machine(layout, std::move(hypervisor), std::move(vm),
                                              ram_data, std::move(vcpus)));
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

void Machine::HandleAccess(bool is_port, IoRequest& io, std::ostream& serial,
                           bool* ended) {
  const MachineLayout& l = layout_;
  if (is_port == l.console_is_port && io.address >= l.console_address &&
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
    uint64_t code = 0;
    std::memcpy(&code, io.data.data(), std::min<size_t>(io.data.size(), sizeof(code)));
    if (l.debug_exit_ends_run) {
      *ended = true;
      EndRun(RunResult{static_cast<int>(code), "debug exit"});
    } else {
      pending_exit_code_ = static_cast<int>(code);
    }
    return;
  }
  for (const IoHandler& handler : is_port ? port_handlers_ : mmio_handlers_) {
    if (handler(io)) return;
  }
  // Nothing here: reads float high, writes are dropped.
  if (!io.is_write) std::memset(io.data.data(), 0xff, io.data.size());
}

void Machine::RunVcpu(Vcpu& vcpu, std::ostream& serial) {
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
        handled = vcpu.HandleIo(
            [&](IoRequest& io) { HandleAccess(/*is_port=*/true, io, serial, &debug_exit); });
        break;
      case VcpuExitKind::kMmio:
        handled = vcpu.HandleMmio(
            [&](IoRequest& io) { HandleAccess(/*is_port=*/false, io, serial, &debug_exit); });
        break;
      case VcpuExitKind::kHlt:
        stop = true;
        break;
      case VcpuExitKind::kInterrupted:
        break;  // a kick: the loop condition decides
      case VcpuExitKind::kSystemEvent:
        switch (exit->system_event.kind) {
          case SystemEventKind::kShutdown:
            EndRun(RunResult{pending_exit_code_, "system off"});
            break;
          case SystemEventKind::kReset:
            EndRun(RunResult{pending_exit_code_, "system reset"});
            break;
          case SystemEventKind::kCrash:
            EndRun(absl::AbortedError(absl::StrFormat(
                "vCPU %u: the guest reported a crash (system event flags %#x)",
                vcpu.id(), exit->system_event.flags)));
            break;
          default:
            EndRun(RunResult{pending_exit_code_, "system event"});
            break;
        }
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
