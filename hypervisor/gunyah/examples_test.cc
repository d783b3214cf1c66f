// The Example block of each header in hypervisor/gunyah, pasted as it stands
// there under a line naming the header (tools/examples_check.sh), so an
// example that no longer matches the API stops the build. Those given a
// hypervisor, VM or core run on the fake; those that open /dev/gunyah are
// compiled, not run.
#include <fcntl.h>

#include <cstdint>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/aarch64/regs.h"
#include "hypervisor/gunyah/gunyah_abi.h"
#include "hypervisor/gunyah/gunyah_hypervisor.h"
#include "hypervisor/gunyah/gunyah_sys.h"
#include "hypervisor/gunyah/gunyah_test_util.h"
#include "hypervisor/gunyah/gunyah_vcpu.h"
#include "hypervisor/gunyah/gunyah_vm.h"
#include "hypervisor/gunyah/gunyah_vm_core.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vcpu_exit.h"
#include "testing/status_matchers.h"

namespace hv::examples {
namespace {

using ::testing::Contains;

// hypervisor/gunyah/gunyah_abi.h
void GunyahAbiExample(hv::GunyahSys* sys, int vm_fd, uint32_t slot) {
  hv::gunyah_abi::UserspaceMemoryRegion region = {};
  region.label = slot;
  region.flags = hv::gunyah_abi::kMemAllowRead | hv::gunyah_abi::kMemAllowWrite;
  sys->IoctlPtr(vm_fd, hv::gunyah_abi::kVmSetUserMemRegion, &region);
}

// hypervisor/gunyah/gunyah_hypervisor.h
absl::Status GunyahHypervisorExample() {
  ASSIGN_OR_RETURN(std::unique_ptr<hv::GunyahHypervisor> gunyah,
                   hv::GunyahHypervisor::Create("/dev/gunyah"));
  ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, gunyah->CreateVm());
  return absl::OkStatus();
}

// hypervisor/gunyah/gunyah_sys.h
void GunyahSysExample() {
  hv::GunyahSys* sys = hv::RealGunyahSys();
  int fd = sys->Open("/dev/gunyah", O_RDWR | O_CLOEXEC);
  int vm = sys->Ioctl(fd, hv::gunyah_abi::kCreateVm, 0);
  (void)vm;
}

// hypervisor/gunyah/gunyah_vm_core.h
absl::Status GunyahVmCoreExample(hv::GunyahVmCore* core) {
  RETURN_IF_ERROR(core->EnsureStarted());  // first Run()
  return absl::OkStatus();
}

TEST(GunyahExamples, Compile) {
  EXPECT_NE(&GunyahAbiExample, nullptr);
  EXPECT_NE(&GunyahHypervisorExample, nullptr);
  EXPECT_NE(&GunyahSysExample, nullptr);
  EXPECT_NE(&GunyahVmCoreExample, nullptr);
}

// hypervisor/gunyah/gunyah_vm.h
absl::StatusOr<std::unique_ptr<hv::Vm>> GunyahVmExample(
    hv::GunyahHypervisor* gunyah) {
  ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, gunyah->CreateVm());
  ASSIGN_OR_RETURN(auto ram, hv::MemoryRegion::CreateShared("ram", 16 << 20));
  ASSIGN_OR_RETURN(hv::MemSlot slot, vm->AddMemoryRegion(0x80000000, std::move(ram), {}));
  hv::VmAArch64* arm = vm->AsAArch64();
  RETURN_IF_ERROR(arm->InitArch(0x80200000, 0x80000000, 0x10000));
  ASSIGN_OR_RETURN(auto vcpu, arm->CreateVcpuAArch64(0));
  (void)slot;
  return vm;
}

// hypervisor/gunyah/gunyah_vcpu.h
absl::StatusOr<hv::VcpuExit> GunyahVcpuExample(hv::VmAArch64* vm) {
  ASSIGN_OR_RETURN(std::unique_ptr<hv::VcpuAArch64> vcpu, vm->CreateVcpuAArch64(0));
  RETURN_IF_ERROR(vcpu->Init({hv::VcpuFeature::kPsci0_2}));
  ASSIGN_OR_RETURN(hv::VcpuExit exit, vcpu->Run());
  return exit;
}

TEST(GunyahExamples, Vm) {
  ASSERT_OK_AND_ASSIGN(hv::testing::GunyahTestEnv gunyah,
                       hv::testing::NewGunyahTestEnv());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<hv::Vm> vm,
                       GunyahVmExample(gunyah.hypervisor.get()));
  EXPECT_EQ(vm->MemoryRegions().size(), 1u);
  EXPECT_THAT(gunyah.fake->CallNames(),
              Contains("GH_VM_SET_DTB_CONFIG"));
}

TEST(GunyahExamples, Vcpu) {
  ASSERT_OK_AND_ASSIGN(hv::testing::GunyahTestEnv gunyah,
                       hv::testing::NewGunyahTestEnv());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<hv::VmAArch64> vm,
                       hv::testing::NewBootableVm(*gunyah.hypervisor));
  gunyah.fake->QueueMmio(0, 0x9000000, /*is_write=*/true, {'h'});
  ASSERT_OK_AND_ASSIGN(hv::VcpuExit exit, GunyahVcpuExample(vm.get()));
  EXPECT_EQ(exit.kind, hv::VcpuExitKind::kMmio);
  EXPECT_EQ(exit.mmio.address, 0x9000000u);
  EXPECT_THAT(gunyah.fake->CallNames(), Contains("GH_VM_START"));
}

// hypervisor/gunyah/gunyah_test_util.h
TEST(GunyahExamples, TestUtil) {
  ASSERT_OK_AND_ASSIGN(hv::testing::GunyahTestEnv gunyah,
                       hv::testing::NewGunyahTestEnv());
  ASSERT_OK_AND_ASSIGN(auto vm, hv::testing::NewBootableVm(*gunyah.hypervisor));
  EXPECT_THAT(gunyah.fake->CallNames(), Contains("GH_CREATE_VM"));
}

}  // namespace
}  // namespace hv::examples
