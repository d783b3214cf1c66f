#include "testing/guest_fixture.h"

#include <atomic>
#include <cstring>
#include <thread>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/notification.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/boot.h"
#include "hypervisor/x86_64/vm_x86_64.h"

namespace hv::testing {

const char* GuestModeName(GuestMode mode) {
  switch (mode) {
    case GuestMode::kReal: return "real";
    case GuestMode::kLong: return "long";
    case GuestMode::kLongUser: return "long-user";
  }
  return "unknown";
}

uint64_t GuestAccess::Value() const {
  uint64_t value = 0;
  for (size_t i = 0; i < data.size() && i < 8; ++i) {
    value |= static_cast<uint64_t>(data[i]) << (8 * i);
  }
  return value;
}

absl::StatusOr<std::unique_ptr<GuestFixture>> GuestFixture::Create(Vm& vm) {
  VmX86_64* vm86 = vm.AsX86_64();
  if (vm86 == nullptr) {
    return absl::UnimplementedError(
        "guest fixture: the guest programs are x86_64; this VM is not");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<MemoryRegion> ram,
                   MemoryRegion::CreateShared("hv-guest-ram", HV_GUEST_RAM_SIZE));
  const absl::Span<uint8_t> view(ram->data(), ram->size());
  ASSIGN_OR_RETURN(MemSlot slot, vm.AddMemoryRegion(0, std::move(ram), {}));
  ASSIGN_OR_RETURN(std::unique_ptr<VcpuX86_64> vcpu, vm86->CreateVcpuX86_64(0));
  return std::unique_ptr<GuestFixture>(
      new GuestFixture(std::move(vcpu), view, slot));
}

absl::Status GuestFixture::Load(const GuestProgram& program, GuestMode mode,
                                const std::function<void(Regs&)>& set_args) {
  if (program.bytes.size() > HV_GUEST_CODE_MAX) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "guest program %s is %d bytes; at most %d fit", program.name,
        program.bytes.size(), HV_GUEST_CODE_MAX));
  }
  std::memcpy(ram_.data() + HV_GUEST_CODE, program.bytes.data(),
              program.bytes.size());
  X86BootOptions boot;
  boot.entry = HV_GUEST_CODE;
  boot.tables = HV_GUEST_TABLES;
  switch (mode) {
    case GuestMode::kReal:
      boot.mode = X86Mode::kReal;
      boot.stack = HV_GUEST_REAL_STACK_TOP;
      break;
    case GuestMode::kLong:
    case GuestMode::kLongUser:
      boot.mode = X86Mode::kLong;
      boot.stack = HV_GUEST_STACK_TOP;
      boot.user_mode = mode == GuestMode::kLongUser;
      break;
  }
  RETURN_IF_ERROR(SetupX86Boot(*vcpu_, ram_, 0, boot));
  if (set_args) {
    ASSIGN_OR_RETURN(Regs regs, vcpu_->GetRegs());
    set_args(regs);
    RETURN_IF_ERROR(vcpu_->SetRegs(regs));
  }
  program_ = program;
  mode_ = mode;
  return absl::OkStatus();
}

absl::Status GuestFixture::Failure(absl::string_view what) {
  std::string where = "rip unknown";
  absl::StatusOr<Regs> regs = vcpu_->GetRegs();
  if (regs.ok()) where = absl::StrFormat("rip=%#x", regs->rip);
  return absl::FailedPreconditionError(absl::StrFormat(
      "guest program %s (%s mode) %s; %s", program_.name, GuestModeName(mode_),
      what, where));
}

absl::Status GuestFixture::HandleAccesses(const VcpuExit& exit,
                                          const GuestRunOptions& options,
                                          GuestRunResult& result, bool* done) {
  const bool mmio = exit.kind == VcpuExitKind::kMmio;
  absl::Status error;
  auto handler = [&](IoRequest& request) {
    if (!mmio && request.is_write) {
      GuestAccess port_write{false, true, request.address,
                             {request.data.begin(), request.data.end()}, exit};
      switch (request.address) {
        case HV_GUEST_REPORT_PORT:
          result.reports.push_back(port_write.Value());
          return;
        case HV_GUEST_REPORT_HIGH_PORT:
          if (result.reports.empty()) {
            error = absl::InternalError("report-high write with no report");
          } else {
            result.reports.back() |= port_write.Value() << 32;
          }
          return;
        case HV_GUEST_DONE_PORT:
          *done = true;
          return;
      }
    }
    if (!request.is_write) {
      if (!options.on_read) {
        error = absl::FailedPreconditionError(absl::StrFormat(
            "unexpected %d-byte %s read at %#x", request.data.size(),
            mmio ? "MMIO" : "port", request.address));
        return;
      }
      options.on_read(mmio, request);
    } else if (options.on_write) {
      options.on_write(mmio, request);
    }
    result.accesses.push_back(GuestAccess{
        mmio, request.is_write, request.address,
        {request.data.begin(), request.data.end()}, exit});
  };
  RETURN_IF_ERROR(mmio ? vcpu_->HandleMmio(handler) : vcpu_->HandleIo(handler));
  if (!error.ok()) return Failure(error.message());
  return absl::OkStatus();
}

absl::StatusOr<GuestRunResult> GuestFixture::Run(
    const GuestRunOptions& options) {
  // A watchdog kicks the vCPU if the program does not end in time.
  absl::Notification finished;
  std::atomic<bool> timed_out{false};
  std::thread watchdog([&] {
    if (!finished.WaitForNotificationWithTimeout(options.timeout)) {
      timed_out = true;
      (void)vcpu_->Kick();
    }
  });
  absl::Cleanup stop_watchdog = [&] {
    finished.Notify();
    watchdog.join();
  };

  GuestRunResult result;
  for (;;) {
    absl::StatusOr<VcpuExit> exit = vcpu_->Run();
    if (!exit.ok()) return Failure(exit.status().ToString());
    ++result.exit_count;
    result.exit = *exit;
    if (options.until.has_value() && exit->kind == *options.until) {
      return result;
    }
    if (exit->kind == VcpuExitKind::kIo || exit->kind == VcpuExitKind::kMmio) {
      bool done = false;
      RETURN_IF_ERROR(HandleAccesses(*exit, options, result, &done));
      if (done) return result;
      continue;
    }
    if ((exit->kind == VcpuExitKind::kRdMsr ||
         exit->kind == VcpuExitKind::kWrMsr) &&
        options.on_msr) {
      RETURN_IF_ERROR(vcpu_->HandleMsr([&](MsrRequest& request) {
        options.on_msr(request);
        result.msrs.push_back(request);
      }));
      continue;
    }
    if (exit->kind == VcpuExitKind::kInterrupted && timed_out) {
      return absl::DeadlineExceededError(absl::StrFormat(
          "%s", Failure(absl::StrFormat("did not finish within %s",
                                        absl::FormatDuration(options.timeout)))
                    .message()));
    }
    return Failure(absl::StrFormat(
        "stopped with exit %s (raw reason %u, code %#x) after %d exits",
        VcpuExitKindName(exit->kind), exit->raw_reason, exit->code,
        result.exit_count));
  }
}

}  // namespace hv::testing
