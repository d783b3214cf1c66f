// The aarch64 KVM backend on a real arm64 /dev/kvm, where it is KVM's own:
// the kernel's exit reasons and ioctl names in what hv reports, KVM's
// answers to vCPU features (PSCI 0.1 without the PSCI 0.2 feature,
// power-off), and injected ioctl failures (FaultInjectingKvmSys) that must
// name themselves and change nothing. What any aarch64 backend must do is
// the guest-code suite (testing/aarch64/aarch64_guest_conformance.h),
// instantiated for KVM by kvm_aarch64_conformance_test.cc.
#include <linux/kvm.h>

#include <cerrno>
#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/aarch64/vcpu_aarch64.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/kvm/kvm_fault_injection.h"
#include "hypervisor/kvm/kvm_hypervisor.h"
#include "hypervisor/kvm/kvm_test_env.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/status_macros.h"
#include "testing/aarch64/guest_fixture.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::HasSubstr;
using a64::Routine;

// Each test gets the registry's KVM (kvm_), and may open its own over a
// fault-injecting seam.
class KvmAArch64 : public ::testing::Test {
 protected:
  void SetUp() override {
    HV_REQUIRE_KVM();
    ASSERT_OK_AND_ASSIGN(kvm_, CreateHypervisor("kvm"));
  }

  std::unique_ptr<Hypervisor> kvm_;
};

TEST_F(KvmAArch64, SystemEventsCarryTheKvmExitReason) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest,
                       AArch64Guest::Create(*kvm_, {}));
  ASSERT_OK(guest->Start(0, Routine::kPsciCall, {{0, HV_A64_PSCI_SYSTEM_OFF}}));
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0));
  ASSERT_EQ(run.end, GuestRun::End::kSystemEvent);
  EXPECT_EQ(run.last_exit.raw_reason,
            static_cast<uint32_t>(KVM_EXIT_SYSTEM_EVENT));
}

TEST_F(KvmAArch64, PsciVersionWithoutPsci02IsZeroPointOne) {
  AArch64GuestOptions options;
  options.features = {};
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest,
                       AArch64Guest::Create(*kvm_, options));
  ASSERT_OK_AND_ASSIGN(PsciVersion psci, guest->vcpu(0).GetPsciVersion());
  EXPECT_EQ(psci.major, 0);
  EXPECT_EQ(psci.minor, 1);
}

TEST_F(KvmAArch64, OffersPsci02AndPowerOff) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest,
                       AArch64Guest::Create(*kvm_, {}));
  EXPECT_TRUE(guest->vcpu(0).SupportsFeature(VcpuFeature::kPsci0_2));
  EXPECT_TRUE(guest->vcpu(0).SupportsFeature(VcpuFeature::kPowerOff));
}

TEST_F(KvmAArch64, UnexposedRegisterNamesTheIoctl) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AArch64Guest> guest,
                       AArch64Guest::Create(*kvm_, {}));
  // A well-formed encoding KVM does not expose: ENOENT from the kernel.
  EXPECT_THAT(guest->vcpu(0).GetOneReg(AArch64Reg::Sys(3, 7, 15, 15, 7)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("KVM_GET_ONE_REG")));
}

TEST_F(KvmAArch64, UnsupportedGicVersionLeavesVmUnchanged) {
  FaultInjectingKvmSys sys;
  ASSERT_OK_AND_ASSIGN(auto kvm, KvmHypervisor::Create("/dev/kvm", &sys));
  ASSERT_OK_AND_ASSIGN(auto vm, kvm->CreateVm());
  VmAArch64* arm = vm->AsAArch64();
  GicConfig v3;
  v3.distributor_base = HV_A64_GICD_BASE;
  v3.redistributor_or_cpu_base = HV_A64_GICR_BASE;
  // The kernel's answer for a device type it does not build in: ENODEV.
  sys.FailIoctl(KVM_CREATE_DEVICE, ENODEV);
  EXPECT_THAT(arm->CreateGic(v3),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("vGICv3")));
  // Nothing was recorded: the real GIC can still be created.
  EXPECT_OK(arm->CreateGic(v3));
}

// KVM's vGICv3 always brings its ITS device type (vgic-kvm-device.c
// registers both), so where a GICv3 is offered VmCap::kGicIts is true; the
// capability is the kernel's KVM_CREATE_DEVICE_TEST answer.
TEST_F(KvmAArch64, GicItsIsOfferedWithTheGicV3AndAskedOfTheKernel) {
  FaultInjectingKvmSys sys;
  ASSERT_OK_AND_ASSIGN(auto kvm, KvmHypervisor::Create("/dev/kvm", &sys));
  ASSERT_OK_AND_ASSIGN(auto vm, kvm->CreateVm());
  VmAArch64* arm = vm->AsAArch64();
  if (!arm->SupportsGic(GicConfig::Version::kV3)) {
    EXPECT_FALSE(vm->CheckCapability(VmCap::kGicIts));
    return;
  }
  EXPECT_TRUE(vm->CheckCapability(VmCap::kGicIts));
  sys.FailIoctl(KVM_CREATE_DEVICE, ENODEV);
  EXPECT_FALSE(vm->CheckCapability(VmCap::kGicIts));
  GicConfig v3;
  v3.distributor_base = HV_A64_GICD_BASE;
  v3.redistributor_or_cpu_base = HV_A64_GICR_BASE;
  ASSERT_OK(arm->CreateGic(v3));
  // ENODEV for the ITS type, from the test or from the creation itself:
  // UNIMPLEMENTED, nothing recorded.
  sys.FailIoctl(KVM_CREATE_DEVICE, ENODEV);
  EXPECT_THAT(arm->CreateGicIts(HV_A64_GITS_BASE),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("no ITS")));
  sys.FailIoctl(KVM_CREATE_DEVICE, ENODEV, /*skip=*/1);
  EXPECT_THAT(arm->CreateGicIts(HV_A64_GITS_BASE),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("no ITS")));
  // Any other error names the ioctl.
  sys.FailIoctl(KVM_CREATE_DEVICE, EIO, /*skip=*/1);
  EXPECT_THAT(arm->CreateGicIts(HV_A64_GITS_BASE),
              StatusIs(absl::ErrnoToStatusCode(EIO),
                       HasSubstr("KVM_CREATE_DEVICE (KVM_DEV_TYPE_ARM_VGIC_ITS)")));
  EXPECT_FALSE(vm->CheckCapability(VmCap::kSignalMsi));
  ASSERT_OK(arm->CreateGicIts(HV_A64_GITS_BASE));
  // Now the VM wants device ids (KVM_CAP_MSI_DEVID) and takes MSIs.
  EXPECT_TRUE(vm->CheckCapability(VmCap::kSignalMsi));
  ASSERT_OK_AND_ASSIGN(auto vcpu, arm->CreateVcpuAArch64(0));
  ASSERT_OK(vcpu->Init({VcpuFeature::kPsci0_2}));
  ASSERT_OK(arm->FinalizeGic());
  // The ITS is disabled until a guest enables it: KVM refuses the MSI
  // (EBUSY), and hv says which ioctl did.
  MsiMessage msi;
  msi.address = HV_A64_GITS_TRANSLATER;
  msi.device_id = 1;
  EXPECT_THAT(vm->SignalMsi(msi).status(),
              StatusIs(absl::ErrnoToStatusCode(EBUSY), HasSubstr("KVM_SIGNAL_MSI")));
  // An address where no ITS is: EINVAL from the kernel.
  msi.address = HV_A64_MMIO_BASE;
  EXPECT_THAT(vm->SignalMsi(msi).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("KVM_SIGNAL_MSI")));
  // A failed register write names the register.
  ASSERT_OK_AND_ASSIGN(GicItsState state, arm->GetGicItsState());
  sys.FailIoctl(KVM_SET_DEVICE_ATTR, EIO);
  EXPECT_THAT(arm->SetGicItsState(state),
              StatusIs(absl::ErrnoToStatusCode(EIO), HasSubstr("GITS_CBASER")));
  EXPECT_OK(arm->SetGicItsState(state));
}

TEST_F(KvmAArch64, FailedIoctlsNameThemselvesAndChangeNothing) {
  FaultInjectingKvmSys sys;
  ASSERT_OK_AND_ASSIGN(auto kvm, KvmHypervisor::Create("/dev/kvm", &sys));
  ASSERT_OK_AND_ASSIGN(auto vm, kvm->CreateVm());
  ASSERT_OK_AND_ASSIGN(auto vcpu, vm->AsAArch64()->CreateVcpuAArch64(0));
  sys.FailIoctl(KVM_ARM_VCPU_INIT, EINVAL);
  EXPECT_THAT(vcpu->Init({VcpuFeature::kPsci0_2}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("KVM_ARM_VCPU_INIT")));
  // Still not initialised.
  EXPECT_THAT(vcpu->Run(), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK(vcpu->Init({VcpuFeature::kPsci0_2}));
  ASSERT_OK(vcpu->SetOneReg(AArch64Reg::X(4), 44));
  sys.FailIoctl(KVM_SET_ONE_REG, EIO);
  EXPECT_THAT(vcpu->SetOneReg(AArch64Reg::X(4), 55),
              StatusIs(absl::ErrnoToStatusCode(EIO),
                       HasSubstr("KVM_SET_ONE_REG (set register x4")));
  ASSERT_OK_AND_ASSIGN(uint64_t x4, vcpu->GetOneReg(AArch64Reg::X(4)));
  EXPECT_EQ(x4, 44u);
  sys.FailIoctl(KVM_ARM_PREFERRED_TARGET, EIO);
  EXPECT_THAT(vm->AsAArch64()->CreateVcpuAArch64(1).status(),
              StatusIs(absl::ErrnoToStatusCode(EIO), HasSubstr("KVM_ARM_PREFERRED_TARGET")));
  // The failed creation left no vCPU behind: the id is still free.
  EXPECT_OK(vm->AsAArch64()->CreateVcpuAArch64(1).status());
}


// The vGIC's frames and memory regions stay apart whichever comes first
// (KVM checks neither: a memory slot over a frame hides the device from
// the guest). A refused step changes nothing, so the caller can move the
// region and go on.
TEST_F(KvmAArch64, GicFramesAndMemoryRegionsStayApart) {
  ASSERT_OK_AND_ASSIGN(auto vm, kvm_->CreateVm());
  VmAArch64* arm = vm->AsAArch64();
  if (!arm->SupportsGic(GicConfig::Version::kV3)) GTEST_SKIP() << "no GICv3";
  auto add = [&](GuestAddress gpa, uint64_t size) -> absl::StatusOr<MemSlot> {
    ASSIGN_OR_RETURN(auto region, MemoryRegion::CreateShared("gic test", size));
    return vm->AddMemoryRegion(gpa, std::move(region), {});
  };
  // Memory first: the GIC is refused and not created.
  ASSERT_OK_AND_ASSIGN(MemSlot under_gicd, add(HV_A64_GICD_BASE + 0x10000 -
                                                   0x1000, 0x1000));
  GicConfig v3;
  v3.distributor_base = HV_A64_GICD_BASE;
  v3.redistributor_or_cpu_base = HV_A64_GICR_BASE;
  EXPECT_THAT(arm->CreateGic(v3),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("create vGICv3: the vGICv3 distributor "
                                 "[0x8000000, 0x8010000) would overlap "
                                 "memory region [0x800f000, 0x8010000)")));
  ASSERT_OK(vm->RemoveMemoryRegion(under_gicd).status());
  ASSERT_OK(arm->CreateGic(v3));
  // The GIC first: a region over any of its frames is refused.
  EXPECT_THAT(add(HV_A64_GICD_BASE, 0x1000),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("overlaps the vGICv3 distributor "
                                 "[0x8000000, 0x8010000)")));
  EXPECT_THAT(add(HV_A64_GICR_BASE, 0x10000),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("overlaps the vGICv3 redistributors (1 vCPU)")));
  // The redistributors grow with the vCPUs: a region just past one
  // vCPU's is taken, and FinalizeGic with two vCPUs refuses it.
  const GuestAddress second_rd = HV_A64_GICR_BASE + 0x20000;
  ASSERT_OK_AND_ASSIGN(MemSlot in_rd, add(second_rd, 0x10000));
  for (uint32_t id = 0; id < 2; ++id) {
    ASSERT_OK_AND_ASSIGN(auto vcpu, arm->CreateVcpuAArch64(id));
    ASSERT_OK(vcpu->Init({VcpuFeature::kPsci0_2}));
  }
  EXPECT_THAT(arm->FinalizeGic(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("finalize GIC: the vGICv3 redistributors (2 "
                                 "vCPUs) [0x80a0000, 0x80e0000) would overlap "
                                 "memory region [0x80c0000, 0x80d0000)")));
  ASSERT_OK(vm->RemoveMemoryRegion(in_rd).status());
  ASSERT_OK(arm->FinalizeGic());
  EXPECT_THAT(add(second_rd, 0x10000),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("redistributors (2 vCPUs)")));
  if (vm->CheckCapability(VmCap::kGicIts)) {
    ASSERT_OK(arm->CreateGicIts(HV_A64_GITS_BASE));
    EXPECT_THAT(add(HV_A64_GITS_BASE + 0x10000, 0x1000),
                StatusIs(absl::StatusCode::kAlreadyExists,
                         HasSubstr("overlaps the GIC ITS")));
  }
  // Nothing refused was kept.
  EXPECT_TRUE(vm->MemoryRegions().empty());
}

}  // namespace
}  // namespace hv::testing
