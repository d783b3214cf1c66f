// HaxmHypervisor against the fake driver: the opening handshake, refusals
// of drivers hv cannot use, capabilities, and registration.
#include "hypervisor/haxm/haxm_hypervisor.h"

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/registry.h"
#include "testing/fakes/haxm_fake.h"
#include "testing/backend_expectations.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(HaxmHypervisor, OpensTheDeviceAndAsksVersionThenCapabilities) {
  HaxmFake fake;
  ASSERT_OK_AND_ASSIGN(auto haxm, HaxmHypervisor::Create("/dev/HAX", &fake));
  EXPECT_EQ(haxm->kind(), "haxm");
  EXPECT_EQ(haxm->MaxVcpus(), 16u);
  EXPECT_THAT(fake.CallNames(),
              ElementsAre("open /dev/HAX", "HAX_IOCTL_VERSION",
                          "HAX_IOCTL_CAPABILITY"));
  EXPECT_EQ(haxm->device().version.cur_version, 4u);
  EXPECT_TRUE(haxm->device().Has(haxm_abi::kCapImplicitRamblock));
  EXPECT_EQ(fake.OpenHandles(), 1u);
  haxm.reset();
  EXPECT_EQ(fake.OpenHandles(), 0u);
}

TEST(HaxmHypervisor, SpeaksTheWindowsNumbering) {
  HaxmFakeOptions options;
  options.platform = &haxm_abi::WindowsPlatform();
  HaxmFake fake(options);
  ASSERT_OK_AND_ASSIGN(auto haxm, HaxmHypervisor::Create(
                                      HaxmHypervisor::DefaultDevicePath(fake),
                                      &fake));
  EXPECT_THAT(fake.CallNames(),
              ElementsAre("open \\\\.\\HAX", "HAX_IOCTL_VERSION",
                          "HAX_IOCTL_CAPABILITY"));
}

// Opening `path` on a driver set up with `options` fails with `code` and a
// message containing `message`, and leaves no handle open.
void ExpectRefused(const HaxmFakeOptions& options, const std::string& path,
                   absl::StatusCode code, const std::string& message) {
  HaxmFake fake(options);
  EXPECT_THAT(HaxmHypervisor::Create(path, &fake),
              StatusIs(code, HasSubstr(message)));
  EXPECT_EQ(fake.OpenHandles(), 0u);
}

TEST(HaxmHypervisor, AMissingDeviceIsNotFoundNamingThePath) {
  ExpectRefused({}, "/dev/NOHAX", absl::StatusCode::kNotFound,
                "open /dev/NOHAX: No such file");
}

TEST(HaxmHypervisor, OldApiVersionsAreRefused) {
  HaxmFakeOptions options;
  options.version = {1, 3};
  ExpectRefused(options, "/dev/HAX", absl::StatusCode::kFailedPrecondition,
                "API v3 is too old");
}

TEST(HaxmHypervisor, ANonWorkingDriverSaysWhy) {
  HaxmFakeOptions options;
  options.wstatus = 0;
  options.winfo = haxm_abi::kCapFailReasonVt;
  ExpectRefused(options, "/dev/HAX", absl::StatusCode::kFailedPrecondition,
                "VT-x is unsupported or disabled");
}

TEST(HaxmHypervisor, SetRam2IsRequired) {
  HaxmFakeOptions options;
  options.winfo &= ~haxm_abi::kCap64BitSetRam;
  ExpectRefused(options, "/dev/HAX", absl::StatusCode::kFailedPrecondition,
                "HAX_CAP_64BIT_SETRAM");
}

TEST(HaxmHypervisor, DriverErrorsNameTheIoctl) {
  HaxmFake fake;
  fake.FailNextIoctl("HAX_IOCTL_CAPABILITY", EFAULT);
  EXPECT_THAT(HaxmHypervisor::Create("/dev/HAX", &fake).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "HAX_IOCTL_CAPABILITY: Bad address"));
  EXPECT_EQ(fake.OpenHandles(), 0u);
}

TEST(HaxmHypervisor, CapabilitiesAreWhatHaxmHas) {
  HaxmFake fake;
  ASSERT_OK_AND_ASSIGN(auto haxm, HaxmHypervisor::Create("/dev/HAX", &fake));
  EXPECT_TRUE(HasCapabilities(
      *haxm, {HypervisorCap::kUserMemory, HypervisorCap::kReadOnlyMemory},
      {HypervisorCap::kImmediateExit, HypervisorCap::kDirtyLog,
       HypervisorCap::kIrqfd, HypervisorCap::kIoEventfd,
       HypervisorCap::kIrqChip, HypervisorCap::kSplitIrqChip,
       HypervisorCap::kXcrs, HypervisorCap::kTscControl,
       HypervisorCap::kSyncRegs}));
}

TEST(HaxmHypervisor, RegistersAsHaxmWithADeviceOption) {
  EXPECT_TRUE(IsLinkedBackend("haxm", {"device"}));
  // No HAXM on this host: the real seam reports the missing device.
  EXPECT_THAT(CreateHypervisor("haxm[device=/nonexistent/HAX]"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("open /nonexistent/HAX")));
}

}  // namespace
}  // namespace hv::testing
