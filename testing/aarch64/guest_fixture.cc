#include "testing/aarch64/guest_fixture.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "absl/strings/str_format.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/status_macros.h"

namespace hv::testing {

absl::StatusOr<std::unique_ptr<AArch64Guest>> AArch64Guest::Create(
    Hypervisor& hypervisor, const AArch64GuestOptions& options) {
  std::unique_ptr<AArch64Guest> guest(new AArch64Guest);
  ASSIGN_OR_RETURN(guest->vm_, hypervisor.CreateVm());
  guest->arm_vm_ = guest->vm_->AsAArch64();
  if (guest->arm_vm_ == nullptr) {
    return absl::FailedPreconditionError(
        "AArch64Guest: the hypervisor's VM is not an aarch64 VM");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<MemoryRegion> ram,
                   MemoryRegion::CreateShared("a64-guest-ram", HV_A64_RAM_SIZE));
  absl::Span<const uint8_t> image = a64::Image();
  if (image.size() > HV_A64_CODE_MAX) {
    return absl::InternalError(absl::StrFormat(
        "AArch64Guest: the image is %u bytes, more than %u", image.size(),
        HV_A64_CODE_MAX));
  }
  std::memcpy(ram->data() + (HV_A64_CODE - HV_A64_RAM_BASE), image.data(),
              image.size());
  guest->ram_ = ram->data();
  ASSIGN_OR_RETURN(guest->ram_slot_,
                   guest->vm_->AddMemoryRegion(HV_A64_RAM_BASE, std::move(ram), {}));
  RETURN_IF_ERROR(
      guest->arm_vm_->InitArch(HV_A64_CODE, HV_A64_DTB, HV_A64_DTB_SIZE));
  if (options.gic) {
    GicConfig gic;
    gic.version = GicConfig::Version::kV3;
    gic.distributor_base = HV_A64_GICD_BASE;
    gic.redistributor_or_cpu_base = HV_A64_GICR_BASE;
    gic.num_irqs = options.gic_irqs;
    RETURN_IF_ERROR(guest->arm_vm_->CreateGic(gic));
    if (options.its) {
      RETURN_IF_ERROR(guest->arm_vm_->CreateGicIts(HV_A64_GITS_BASE));
    }
  }
  for (uint32_t i = 0; i < options.vcpus; ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<VcpuAArch64> vcpu,
                     guest->arm_vm_->CreateVcpuAArch64(i));
    RETURN_IF_ERROR(vcpu->Init(options.features));
    guest->vcpus_.push_back(std::move(vcpu));
  }
  if (options.gic) RETURN_IF_ERROR(guest->arm_vm_->FinalizeGic());
  return guest;
}

AArch64Guest::~AArch64Guest() { vcpus_.clear(); }

absl::Status AArch64Guest::Start(
    uint32_t index, a64::Routine routine,
    std::initializer_list<std::pair<uint32_t, uint64_t>> x) {
  if (index >= vcpus_.size()) {
    return absl::OutOfRangeError(
        absl::StrFormat("AArch64Guest::Start: no vCPU %u", index));
  }
  VcpuAArch64& cpu = *vcpus_[index];
  RETURN_IF_ERROR(
      cpu.SetOneReg(AArch64Reg::Pc(), HV_A64_CODE + a64::Offset(routine)));
  RETURN_IF_ERROR(
      cpu.SetOneReg(AArch64Reg::Pstate(), HV_A64_PSTATE_EL1H_MASKED));
  for (const auto& [n, value] : x) {
    RETURN_IF_ERROR(cpu.SetOneReg(AArch64Reg::X(n), value));
  }
  return absl::OkStatus();
}

namespace {

// Watchdog: kicks `vcpu` once `timeout` passes unless stopped first.
class Watchdog {
 public:
  Watchdog(Vcpu& vcpu, absl::Duration timeout)
      : thread_([this, &vcpu, timeout] {
          std::unique_lock<std::mutex> lock(mutex_);
          if (!stop_cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                                 [this] { return stopped_; })) {
            fired_ = true;
            // Kick until the run loop notices (a kick may land between
            // two runs and be consumed by an earlier exit).
            while (!stopped_) {
              vcpu.Kick().IgnoreError();
              stop_cv_.wait_for(lock, std::chrono::milliseconds(50),
                                [this] { return stopped_; });
            }
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopped_ = true;
    }
    stop_cv_.notify_all();
    thread_.join();
  }
  bool fired() {
    std::lock_guard<std::mutex> lock(mutex_);
    return fired_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable stop_cv_;
  bool stopped_ = false;
  bool fired_ = false;
  std::thread thread_;
};

}  // namespace

absl::StatusOr<GuestRun> AArch64Guest::Run(uint32_t index,
                                           const MmioHandler& handler,
                                           int max_exits,
                                           absl::Duration timeout) {
  if (index >= vcpus_.size()) {
    return absl::OutOfRangeError(
        absl::StrFormat("AArch64Guest::Run: no vCPU %u", index));
  }
  VcpuAArch64& cpu = *vcpus_[index];
  GuestRun run;
  Watchdog watchdog(cpu, timeout);
  for (int exits = 0; exits < max_exits; ++exits) {
    ASSIGN_OR_RETURN(run.last_exit, cpu.Run());
    const VcpuExit& exit = run.last_exit;
    if (exit.kind == VcpuExitKind::kInterrupted && watchdog.fired()) {
      uint64_t pc = 0;
      if (auto read = cpu.GetOneReg(AArch64Reg::Pc()); read.ok()) pc = *read;
      return absl::DeadlineExceededError(absl::StrFormat(
          "vCPU %u: no end within %s (pc %#x, %d reports, %d MMIO accesses)",
          index, absl::FormatDuration(timeout), pc, run.reports.size(),
          run.mmio.size()));
    }
    if (exit.kind == VcpuExitKind::kSystemEvent) {
      run.end = GuestRun::End::kSystemEvent;
      return run;
    }
    if (exit.kind != VcpuExitKind::kMmio) {
      run.end = GuestRun::End::kOtherExit;
      return run;
    }
    bool done = false;
    bool exception = false;
    uint64_t value = 0;
    RETURN_IF_ERROR(cpu.HandleMmio([&](IoRequest& io) {
      uint64_t written = 0;
      std::memcpy(&written, io.data.data(), std::min<size_t>(io.data.size(), 8));
      if (io.is_write && io.address == HV_A64_REPORT) {
        run.reports.push_back(written);
      } else if (io.is_write && io.address == HV_A64_DONE) {
        done = true;
        return;
      } else if (io.is_write && io.address == HV_A64_EXCEPTION) {
        exception = true;
        value = written;
        return;
      }
      const bool fixture_owned = io.address == HV_A64_REPORT;
      if (handler) handler(io);
      if (!fixture_owned) {
        GuestRun::Access access;
        access.address = io.address;
        access.is_write = io.is_write;
        access.size = static_cast<uint8_t>(io.data.size());
        std::memcpy(&access.value, io.data.data(),
                    std::min<size_t>(io.data.size(), 8));
        run.mmio.push_back(access);
      }
    }));
    if (exception) {
      return absl::InternalError(absl::StrFormat(
          "vCPU %u took an unexpected exception: ESR_EL1 %#x (EC %#x)", index,
          value, (value >> 26) & 0x3f));
    }
    if (done) {
      run.end = GuestRun::End::kDone;
      return run;
    }
  }
  return absl::DeadlineExceededError(absl::StrFormat(
      "vCPU %u: no DONE after %d exits (%d reports)", index, max_exits,
      run.reports.size()));
}

}  // namespace hv::testing
