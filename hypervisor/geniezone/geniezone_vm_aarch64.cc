// GeniezoneVm's VmAArch64 part: aarch64 vCPUs, the in-hypervisor GICv3 and
// the boot step (the devicetree's place).
#include <array>

#include "absl/strings/str_format.h"
#include "hypervisor/geniezone/geniezone_abi.h"
#include "hypervisor/geniezone/geniezone_vcpu.h"
#include "hypervisor/geniezone/geniezone_vm.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vm_checks.h"

namespace hv {
namespace {

// GICv3 register frames: the distributor is 64 KiB; the redistributor frame
// handed to GZVM_CREATE_DEVICE is one vCPU's 128 KiB (RD_base + SGI_base),
// the size crosvm's Geniezone irqchip passes.
constexpr uint64_t kDistributorSize = 0x10000;
constexpr uint64_t kRedistributorSize = 0x20000;

std::array<DeviceFrame, 2> GicFrames(const GicConfig& gic) {
  return {{{"the GICv3 distributor", gic.distributor_base, kDistributorSize},
           {"the GICv3 redistributor", gic.redistributor_or_cpu_base,
            kRedistributorSize}}};
}

}  // namespace

absl::Status GeniezoneVm::CheckDeviceFrames(GuestAddress guest_address,
                                            uint64_t size) const {
  return CheckRegionClearOfFrames(guest_address, size, device_frames_);
}

absl::StatusOr<std::unique_ptr<VcpuAArch64>> GeniezoneVm::CreateVcpuAArch64(
    uint32_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (id >= geniezone_abi::kMaxVcpus) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "create vCPU %u: Geniezone VMs have vCPU ids 0..%u", id,
        geniezone_abi::kMaxVcpus - 1));
  }
  if (vcpu_ids_.count(id) != 0) {
    return absl::AlreadyExistsError(
        absl::StrFormat("create vCPU %u: the VM already has vCPU %u", id, id));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<GeniezoneVcpu> vcpu,
                   GeniezoneVcpu::Create(device_, vm_fd_.get(), id));
  vcpu_ids_.insert(id);
  return std::unique_ptr<VcpuAArch64>(std::move(vcpu));
}

bool GeniezoneVm::SupportsGic(GicConfig::Version version) const {
  // GZVM_CREATE_DEVICE knows GICv3 distributors and redistributors only.
  return version == GicConfig::Version::kV3;
}

absl::Status GeniezoneVm::CreateGic(const GicConfig& config) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (gic_state_ == GicState::kCreated) {
    return absl::FailedPreconditionError("create GIC: the VM already has a GIC");
  }
  if (gic_state_ == GicState::kDistributorOnly) {
    return absl::FailedPreconditionError(
        "create GIC: an earlier attempt created the distributor but not the "
        "redistributor, and Geniezone cannot remove a device");
  }
  if (!vcpu_ids_.empty()) {
    return absl::FailedPreconditionError(
        "create GIC: vCPUs exist already; create the GIC first");
  }
  if (config.version != GicConfig::Version::kV3) {
    return absl::UnimplementedError(
        "create GIC: Geniezone offers only a GICv3 (GZVM_DEV_TYPE_ARM_VGIC_V3_*)");
  }
  if (config.num_irqs < 64 || config.num_irqs > 1024 ||
      config.num_irqs % 32 != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "create GIC: %u interrupts is not a multiple of 32 in 64..1024",
        config.num_irqs));
  }
  if (config.distributor_base % kDistributorSize != 0 ||
      config.redistributor_or_cpu_base % kDistributorSize != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "create GIC: distributor %#x and redistributor %#x must be 64 KiB "
        "aligned",
        config.distributor_base, config.redistributor_or_cpu_base));
  }
  const uint64_t limit = device_->guest_address_limit;
  if (config.distributor_base > limit - kDistributorSize ||
      config.redistributor_or_cpu_base > limit - kRedistributorSize) {
    return absl::OutOfRangeError(absl::StrFormat(
        "create GIC: distributor %#x or redistributor %#x is past the guest "
        "address limit %#x",
        config.distributor_base, config.redistributor_or_cpu_base, limit));
  }
  // A memory slot over a frame would hide the device from the guest.
  const std::array<DeviceFrame, 2> frames = GicFrames(config);
  RETURN_IF_ERROR(
      CheckFramesClearOfRegions("create GIC", frames, RegionsLocked()));
  geniezone_abi::CreateDevice dist = {};
  dist.dev_type = geniezone_abi::kDevTypeArmVgicV3Dist;
  dist.dev_addr = config.distributor_base;
  dist.dev_reg_size = kDistributorSize;
  if (sys_->IoctlPtr(vm_fd_.get(), geniezone_abi::kCreateDevice, &dist) < 0) {
    return ErrnoStatus(absl::StrFormat(
        "GZVM_CREATE_DEVICE (GICv3 distributor at %#x)", config.distributor_base));
  }
  device_frames_.push_back(frames[0]);
  geniezone_abi::CreateDevice redist = {};
  redist.dev_type = geniezone_abi::kDevTypeArmVgicV3Redist;
  redist.dev_addr = config.redistributor_or_cpu_base;
  redist.dev_reg_size = kRedistributorSize;
  if (sys_->IoctlPtr(vm_fd_.get(), geniezone_abi::kCreateDevice, &redist) < 0) {
    const int error = errno;
    gic_state_ = GicState::kDistributorOnly;
    return ErrnoStatus(
        absl::StrFormat("GZVM_CREATE_DEVICE (GICv3 redistributor at %#x; the "
                        "distributor stays created)",
                        config.redistributor_or_cpu_base),
        error);
  }
  device_frames_.push_back(frames[1]);
  gic_state_ = GicState::kCreated;
  gic_ = config;
  return absl::OkStatus();
}

absl::Status GeniezoneVm::FinalizeGic() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (gic_state_ != GicState::kCreated) {
    return absl::FailedPreconditionError("finalize GIC: the VM has no GIC");
  }
  // Geniezone's GIC is live once both frames are created; there is no
  // finalize (KVM_DEV_ARM_VGIC_CTRL_INIT) step to take.
  return absl::OkStatus();
}

absl::Status GeniezoneVm::SetCounterOffset(uint64_t offset) {
  return absl::UnimplementedError(absl::StrFormat(
      "set counter offset %#x: Geniezone has no VM-wide counter offset", offset));
}

absl::Status GeniezoneVm::ConfigureBoot(GuestAddress /*entry*/,
                                        GuestAddress fdt_address,
                                        uint64_t fdt_size) {
  geniezone_abi::DtbConfig config = {};
  config.dtb_addr = fdt_address;
  config.dtb_size = fdt_size;
  if (sys_->IoctlPtr(vm_fd_.get(), geniezone_abi::kSetDtbConfig, &config) < 0) {
    return ErrnoStatus(absl::StrFormat(
        "GZVM_SET_DTB_CONFIG (devicetree [%#x, +%#x))", fdt_address, fdt_size));
  }
  return absl::OkStatus();
}

}  // namespace hv
