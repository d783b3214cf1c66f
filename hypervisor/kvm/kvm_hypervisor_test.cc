// KvmHypervisor: registration, device errors, capability snapshot.
#include "hypervisor/kvm/kvm_hypervisor.h"

#include <linux/kvm.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/kvm/kvm_fault_injection.h"
#include "hypervisor/kvm/kvm_test_env.h"
#include "hypervisor/registry.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "testing/backend_expectations.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

TEST(KvmHypervisor, IsRegisteredAsKvmWithADeviceOption) {
  EXPECT_TRUE(testing::IsLinkedBackend("kvm", {"device"}));
}

TEST(KvmHypervisor, CreatesFromASpec) {
  HV_REQUIRE_KVM();
  ASSERT_OK_AND_ASSIGN(auto plain, CreateHypervisor("kvm"));
  EXPECT_EQ(plain->kind(), "kvm");
  ASSERT_OK_AND_ASSIGN(auto explicit_device,
                       CreateHypervisor("kvm[device=/dev/kvm]"));
  EXPECT_OK(explicit_device->CreateVm());
}

TEST(KvmHypervisor, MissingDeviceNamesThePath) {
  EXPECT_THAT(CreateHypervisor("kvm[device=/nonexistent/kvm]"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("open /nonexistent/kvm")));
}

TEST(KvmHypervisor, RefusesAKernelWithoutUserMemory) {
  HV_REQUIRE_KVM();
  testing::FaultInjectingKvmSys sys;
  sys.OverrideExtension(KVM_CAP_USER_MEMORY, 0);
  EXPECT_THAT(KvmHypervisor::Create("/dev/kvm", &sys),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("KVM_CAP_USER_MEMORY")));
}

TEST(KvmHypervisor, FallsBackToNrVcpusWithoutMaxVcpus) {
  HV_REQUIRE_KVM();
  testing::FaultInjectingKvmSys sys;
  sys.OverrideExtension(KVM_CAP_MAX_VCPUS, 0);
  sys.OverrideExtension(KVM_CAP_NR_VCPUS, 3);
  ASSERT_OK_AND_ASSIGN(auto kvm, KvmHypervisor::Create("/dev/kvm", &sys));
  EXPECT_EQ(kvm->MaxVcpus(), 3u);
}

TEST(KvmHypervisor, CapabilitiesFollowTheKernelsAnswers) {
  HV_REQUIRE_KVM();
  testing::FaultInjectingKvmSys sys;
  sys.OverrideExtension(KVM_CAP_READONLY_MEM, 0);
  sys.OverrideExtension(KVM_CAP_XCRS, 0);
  ASSERT_OK_AND_ASSIGN(auto kvm, KvmHypervisor::Create("/dev/kvm", &sys));
  EXPECT_FALSE(kvm->CheckCapability(HypervisorCap::kReadOnlyMemory));
  EXPECT_FALSE(kvm->CheckCapability(HypervisorCap::kXcrs));
  EXPECT_TRUE(kvm->CheckCapability(HypervisorCap::kUserMemory));
  ASSERT_OK_AND_ASSIGN(auto vm, kvm->CreateVm());
  EXPECT_FALSE(vm->CheckCapability(VmCap::kReadOnlyMemoryRegion));
  ASSERT_OK_AND_ASSIGN(auto rom, MemoryRegion::CreateShared("rom", 0x1000));
  MemoryRegionOptions read_only;
  read_only.read_only = true;
  EXPECT_THAT(vm->AddMemoryRegion(0, std::move(rom), read_only),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("KVM_CAP_READONLY_MEM")));
  ASSERT_OK_AND_ASSIGN(auto vcpu, vm->AsX86_64()->CreateVcpuX86_64(0));
  EXPECT_THAT(vcpu->GetXcrs(), StatusIs(absl::StatusCode::kUnimplemented));
}

TEST(KvmHypervisor, AFailedIoctlIsNamed) {
  HV_REQUIRE_KVM();
  testing::FaultInjectingKvmSys sys;
  ASSERT_OK_AND_ASSIGN(auto kvm, KvmHypervisor::Create("/dev/kvm", &sys));
  sys.FailIoctl(KVM_CREATE_VM, ENOMEM);
  EXPECT_THAT(kvm->CreateVm(), StatusIs(absl::StatusCode::kResourceExhausted,
                                        HasSubstr("KVM_CREATE_VM")));
}

}  // namespace
}  // namespace hv
