#include "hypervisor/whpx/whpx_hypervisor.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/whpx/whpx_status.h"
#include "hypervisor/whpx/whpx_test_util.h"
#include "testing/backend_expectations.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace whpx_abi;  // NOLINT

TEST(HResultStatus, NamesTheCallAndTheHresultInHex) {
  EXPECT_OK(HResultStatus("WHvSetupPartition", kSOk));
  EXPECT_THAT(HResultStatus("WHvMapGpaRange (gpa 0x1000)", kEInvalidArg),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "WHvMapGpaRange (gpa 0x1000): E_INVALIDARG (HRESULT "
                       "0x80070057)"));
  EXPECT_THAT(HResultStatus("WHvUnmapGpaRange", kWhvEGpaRangeNotFound),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("WHV_E_GPA_RANGE_NOT_FOUND (HRESULT 0x80370305)")));
  EXPECT_THAT(HResultStatus("WHvCreateVirtualProcessor", kWhvEVpAlreadyExists),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(HResultStatus("X", static_cast<HRESULT>(0x80123456)),
              StatusIs(absl::StatusCode::kUnknown,
                       "X: HRESULT 0x80123456"));
}

TEST(WhpxHypervisor, CreateAsksTheCapabilitiesOnce) {
  auto fake = ::hv::testing::WhpxFake::Create();
  ASSERT_OK_AND_ASSIGN(auto whpx, WhpxHypervisor::Create(fake->api(), 8));
  EXPECT_EQ(whpx->kind(), "whpx");
  EXPECT_EQ(whpx->MaxVcpus(), 8u);
  const auto calls = fake->calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[0].name, "WHvGetCapability");
  EXPECT_THAT(calls[0].args, HasSubstr("code 0, "));
  EXPECT_THAT(calls[1].args, HasSubstr("code 0x1,"));
  EXPECT_THAT(calls[2].args, HasSubstr("code 0x2,"));
  EXPECT_THAT(calls[3].args, HasSubstr("code 0x1004"));
  EXPECT_EQ(whpx->caps().processor_clock_hz, 2'400'000'000u);
  fake->ClearCalls();
  EXPECT_TRUE(::hv::testing::HasCapabilities(
      *whpx,
      {HypervisorCap::kDirtyLog, HypervisorCap::kReadOnlyMemory,
       HypervisorCap::kImmediateExit, HypervisorCap::kXcrs},
      {HypervisorCap::kIrqfd, HypervisorCap::kIoEventfd,
       HypervisorCap::kIrqChip}));
  EXPECT_TRUE(fake->calls().empty());
}

TEST(WhpxHypervisor, CapabilitiesFollowTheHostFeatures) {
  ::hv::testing::WhpxFake::Options options;
  options.features = 0;
  auto fake = ::hv::testing::WhpxFake::Create(options);
  ASSERT_OK_AND_ASSIGN(auto whpx, WhpxHypervisor::Create(fake->api()));
  EXPECT_FALSE(whpx->CheckCapability(HypervisorCap::kDirtyLog));
  EXPECT_FALSE(whpx->CheckCapability(HypervisorCap::kXcrs));
}

TEST(WhpxHypervisor, NoHypervisorIsUnavailable) {
  ::hv::testing::WhpxFake::Options options;
  options.hypervisor_present = false;
  auto fake = ::hv::testing::WhpxFake::Create(options);
  EXPECT_THAT(WhpxHypervisor::Create(fake->api()),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("HypervisorPresent")));
}

TEST(WhpxHypervisor, FailedCapabilityCallNamesItAndTheHresult) {
  auto fake = ::hv::testing::WhpxFake::Create();
  fake->FailCall(1, kEAccessDenied);
  EXPECT_THAT(WhpxHypervisor::Create(fake->api()),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       "WHvGetCapability (Features): E_ACCESSDENIED "
                       "(HRESULT 0x80070005)"));
}

TEST(WhpxHypervisor, BadArgumentsAreRefusedBeforeAnyCall) {
  EXPECT_THAT(WhpxHypervisor::Create(nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("null")));
  auto fake = ::hv::testing::WhpxFake::Create();
  EXPECT_THAT(WhpxHypervisor::Create(fake->api(), 0),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("max_vcpus")));
  EXPECT_TRUE(fake->calls().empty());
}

TEST(WhpxHypervisor, CreateVmMakesAPartitionThatTheFirstVcpuSetsUp) {
  auto fake = ::hv::testing::WhpxFake::Create();
  ASSERT_OK_AND_ASSIGN(auto whpx, WhpxHypervisor::Create(fake->api(), 3));
  fake->ClearCalls();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, whpx->CreateVm());
  EXPECT_THAT(fake->CallNames(),
              ElementsAre("WHvCreatePartition", "WHvSetPartitionProperty",
                          "WHvSetPartitionProperty"));
  const auto calls = fake->calls();
  EXPECT_THAT(calls[1].args, HasSubstr("code 0x1fff, value 0x3"));
  // CPUID and MSR exits, not the exception exits the host also offers.
  EXPECT_THAT(calls[2].args, HasSubstr("code 0x1, value 0x3"));
  // Set up only when something needs it, so CreateIrqChip can still choose
  // the local APIC emulation.
  EXPECT_FALSE(fake->IsSetUp());
  EXPECT_EQ(fake->ProcessorCount(), 3u);
  EXPECT_EQ(fake->ExtendedVmExits(), kExtendedExitX64Cpuid | kExtendedExitX64Msr);
  EXPECT_EQ(fake->LivePartitions(), 1);
  fake->ClearCalls();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, vm->CreateVcpu(0));
  EXPECT_THAT(fake->CallNames(),
              ElementsAre("WHvSetupPartition", "WHvCreateVirtualProcessor",
                          "WHvEmulatorCreateEmulator"));
  EXPECT_TRUE(fake->IsSetUp());
  // Once only.
  fake->ClearCalls();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu1, vm->CreateVcpu(1));
  EXPECT_THAT(fake->CallNames(), ElementsAre("WHvCreateVirtualProcessor",
                                             "WHvEmulatorCreateEmulator"));
  vcpu.reset();
  vcpu1.reset();
  vm.reset();
  EXPECT_EQ(fake->LivePartitions(), 0);
  EXPECT_TRUE(fake->violations().empty());
}

TEST(WhpxHypervisor, SetupFailureIsReportedAndTriedAgain) {
  auto fake = ::hv::testing::WhpxFake::Create();
  ASSERT_OK_AND_ASSIGN(auto whpx, WhpxHypervisor::Create(fake->api()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, whpx->CreateVm());
  fake->FailNext("WHvSetupPartition", kWhvEUnsupportedHypervisorConfig);
  auto ram = MemoryRegion::CreateShared("ram", 0x4000);
  ASSERT_OK(ram);
  EXPECT_THAT(vm->AddMemoryRegion(0, std::move(ram).value(), {}),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("WHvSetupPartition: WHV_E_UNSUPPORTED_HYPERVISOR_CONFIG")));
  EXPECT_TRUE(vm->MemoryRegions().empty());
  EXPECT_FALSE(fake->IsSetUp());
  // The next call that needs the partition sets it up.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, vm->CreateVcpu(0));
  EXPECT_TRUE(fake->IsSetUp());
  vcpu.reset();
  vm.reset();
  EXPECT_EQ(fake->LivePartitions(), 0);
}

TEST(WhpxHypervisor, RegisteredAsWhpxAndUnavailableOffWindows) {
  auto whpx = CreateHypervisor("whpx");
#if defined(_WIN32)
  // A Windows host with the feature has WHPX; wine and hosts without it
  // get UNAVAILABLE naming what is missing, never a loader failure.
  if (!whpx.ok()) {
    EXPECT_THAT(whpx, StatusIs(absl::StatusCode::kUnavailable,
                               HasSubstr("Win32 error")));
  }
#else
  EXPECT_THAT(whpx, StatusIs(absl::StatusCode::kUnavailable,
                             HasSubstr("winhvplatform.dll")));
#endif
  EXPECT_THAT(CreateHypervisor("whpx[max_vcpus=zero]"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("max_vcpus=zero")));
  EXPECT_THAT(CreateHypervisor("whpx[device=x]"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace hv
