// The Example block of each header in hypervisor/geniezone, pasted as it
// stands there under a line naming the header (tools/examples_check.sh), so
// an example that no longer matches the API stops the build. The test
// helpers' example runs on the fake; the others open /dev/gzvm or take its
// device, so they are compiled, not run (the backend's tests make the same
// calls on the fake).
#include <fcntl.h>

#include <cstdint>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/aarch64/regs.h"
#include "hypervisor/geniezone/geniezone_abi.h"
#include "hypervisor/geniezone/geniezone_hypervisor.h"
#include "hypervisor/geniezone/geniezone_sys.h"
#include "hypervisor/geniezone/geniezone_test_util.h"
#include "hypervisor/geniezone/geniezone_vcpu.h"
#include "hypervisor/geniezone/geniezone_vm.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vcpu_exit.h"
#include "testing/status_matchers.h"

namespace hv::examples {
namespace {

using ::testing::ElementsAre;

// hypervisor/geniezone/geniezone_abi.h
void GeniezoneAbiExample(hv::GeniezoneSys* sys, int vm_fd, void* host,
                         uint64_t size) {
  hv::geniezone_abi::UserspaceMemoryRegion region = {};
  region.slot = 0;
  region.flags = hv::geniezone_abi::kUserMemRegionGuestMem;
  region.guest_phys_addr = 0x80000000;
  region.memory_size = size;
  region.userspace_addr = reinterpret_cast<uintptr_t>(host);
  sys->IoctlPtr(vm_fd, hv::geniezone_abi::kSetUserMemoryRegion, &region);
}

// hypervisor/geniezone/geniezone_hypervisor.h
absl::Status GeniezoneHypervisorExample() {
  ASSIGN_OR_RETURN(std::unique_ptr<hv::GeniezoneHypervisor> gz,
                   hv::GeniezoneHypervisor::Create("/dev/gzvm"));
  ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, gz->CreateVm());
  return absl::OkStatus();
}

// hypervisor/geniezone/geniezone_sys.h
void GeniezoneSysExample() {
  hv::GeniezoneSys* sys = hv::RealGeniezoneSys();
  int fd = sys->Open("/dev/gzvm", O_RDWR | O_CLOEXEC);
  int vm = sys->Ioctl(fd, hv::geniezone_abi::kCreateVm, 0);
  (void)vm;
}

// hypervisor/geniezone/geniezone_vcpu.h
absl::Status GeniezoneVcpuExample(
    std::shared_ptr<const hv::GeniezoneDevice> device, int vm_fd) {
  ASSIGN_OR_RETURN(std::unique_ptr<hv::GeniezoneVcpu> vcpu,
                   hv::GeniezoneVcpu::Create(device, vm_fd, 0));
  RETURN_IF_ERROR(vcpu->Init({hv::VcpuFeature::kPsci0_2}));
  ASSIGN_OR_RETURN(hv::VcpuExit exit, vcpu->Run());
  return absl::OkStatus();
}

// hypervisor/geniezone/geniezone_vm.h
absl::Status GeniezoneVmExample(
    std::shared_ptr<const hv::GeniezoneDevice> device) {
  ASSIGN_OR_RETURN(std::unique_ptr<hv::GeniezoneVm> vm,
                   hv::GeniezoneVm::Create(device));
  ASSIGN_OR_RETURN(auto ram, hv::MemoryRegion::CreateShared("ram", 1 << 20));
  ASSIGN_OR_RETURN(hv::MemSlot slot,
                   vm->AddMemoryRegion(0x80000000, std::move(ram), {}));
  (void)slot;
  return absl::OkStatus();
}

TEST(GeniezoneExamples, Compile) {
  EXPECT_NE(&GeniezoneAbiExample, nullptr);
  EXPECT_NE(&GeniezoneHypervisorExample, nullptr);
  EXPECT_NE(&GeniezoneSysExample, nullptr);
  EXPECT_NE(&GeniezoneVcpuExample, nullptr);
  EXPECT_NE(&GeniezoneVmExample, nullptr);
}

// hypervisor/geniezone/geniezone_test_util.h
TEST(GeniezoneExamples, TestUtil) {
  ASSERT_OK_AND_ASSIGN(auto ram, MemoryRegion::CreateShared("ram", 1 << 20));
  ASSERT_OK_AND_ASSIGN(hv::testing::GeniezoneTestEnv env,
                       hv::testing::GeniezoneTestEnv::Create());
  env.fake->ClearCalls();
  ASSERT_OK(env.vm->AddMemoryRegion(0, std::move(ram), {}).status());
  EXPECT_THAT(hv::testing::IoctlNames(*env.fake),
              ElementsAre("GZVM_SET_USER_MEMORY_REGION"));
}

}  // namespace
}  // namespace hv::examples
