// KvmVmAArch64: vCPU creation (with the VM's preferred vCPU target), the
// vGIC (v2 or v3, a KVM device), SPIs through KVM_IRQ_LINE and irqfds, and
// the VM-wide counter offset.
#include "hypervisor/kvm/kvm_vm_aarch64.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"
#include "hypervisor/kvm/kvm_abi_aarch64.h"
#include "hypervisor/kvm/kvm_ioctl.h"
#include "hypervisor/kvm/kvm_vcpu_aarch64.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vm_checks.h"

namespace hv {
namespace {

const char* GicName(GicConfig::Version version) {
  return version == GicConfig::Version::kV3 ? "vGICv3" : "vGICv2";
}

uint32_t GicDeviceType(GicConfig::Version version) {
  return version == GicConfig::Version::kV3 ? KVM_DEV_TYPE_ARM_VGIC_V3
                                            : KVM_DEV_TYPE_ARM_VGIC_V2;
}

// The private interrupts (SGIs and PPIs) come before the first SPI.
constexpr uint32_t kPrivateIrqs = 32;

}  // namespace

std::unique_ptr<Vm> NewKvmVm(std::shared_ptr<const KvmDevice> device,
                             KvmVmFd vm) {
  return std::unique_ptr<Vm>(
      new KvmVmAArch64(std::move(device), std::move(vm)));
}

absl::StatusOr<std::unique_ptr<VcpuAArch64>> KvmVmAArch64::CreateVcpuAArch64(
    uint32_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  // The target KVM_ARM_VCPU_INIT wants: whatever this host's KVM prefers
  // (api.rst recommends asking rather than naming a CPU model).
  kvm_vcpu_init preferred = {};
  RETURN_IF_ERROR(KvmIoctl(sys_, vm_fd_.get(), KVM_ARM_PREFERRED_TARGET,
                           &preferred, "KVM_ARM_PREFERRED_TARGET"));
  ASSIGN_OR_RETURN(
      std::unique_ptr<KvmVcpuAArch64> vcpu,
      KvmVcpuAArch64::Create(device_, vm_fd_.get(), id, preferred.target));
  ++vcpus_created_;
  return std::unique_ptr<VcpuAArch64>(std::move(vcpu));
}

bool KvmVmAArch64::SupportsGic(GicConfig::Version version) const {
  // KVM_CREATE_DEVICE_TEST asks without creating anything.
  kvm_create_device test = {};
  test.type = GicDeviceType(version);
  test.flags = KVM_CREATE_DEVICE_TEST;
  return sys_->IoctlPtr(vm_fd_.get(), KVM_CREATE_DEVICE, &test) == 0;
}

absl::Status KvmVmAArch64::CreateGic(const GicConfig& config) {
  std::lock_guard<std::mutex> lock(mutex_);
  const bool v3 = config.version == GicConfig::Version::kV3;
  const char* name = GicName(config.version);
  if (gic_config_.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("create %s: the VM already has a GIC", name));
  }
  if (vcpus_created_ > 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "create %s: must come before the first vCPU is created (%u exist)",
        name, vcpus_created_));
  }
  if (config.num_irqs % 32 != 0 || config.num_irqs < 64 ||
      config.num_irqs > 1024) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "create %s: %u interrupts; KVM takes a multiple of 32 in 64..1024",
        name, config.num_irqs));
  }
  // Distributor and redistributors are 64 KiB frames (v3); the v2
  // distributor and CPU interface are 4 KiB aligned (arm-vgic*.rst).
  const uint64_t align = v3 ? 0x10000 : 0x1000;
  for (GuestAddress base :
       {config.distributor_base, config.redistributor_or_cpu_base}) {
    if (base % align != 0 || base >= device_->guest_address_limit) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "create %s: base %#x must be %#x-aligned and below the guest "
          "address limit %#x",
          name, base, align, device_->guest_address_limit));
    }
  }
  // The frames must stay clear of memory (KVM does not check: the guest
  // would reach the memory, not the GIC). The redistributors' span grows
  // with the vCPUs; FinalizeGic checks it again.
  RETURN_IF_ERROR(CheckFramesClearOfRegions(
      absl::StrFormat("create %s", name),
      GicFrames(config, /*vcpus=*/0, /*its_base=*/std::nullopt),
      RegionsLocked()));
  kvm_create_device create = {};
  create.type = GicDeviceType(config.version);
  if (sys_->IoctlPtr(vm_fd_.get(), KVM_CREATE_DEVICE, &create) < 0) {
    const int error = errno;
    if (error == ENODEV) {
      return absl::UnimplementedError(absl::StrFormat(
          "create %s: this KVM does not offer it (KVM_CREATE_DEVICE: %s)",
          name, std::strerror(error)));
    }
    return ErrnoStatus(absl::StrFormat("KVM_CREATE_DEVICE (%s)", name), error);
  }
  // From here the VM has a GIC: KVM cannot take a device back, so even if
  // a step below fails the GIC stays recorded (and a second CreateGic is
  // refused) while the call reports what failed.
  gic_fd_ = KvmFd(sys_, static_cast<int>(create.fd));
  gic_config_ = config;
  auto set_attr = [&](uint32_t group, uint64_t attr, const void* value,
                      const char* what) {
    return KvmSetDeviceAttr(
        sys_, gic_fd_.get(), group, attr, value,
        absl::StrFormat("KVM_SET_DEVICE_ATTR (%s %s)", name, what));
  };
  const uint64_t dist = config.distributor_base;
  const uint64_t second = config.redistributor_or_cpu_base;
  RETURN_IF_ERROR(set_attr(
      KVM_DEV_ARM_VGIC_GRP_ADDR,
      v3 ? KVM_VGIC_V3_ADDR_TYPE_DIST : KVM_VGIC_V2_ADDR_TYPE_DIST, &dist,
      "distributor address"));
  RETURN_IF_ERROR(set_attr(
      KVM_DEV_ARM_VGIC_GRP_ADDR,
      v3 ? KVM_VGIC_V3_ADDR_TYPE_REDIST : KVM_VGIC_V2_ADDR_TYPE_CPU, &second,
      v3 ? "redistributor address" : "CPU interface address"));
  const uint32_t irqs = config.num_irqs;
  RETURN_IF_ERROR(set_attr(KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &irqs,
                           "number of interrupts"));
  return absl::OkStatus();
}

absl::Status KvmVmAArch64::FinalizeGic() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!gic_config_.has_value()) {
    return absl::FailedPreconditionError(
        "finalize GIC: the VM has none (VmAArch64::CreateGic)");
  }
  if (gic_finalized_) {
    return absl::FailedPreconditionError("finalize GIC: already finalized");
  }
  if (its_base_.has_value()) {
    // The redistributors now span every vCPU: the ITS must still be clear
    // of them (KVM does not check the ITS against the other frames).
    RETURN_IF_ERROR(CheckItsPlacement("finalize GIC", *its_base_,
                                      vcpus_created_, {}));
  }
  // The redistributors span every vCPU now: still clear of memory?
  RETURN_IF_ERROR(CheckFramesClearOfRegions(
      "finalize GIC",
      GicFrames(*gic_config_, vcpus_created_, /*its_base=*/std::nullopt),
      RegionsLocked()));
  RETURN_IF_ERROR(KvmSetDeviceAttr(
      sys_, gic_fd_.get(), KVM_DEV_ARM_VGIC_GRP_CTRL,
      KVM_DEV_ARM_VGIC_CTRL_INIT, nullptr,
      absl::StrFormat("KVM_SET_DEVICE_ATTR (%s KVM_DEV_ARM_VGIC_CTRL_INIT, "
                      "%u vCPUs)",
                      GicName(gic_config_->version), vcpus_created_)));
  gic_finalized_ = true;
  return absl::OkStatus();
}

absl::Status KvmVmAArch64::SetCounterOffset(uint64_t offset) {
  if (device_->caps.counter_offset == 0) {
    return absl::UnimplementedError(
        "set counter offset: this KVM lacks KVM_CAP_COUNTER_OFFSET (Linux "
        "6.4+)");
  }
  kvm_abi::CounterOffset request = {};
  request.counter_offset = offset;
  return KvmIoctl(sys_, vm_fd_.get(), kvm_abi::kSetCounterOffset, &request,
                  absl::StrFormat("KVM_ARM_SET_COUNTER_OFFSET (%#x)", offset));
}

namespace {

// Checks that SPI `spi` can be driven now: a finalized GIC that has it.
absl::Status CheckSpi(const char* operation, uint32_t spi,
                      const std::optional<GicConfig>& gic, bool finalized) {
  if (!gic.has_value() || !finalized) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: SPI %u needs the in-kernel GIC, created and finalized "
        "(VmAArch64::CreateGic, FinalizeGic)",
        operation, spi));
  }
  if (spi >= gic->num_irqs - kPrivateIrqs) {
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: SPI %u (INTID %u) is beyond the GIC's %u interrupts", operation,
        spi, spi + kPrivateIrqs, gic->num_irqs));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status KvmVmAArch64::SetIrqLine(uint32_t irq, bool level) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    RETURN_IF_ERROR(CheckSpi("set irq line", irq, gic_config_, gic_finalized_));
  }
  kvm_irq_level request = {};
  request.irq = kvm_abi::SpiIrqLine(irq);
  request.level = level ? 1 : 0;
  return KvmIoctl(sys_, vm_fd_.get(), KVM_IRQ_LINE, &request,
                  absl::StrFormat("KVM_IRQ_LINE (SPI %u, INTID %u, level %d)",
                                  irq, irq + kPrivateIrqs, level ? 1 : 0));
}

// The vGIC's default routing maps GSI n to SPI n (INTID n + 32).
absl::Status KvmVmAArch64::Irqfd(const EventFd& event, uint32_t gsi,
                                 bool assign) {
  if (assign) {
    std::lock_guard<std::mutex> lock(mutex_);
    RETURN_IF_ERROR(
        CheckSpi("register irqfd", gsi, gic_config_, gic_finalized_));
  }
  return KvmVmCore::Irqfd(event, gsi, assign);
}

}  // namespace hv
