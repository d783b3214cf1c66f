// Tests of the HAXM ABI tables: ioctl numbers, device paths, names and the
// conversion of each platform's error numbers.
#include "hypervisor/haxm/haxm_abi.h"

#include <cerrno>
#include <set>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/haxm/haxm_sys.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

std::vector<uint32_t> VcpuCodes(const haxm_abi::IoctlCodes& c) {
  return {c.vcpu_run,          c.vcpu_set_msrs,  c.vcpu_get_msrs,
          c.vcpu_set_fpu,      c.vcpu_get_fpu,   c.vcpu_setup_tunnel,
          c.vcpu_interrupt,    c.vcpu_set_regs,  c.vcpu_get_regs,
          c.vcpu_debug,        c.vcpu_set_cpuid};
}

std::vector<uint32_t> VmCodes(const haxm_abi::IoctlCodes& c) {
  return {c.vm_vcpu_create, c.vm_alloc_ram,   c.vm_set_ram,
          c.vm_add_ramblock, c.vm_set_ram2,   c.vm_protect_ram,
          c.vm_notify_qemu_version};
}

TEST(HaxmAbi, CodesAreDistinctPerDeviceLevel) {
  for (const haxm_abi::Platform* p :
       {&haxm_abi::PosixPlatform(), &haxm_abi::WindowsPlatform()}) {
    SCOPED_TRACE(p->name);
    for (const auto& codes : {VcpuCodes(p->codes), VmCodes(p->codes)}) {
      std::set<uint32_t> unique(codes.begin(), codes.end());
      EXPECT_EQ(unique.size(), codes.size());
      EXPECT_EQ(unique.count(0), 0u);
    }
  }
}

TEST(HaxmAbi, LinuxNumbersEncodeTheStructSizes) {
  const haxm_abi::IoctlCodes& c = haxm_abi::kLinuxCodes;
  EXPECT_EQ(c.create_vm, 0xc0040021u);
  EXPECT_EQ(c.capability, 0x80100023u);
  EXPECT_EQ(c.vm_vcpu_create, 0xc0040080u);
  EXPECT_EQ(c.vm_alloc_ram, 0xc0100081u);
  EXPECT_EQ(c.vm_add_ramblock, 0x40180085u);
  EXPECT_EQ(c.vm_notify_qemu_version, 0x40080084u);
  EXPECT_EQ(c.vcpu_setup_tunnel, 0xc01800c5u);
  EXPECT_EQ(c.vcpu_interrupt, 0xc00400c6u);
  EXPECT_EQ(c.vcpu_set_regs, 0xc20000c7u);
  EXPECT_EQ(c.vcpu_get_regs, 0xc20000c8u);
  EXPECT_EQ(c.vcpu_set_fpu, 0x420000c3u);
  EXPECT_EQ(c.vcpu_set_cpuid, 0x400800cau);
  EXPECT_EQ(c.vcpu_kickoff, 0u) << "the POSIX port has no KICKOFF";
}

TEST(HaxmAbi, WindowsNumbersAreCtlCodesOnDeviceType0x4000) {
  const haxm_abi::IoctlCodes& c = haxm_abi::kWindowsCodes;
  EXPECT_EQ(c.create_vm, 0x40002404u);
  EXPECT_EQ(c.vm_vcpu_create, 0x40002408u);
  EXPECT_EQ(c.vm_alloc_ram, 0x4000240cu);
  EXPECT_EQ(c.vcpu_setup_tunnel, 0x4000242cu);
  EXPECT_EQ(c.vcpu_get_regs, 0x40002438u);
  EXPECT_EQ(c.vcpu_kickoff, 0x4000243cu);
  EXPECT_EQ(c.vcpu_set_cpuid, 0x4000245cu);
}

TEST(HaxmAbi, DevicePathsFollowEachPort) {
  const auto& posix = haxm_abi::PosixPlatform();
  const auto& windows = haxm_abi::WindowsPlatform();
  EXPECT_EQ(haxm_abi::SystemDevicePath(posix), "/dev/HAX");
  EXPECT_EQ(haxm_abi::VmDevicePath(posix, 3), "/dev/hax_vm/vm03");
  EXPECT_EQ(haxm_abi::VcpuDevicePath(posix, 3, 12), "/dev/hax_vm03/vcpu12");
  EXPECT_EQ(haxm_abi::SystemDevicePath(windows), "\\\\.\\HAX");
  EXPECT_EQ(haxm_abi::VmDevicePath(windows, 3), "\\\\.\\hax_vm03");
  EXPECT_EQ(haxm_abi::VcpuDevicePath(windows, 3, 1), "\\\\.\\hax_vm03_vcpu01");
}

TEST(HaxmAbi, NamesDependOnTheDeviceLevel) {
  const auto& windows = haxm_abi::WindowsPlatform();
  const uint32_t shared = haxm_abi::kWindowsCodes.capability;
  EXPECT_EQ(haxm_abi::IoctlName(windows, haxm_abi::DeviceLevel::kSystem, shared),
            "HAX_IOCTL_CAPABILITY");
  EXPECT_EQ(haxm_abi::IoctlName(windows, haxm_abi::DeviceLevel::kVm, shared),
            "HAX_VM_IOCTL_NOTIFY_QEMU_VERSION");
  EXPECT_EQ(haxm_abi::IoctlName(haxm_abi::PosixPlatform(),
                                haxm_abi::DeviceLevel::kVcpu, 0x1234),
            "ioctl 0x1234");
  EXPECT_STREQ(haxm_abi::ExitStatusName(haxm_abi::kExitFastMmio),
               "HAX_EXIT_FAST_MMIO");
}

TEST(HaxmAbi, ErrorsBecomeStatusesNamingTheOperation) {
  EXPECT_THAT(HaxmErrorStatus(haxm_abi::PosixPlatform(), "HAX_VCPU_IOCTL_RUN",
                              EINVAL),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "HAX_VCPU_IOCTL_RUN: Invalid argument"));
  EXPECT_THAT(HaxmErrorStatus(haxm_abi::WindowsPlatform(), "open \\\\.\\HAX", 2),
              StatusIs(absl::StatusCode::kNotFound,
                       "open \\\\.\\HAX: ERROR_FILE_NOT_FOUND (Win32 error 2)"));
  EXPECT_THAT(HaxmErrorStatus(haxm_abi::WindowsPlatform(), "x", 87),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("ERROR_INVALID_PARAMETER")));
  EXPECT_THAT(HaxmErrorStatus(haxm_abi::WindowsPlatform(), "x", 4242),
              StatusIs(absl::StatusCode::kUnknown, "x: Win32 error 4242"));
}

TEST(HaxmAbi, DriverTunnelAddressesAreChecked) {
  HaxmTunnel tunnel;
  haxm_abi::hax_tunnel_info info = {};
  EXPECT_EQ(MapDriverTunnel(haxm_abi::PosixPlatform(), info, &tunnel), EINVAL);
  info.va = 0x10000;
  info.io_va = 0x20000;
  info.size = 16;  // smaller than a hax_tunnel
  EXPECT_EQ(MapDriverTunnel(haxm_abi::WindowsPlatform(), info, &tunnel), 87);
  info.size = 4096;
  ASSERT_EQ(MapDriverTunnel(haxm_abi::PosixPlatform(), info, &tunnel), 0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(tunnel.tunnel), 0x10000u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(tunnel.io_buffer), 0x20000u);
  EXPECT_EQ(tunnel.io_buffer_size, haxm_abi::kIoBufferSize);
}

}  // namespace
}  // namespace hv
