// The Example block of each header in hypervisor/haxm, pasted as it stands
// there under a line naming the header (tools/examples_check.sh), so an
// example that no longer matches the API stops the build. Those given a
// seam, device or VM run on the fake driver; those that open the real
// driver are compiled, not run.
#include <cstdint>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/haxm/haxm_abi.h"
#include "hypervisor/haxm/haxm_device.h"
#include "hypervisor/haxm/haxm_hypervisor.h"
#include "hypervisor/haxm/haxm_sys.h"
#include "hypervisor/haxm/haxm_vcpu.h"
#include "hypervisor/haxm/haxm_vm.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vcpu_exit.h"
#include "testing/fakes/haxm_fake.h"
#include "testing/status_matchers.h"

namespace hv::examples {
namespace {

using ::hv::testing::HaxmFake;

// hypervisor/haxm/haxm_abi.h
void HaxmAbiExample(hv::HaxmSys* sys, hv::HaxmHandle vm, uint64_t host) {
  const hv::haxm_abi::Platform& p = hv::haxm_abi::PosixPlatform();
  hv::haxm_abi::hax_set_ram_info2 info = {};
  info.pa_start = 0x100000; info.size = 0x10000; info.va = host;
  info.flags = hv::haxm_abi::kRamInfoStandalone;
  sys->Ioctl(vm, p.codes.vm_set_ram2, &info, sizeof(info), 0);
}

// hypervisor/haxm/haxm_hypervisor.h
absl::Status HaxmHypervisorExample() {
  ASSIGN_OR_RETURN(std::unique_ptr<hv::HaxmHypervisor> haxm,
                   hv::HaxmHypervisor::Create("/dev/HAX"));
  ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, haxm->CreateVm());
  return absl::OkStatus();
}

// hypervisor/haxm/haxm_sys.h
absl::Status HaxmSysExample() {
  hv::HaxmSys* sys = hv::RealHaxmSys();
  hv::HaxmHandle hax;
  if (int e = sys->Open(hv::haxm_abi::SystemDevicePath(sys->platform()), &hax))
    return sys->ErrorStatus("open /dev/HAX", e);
  hv::haxm_abi::hax_module_version version = {};
  int e = sys->Ioctl(hax, sys->platform().codes.version, &version, 0,
                     sizeof(version));
  (void)e;
  return absl::OkStatus();
}

TEST(HaxmExamples, Compile) {
  EXPECT_NE(&HaxmAbiExample, nullptr);
  EXPECT_NE(&HaxmHypervisorExample, nullptr);
  EXPECT_NE(&HaxmSysExample, nullptr);
}

// hypervisor/haxm/haxm_device.h
absl::StatusOr<std::shared_ptr<const hv::HaxmDevice>> HaxmDeviceExample(
    hv::HaxmSys* sys, bool* rom_out) {
  ASSIGN_OR_RETURN(std::shared_ptr<const hv::HaxmDevice> device,
                   hv::HaxmDevice::Open(sys, "/dev/HAX"));
  bool rom = device->Has(hv::haxm_abi::kCapImplicitRamblock);
  *rom_out = rom;
  return device;
}

// hypervisor/haxm/haxm_vm.h
absl::StatusOr<std::unique_ptr<hv::HaxmVm>> HaxmVmExample(
    std::shared_ptr<const hv::HaxmDevice> device) {
  ASSIGN_OR_RETURN(std::unique_ptr<hv::HaxmVm> vm, hv::HaxmVm::Create(device));
  ASSIGN_OR_RETURN(auto ram, hv::MemoryRegion::CreateShared("ram", 1 << 20));
  ASSIGN_OR_RETURN(hv::MemSlot slot, vm->AddMemoryRegion(0, std::move(ram), {}));
  (void)slot;
  return vm;
}

// hypervisor/haxm/haxm_vcpu.h
absl::StatusOr<hv::VcpuExit> HaxmVcpuExample(hv::HaxmVm* vm) {
  ASSIGN_OR_RETURN(std::unique_ptr<hv::VcpuX86_64> vcpu, vm->CreateVcpuX86_64(0));
  ASSIGN_OR_RETURN(hv::VcpuExit exit, vcpu->Run());
  return exit;
}

TEST(HaxmExamples, DeviceVmAndVcpu) {
  HaxmFake fake;  // the POSIX port's interface, on every host
  bool rom = false;
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const hv::HaxmDevice> device,
                       HaxmDeviceExample(&fake, &rom));
  EXPECT_TRUE(rom);  // HAXM 7.x reports HAX_CAP_IMPLICIT_RAMBLOCK
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<hv::HaxmVm> vm, HaxmVmExample(device));
  EXPECT_EQ(vm->MemoryRegions().size(), 1u);
  fake.QueueIo(0, 0x3f8, /*is_write=*/true, {'h'});
  ASSERT_OK_AND_ASSIGN(hv::VcpuExit exit, HaxmVcpuExample(vm.get()));
  EXPECT_EQ(exit.kind, hv::VcpuExitKind::kIo);
  EXPECT_EQ(exit.io.port, 0x3f8);
}

}  // namespace
}  // namespace hv::examples
