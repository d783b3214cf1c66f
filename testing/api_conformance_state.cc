// ApiConformance: the vCPU and VM state calls a snapshot needs, on every
// backend: each works where its capability is reported, and is
// UNIMPLEMENTED (changing nothing) where it is not. The guest-code suites
// show what the state means (x86_guest_conformance_state.cc).

#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "testing/api_conformance.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::IsEmpty;

TEST_P(ApiConformance, MpStateFollowsItsCapability) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, NewRunnableVcpu(0));
  if (!hypervisor_->CheckCapability(HypervisorCap::kMpState)) {
    EXPECT_THAT(vcpu->GetMpState(), StatusIs(absl::StatusCode::kUnimplemented));
    EXPECT_THAT(vcpu->SetMpState(MpState::kRunnable),
                StatusIs(absl::StatusCode::kUnimplemented));
    return;
  }
  ASSERT_OK_AND_ASSIGN(MpState state, vcpu->GetMpState());
  EXPECT_EQ(state, MpState::kRunnable) << MpStateName(state);
  ASSERT_OK(vcpu->SetMpState(state));
  // A state of the other architecture never reaches the hypervisor.
  const MpState foreign = vcpu->AsX86_64() != nullptr ? MpState::kStopped
                                                      : MpState::kHalted;
  EXPECT_THAT(vcpu->SetMpState(foreign),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(vcpu->GetMpState(), IsOkAndHolds(state));
}

TEST_P(ApiConformance, X86StateCallsFollowTheirCapabilities) {
  VmX86_64* vm86 = vm_->AsX86_64();
  if (vm86 == nullptr) GTEST_SKIP() << "x86_64 state calls";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<VcpuX86_64> vcpu, vm86->CreateVcpuX86_64(0));
  const auto has = [&](HypervisorCap cap) { return hypervisor_->CheckCapability(cap); };
  if (has(HypervisorCap::kXsave)) {
    ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> image, vcpu->GetXsave());
    EXPECT_EQ(image.size(), vcpu->XsaveSize());
    // The standard format (Intel SDM Vol. 1, Section 13.4.2), whatever the
    // hypervisor keeps: XCOMP_BV, the header's second quadword, is zero.
    ASSERT_GE(image.size(), 576u);
    EXPECT_EQ(std::vector<uint8_t>(image.begin() + 520, image.begin() + 528),
              std::vector<uint8_t>(8, 0))
        << "XCOMP_BV set: a compacted image";
    EXPECT_OK(vcpu->SetXsave(image));
    EXPECT_THAT(vcpu->SetXsave(std::vector<uint8_t>(image.size() + 64)),
                StatusIs(absl::StatusCode::kInvalidArgument));
    // Nothing was loaded.
    EXPECT_THAT(vcpu->GetXsave(), IsOkAndHolds(image));
  } else {
    EXPECT_THAT(vcpu->GetXsave(), StatusIs(absl::StatusCode::kUnimplemented));
    EXPECT_THAT(vcpu->SetXsave(std::vector<uint8_t>(4096)),
                StatusIs(absl::StatusCode::kUnimplemented));
    EXPECT_EQ(vcpu->XsaveSize(), 0u);
  }
  if (has(HypervisorCap::kVcpuEvents)) {
    ASSERT_OK_AND_ASSIGN(VcpuEvents events, vcpu->GetVcpuEvents());
    EXPECT_OK(vcpu->SetVcpuEvents(events));
  } else {
    EXPECT_THAT(vcpu->GetVcpuEvents(), StatusIs(absl::StatusCode::kUnimplemented));
    EXPECT_THAT(vcpu->SetVcpuEvents({}), StatusIs(absl::StatusCode::kUnimplemented));
  }
  if (!has(HypervisorCap::kTscKhz)) {
    EXPECT_THAT(vcpu->SetTscKhz(1000000),
                StatusIs(absl::StatusCode::kUnimplemented));
  }
  if (has(HypervisorCap::kMsrList)) {
    EXPECT_THAT(vm86->GetMsrIndexList(), IsOkAndHolds(Not(IsEmpty())));
  } else {
    EXPECT_THAT(vm86->GetMsrIndexList(), StatusIs(absl::StatusCode::kUnimplemented));
  }
  if (!has(HypervisorCap::kFeatureMsrs)) {
    EXPECT_THAT(vm86->GetFeatureMsrs(), StatusIs(absl::StatusCode::kUnimplemented));
  }
}

TEST_P(ApiConformance, UserSpaceMsrsFollowTheCapability) {
  VmX86_64* vm86 = vm_->AsX86_64();
  if (vm86 == nullptr) GTEST_SKIP() << "x86_64 MSRs";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<VcpuX86_64> vcpu, vm86->CreateVcpuX86_64(0));
  // No MSR exit has happened: nothing to answer, on every backend.
  bool called = false;
  EXPECT_THAT(vcpu->HandleMsr([&](MsrRequest&) { called = true; }),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("HandleMsr")));
  EXPECT_FALSE(called);
  const MsrRange range{0x1a0, 1, true, true};
  HV_UNIMPLEMENTED_WITHOUT(*vm_, VmCap::kUserSpaceMsrs,
                           vm86->SetUserSpaceMsrs({range}));
  ASSERT_OK(vm86->SetUserSpaceMsrs({range, MsrRange{0xc0000100, 3, false, true}}));
  EXPECT_THAT(vm86->SetUserSpaceMsrs({range, range}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("overlaps")));
  EXPECT_THAT(vm86->SetUserSpaceMsrs(std::vector<MsrRange>(17, range)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("17 ranges")));
  ASSERT_OK(vm86->SetUserSpaceMsrs({}));
}

}  // namespace
}  // namespace hv::testing
