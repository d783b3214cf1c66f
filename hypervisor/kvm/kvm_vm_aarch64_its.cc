// KvmVmAArch64's GICv3 ITS: a second KVM device beside the vGICv3
// (Documentation/virt/kvm/devices/arm-vgic-its.rst), placed with
// KVM_DEV_ARM_VGIC_GRP_ADDR and initialised with KVM_DEV_ARM_VGIC_CTRL_INIT;
// its state is its registers (KVM_DEV_ARM_VGIC_GRP_ITS_REGS, 64-bit values)
// plus the tables it writes into guest memory (KVM_DEV_ARM_ITS_SAVE_TABLES)
// and reads back (KVM_DEV_ARM_ITS_RESTORE_TABLES) in the order the document's
// "ITS Restore Sequence" gives.
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "hypervisor/kvm/kvm_abi_aarch64.h"
#include "hypervisor/kvm/kvm_ioctl.h"
#include "hypervisor/kvm/kvm_vm_aarch64.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vm_checks.h"

namespace hv {
namespace {

static_assert(VmAArch64::kGicItsSize == kvm_abi::kItsSize);
static_assert(VmAArch64::kGicItsAlignment == kvm_abi::kItsAlignment);
static_assert(VmAArch64::kGitsTranslaterOffset == kvm_abi::kGitsTranslater);

// The GICv3 frames' sizes (arm-vgic-v3.rst): distributor 64 KiB, one
// redistributor (RD_base and SGI frames) 128 KiB per vCPU.
constexpr uint64_t kDistributorSize = kvm_abi::kGicV3DistSize;
constexpr uint64_t kRedistributorSize = kvm_abi::kGicV3RedistSize;

}  // namespace

bool KvmVmAArch64::OffersGicIts() const {
  kvm_create_device test = {};
  test.type = KVM_DEV_TYPE_ARM_VGIC_ITS;
  test.flags = KVM_CREATE_DEVICE_TEST;
  return sys_->IoctlPtr(vm_fd_.get(), KVM_CREATE_DEVICE, &test) == 0;
}

std::vector<DeviceFrame> KvmVmAArch64::GicFrames(
    const GicConfig& gic, uint32_t vcpus,
    std::optional<GuestAddress> its_base) {
  std::vector<DeviceFrame> frames;
  const uint32_t count = vcpus > 0 ? vcpus : 1;
  if (gic.version == GicConfig::Version::kV3) {
    frames.push_back({"the vGICv3 distributor", gic.distributor_base,
                      kDistributorSize});
    frames.push_back({absl::StrFormat("the vGICv3 redistributors (%u vCPU%s)",
                                      count, count == 1 ? "" : "s"),
                      gic.redistributor_or_cpu_base,
                      kRedistributorSize * count});
  } else {
    frames.push_back({"the vGICv2 distributor", gic.distributor_base,
                      kvm_abi::kGicV2DistSize});
    frames.push_back({"the vGICv2 CPU interface", gic.redistributor_or_cpu_base,
                      kvm_abi::kGicV2CpuSize});
  }
  if (its_base.has_value()) {
    frames.push_back({"the GIC ITS", *its_base, kGicItsSize});
  }
  return frames;
}

absl::Status KvmVmAArch64::CheckDeviceFrames(GuestAddress guest_address,
                                             uint64_t size) const {
  if (!gic_config_.has_value()) return absl::OkStatus();
  return CheckRegionClearOfFrames(
      guest_address, size, GicFrames(*gic_config_, vcpus_created_, its_base_));
}

absl::Status KvmVmAArch64::CheckItsPlacement(
    const char* operation, GuestAddress base, uint32_t vcpus,
    const std::vector<MemoryRegionInfo>& regions) const {
  const uint64_t size = kGicItsSize;
  if (base % kGicItsAlignment != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: base %#x is not 64 KiB aligned", operation, base));
  }
  const uint64_t limit = device_->guest_address_limit;
  if (base >= limit || limit - base < size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: frames [%#x, %#x) reach past the guest address limit %#x",
        operation, base, base + size, limit));
  }
  for (const DeviceFrame& frame :
       GicFrames(*gic_config_, vcpus, /*its_base=*/std::nullopt)) {
    if (RangesOverlap(base, size, frame.base, frame.size)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: frames [%#x, %#x) overlap %s [%#x, %#x)", operation, base,
          base + size, frame.name, frame.base, frame.base + frame.size));
    }
  }
  return CheckFramesClearOfRegions(operation, {{"frames", base, size}},
                                   regions);
}

absl::Status KvmVmAArch64::CreateGicIts(GuestAddress base) {
  // The regions first: MemoryRegions() takes mutex_ itself.
  const std::vector<MemoryRegionInfo> regions = MemoryRegions();
  const std::string operation = absl::StrFormat("create GIC ITS at %#x", base);
  // Whether this KVM has the ITS at all comes first (VmCap::kGicIts false:
  // UNIMPLEMENTED, whatever else is wrong).
  kvm_create_device test = {};
  test.type = KVM_DEV_TYPE_ARM_VGIC_ITS;
  test.flags = KVM_CREATE_DEVICE_TEST;
  if (sys_->IoctlPtr(vm_fd_.get(), KVM_CREATE_DEVICE, &test) < 0) {
    const int error = errno;
    if (error == ENODEV) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s: this KVM offers no ITS (KVM_CREATE_DEVICE_TEST: %s)", operation,
          std::strerror(error)));
    }
    return ErrnoStatus(absl::StrFormat("%s: KVM_CREATE_DEVICE (test, "
                                       "KVM_DEV_TYPE_ARM_VGIC_ITS)",
                                       operation),
                       error);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (!gic_config_.has_value() ||
      gic_config_->version != GicConfig::Version::kV3) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: the VM has no GICv3 (VmAArch64::CreateGic first)", operation));
  }
  if (its_fd_.valid()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: the VM already has an ITS%s", operation,
        its_base_.has_value()
            ? absl::StrFormat(" at %#x", *its_base_)
            : std::string(" (whose setup failed; KVM keeps the device)")));
  }
  RETURN_IF_ERROR(
      CheckItsPlacement(operation.c_str(), base, vcpus_created_, regions));
  kvm_create_device create = {};
  create.type = KVM_DEV_TYPE_ARM_VGIC_ITS;
  if (sys_->IoctlPtr(vm_fd_.get(), KVM_CREATE_DEVICE, &create) < 0) {
    const int error = errno;
    if (error == ENODEV) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s: this KVM offers no ITS (KVM_CREATE_DEVICE: %s)", operation,
          std::strerror(error)));
    }
    return ErrnoStatus(
        absl::StrFormat("%s: KVM_CREATE_DEVICE (KVM_DEV_TYPE_ARM_VGIC_ITS)",
                        operation),
        error);
  }
  // As with the GIC: KVM cannot take the device back, so from here it is
  // recorded even if a step below fails.
  its_fd_ = KvmFd(sys_, static_cast<int>(create.fd));
  const uint64_t address = base;
  RETURN_IF_ERROR(KvmSetDeviceAttr(
      sys_, its_fd_.get(), KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE,
      &address,
      absl::StrFormat("%s: KVM_SET_DEVICE_ATTR (KVM_VGIC_ITS_ADDR_TYPE)",
                      operation)));
  RETURN_IF_ERROR(KvmSetDeviceAttr(
      sys_, its_fd_.get(), KVM_DEV_ARM_VGIC_GRP_CTRL,
      KVM_DEV_ARM_VGIC_CTRL_INIT, nullptr,
      absl::StrFormat("%s: KVM_SET_DEVICE_ATTR (KVM_DEV_ARM_VGIC_CTRL_INIT)",
                      operation)));
  its_base_ = base;
  has_its_.store(true);
  return absl::OkStatus();
}

absl::StatusOr<KvmVmAArch64::Its> KvmVmAArch64::ReadyIts(
    const char* operation) const {
  if (!its_base_.has_value()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: the VM has no ITS (VmAArch64::CreateGicIts)", operation));
  }
  ASSIGN_OR_RETURN(GicV3 gic, FinalizedGicV3(operation));
  return Its{its_fd_.get(), gic.fd};
}

namespace {

// One ITS register: its offset and name, and where it lives in the state.
struct ItsRegister {
  uint64_t offset;
  const char* name;
  uint64_t GicItsState::*field;
};

// The registers before the tables, in the restore order arm-vgic-its.rst
// gives: GITS_CBASER first (writing it resets GITS_CREADR), then the
// others, GITS_IIDR before the tables (its revision selects their layout).
// GITS_CTLR comes after the tables; GITS_BASER<n> are in their array.
constexpr ItsRegister kBeforeTables[] = {
    {kvm_abi::kGitsCbaser, "GITS_CBASER", &GicItsState::cbaser},
    {kvm_abi::kGitsIidr, "GITS_IIDR", &GicItsState::iidr},
    {kvm_abi::kGitsCreadr, "GITS_CREADR", &GicItsState::creadr},
    {kvm_abi::kGitsCwriter, "GITS_CWRITER", &GicItsState::cwriter},
};

}  // namespace

absl::StatusOr<GicItsState> KvmVmAArch64::GetGicItsState() {
  std::lock_guard<std::mutex> lock(mutex_);
  ASSIGN_OR_RETURN(Its its, ReadyIts("get GIC ITS state"));
  // The tables into guest memory, then the pending LPIs into the pending
  // tables (both refused with EBUSY while a vCPU runs).
  RETURN_IF_ERROR(KvmSetDeviceAttr(
      sys_, its.its_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_ITS_SAVE_TABLES,
      nullptr,
      "get GIC ITS state: KVM_SET_DEVICE_ATTR (KVM_DEV_ARM_ITS_SAVE_TABLES)"));
  RETURN_IF_ERROR(KvmSetDeviceAttr(
      sys_, its.gic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL,
      KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES, nullptr,
      "get GIC ITS state: KVM_SET_DEVICE_ATTR "
      "(KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES)"));
  GicItsState state;
  state.base = *its_base_;
  auto read = [&](uint64_t offset, const char* name,
                  uint64_t& value) -> absl::Status {
    return KvmGetDeviceAttr(
        sys_, its.its_fd, KVM_DEV_ARM_VGIC_GRP_ITS_REGS, offset, &value,
        absl::StrFormat("get GIC ITS state: KVM_GET_DEVICE_ATTR (%s)", name));
  };
  for (const ItsRegister& reg : kBeforeTables) {
    RETURN_IF_ERROR(read(reg.offset, reg.name, state.*reg.field));
  }
  for (uint32_t n = 0; n < kvm_abi::kGitsBasers; ++n) {
    RETURN_IF_ERROR(read(kvm_abi::GitsBaser(n),
                         absl::StrFormat("GITS_BASER%u", n).c_str(),
                         state.baser[n]));
  }
  RETURN_IF_ERROR(read(kvm_abi::kGitsCtlr, "GITS_CTLR", state.ctlr));
  return state;
}

absl::Status KvmVmAArch64::SetGicItsState(const GicItsState& state) {
  std::lock_guard<std::mutex> lock(mutex_);
  ASSIGN_OR_RETURN(Its its, ReadyIts("set GIC ITS state"));
  if (state.base != *its_base_) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "set GIC ITS state: the state is of an ITS at %#x, this VM's is at "
        "%#x (the guest's MSIs go to the saved address)",
        state.base, *its_base_));
  }
  auto write = [&](uint64_t offset, const char* name,
                   uint64_t value) -> absl::Status {
    return KvmSetDeviceAttr(
        sys_, its.its_fd, KVM_DEV_ARM_VGIC_GRP_ITS_REGS, offset, &value,
        absl::StrFormat("set GIC ITS state: KVM_SET_DEVICE_ATTR (%s = %#x)",
                        name, value));
  };
  for (const ItsRegister& reg : kBeforeTables) {
    RETURN_IF_ERROR(write(reg.offset, reg.name, state.*reg.field));
  }
  for (uint32_t n = 0; n < kvm_abi::kGitsBasers; ++n) {
    RETURN_IF_ERROR(write(kvm_abi::GitsBaser(n),
                          absl::StrFormat("GITS_BASER%u", n).c_str(),
                          state.baser[n]));
  }
  RETURN_IF_ERROR(KvmSetDeviceAttr(
      sys_, its.its_fd, KVM_DEV_ARM_VGIC_GRP_CTRL,
      KVM_DEV_ARM_ITS_RESTORE_TABLES, nullptr,
      "set GIC ITS state: KVM_SET_DEVICE_ATTR "
      "(KVM_DEV_ARM_ITS_RESTORE_TABLES)"));
  return write(kvm_abi::kGitsCtlr, "GITS_CTLR", state.ctlr);
}

absl::Status KvmVmAArch64::ResetGicIts() {
  std::lock_guard<std::mutex> lock(mutex_);
  ASSIGN_OR_RETURN(Its its, ReadyIts("reset GIC ITS"));
  return KvmSetDeviceAttr(
      sys_, its.its_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_ITS_CTRL_RESET,
      nullptr, "reset GIC ITS: KVM_SET_DEVICE_ATTR (KVM_DEV_ARM_ITS_CTRL_RESET)");
}

}  // namespace hv
