// WhpxVcpu's XSAVE calls against the fake: WHPX's compacted image in, hv's
// standard image out, and back.
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/whpx/whpx_test_util.h"
#include "hypervisor/whpx/whpx_vcpu.h"
#include "hypervisor/whpx/whpx_xsave.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace whpx_abi;  // NOLINT

uint64_t Get64(const std::vector<uint8_t>& image, size_t offset) {
  uint64_t value;
  std::memcpy(&value, image.data() + offset, 8);
  return value;
}
void Put64(std::vector<uint8_t>& image, size_t offset, uint64_t value) {
  std::memcpy(image.data() + offset, &value, 8);
}

// WhpxVcpuFixture whose fake logs only the calls after vCPU 0 exists.
class WhpxXsaveTest : public WhpxVcpuFixture {
 protected:
  explicit WhpxXsaveTest(testing::WhpxFake::Options options = {})
      : WhpxVcpuFixture(options) {}
  void SetUp() override {
    WhpxVcpuFixture::SetUp();
    if (HasFatalFailure()) return;
    bed_.fake->ClearCalls();
  }
};

TEST_F(WhpxXsaveTest, ImageIsStandardFormatOfXsaveSize) {
  EXPECT_TRUE(bed_.hypervisor->CheckCapability(HypervisorCap::kXsave));
  const size_t size = vcpu_->XsaveSize();
  EXPECT_GE(size, 4096u);
  EXPECT_GE(size, HostXsaveLayout().standard_size);
  ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> image, vcpu_->GetXsave());
  EXPECT_EQ(image.size(), size);
  // The size asked for first, then the image (the fake's XCOMP_BV and size).
  const std::string compacted_size =
      absl::StrFormat("size %u", bed_.fake->XsaveImageSize());
  ASSERT_EQ(bed_.fake->calls().size(), 2u);
  EXPECT_THAT(bed_.fake->calls()[0].args, HasSubstr("vp 0, size 0"));
  EXPECT_EQ(bed_.fake->calls()[0].result, kWhvEInsufficientBuffer);
  EXPECT_THAT(bed_.fake->calls()[1].args, HasSubstr(compacted_size));
  // Standard format: XCOMP_BV 0; the legacy region is the FP/SSE registers
  // (the fake's reset FCW 0x40, MXCSR 0x1f80).
  EXPECT_EQ(Get64(image, kXsaveXcompBvOffset), 0u);
  EXPECT_EQ(Get64(image, kXsaveXstateBvOffset), 3u);
  uint16_t fcw;
  uint32_t mxcsr;
  std::memcpy(&fcw, image.data() + 0, 2);
  std::memcpy(&mxcsr, image.data() + 24, 4);
  EXPECT_EQ(fcw, 0x40);
  EXPECT_EQ(mxcsr, 0x1f80u);
}

TEST_F(WhpxXsaveTest, SetXsaveRoundTripsAndReachesTheRegisters) {
  ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> image, vcpu_->GetXsave());
  for (int i = 0; i < 16; ++i) image[160 + i] = 0xa0 + i;  // XMM0
  uint64_t xstate_bv = 3;
  const bool avx = (bed_.fake->XsaveXcompBv() & 4) != 0;
  if (avx) {
    // YMM0's upper half at AVX's standard offset (SDM Vol. 1, 13.5.3).
    for (int i = 0; i < 16; ++i) image[576 + i] = 0xc0 + i;
    xstate_bv |= 4;
  }
  Put64(image, kXsaveXstateBvOffset, xstate_bv);
  bed_.fake->ClearCalls();
  ASSERT_OK(vcpu_->SetXsave(image));
  EXPECT_THAT(bed_.fake->CallNames(),
              ElementsAre("WHvGetVirtualProcessorXsaveState",
                          "WHvGetVirtualProcessorXsaveState",
                          "WHvSetVirtualProcessorXsaveState"));
  EXPECT_THAT(bed_.fake->calls()[2].args,
              HasSubstr(absl::StrFormat("size %u",
                                        bed_.fake->XsaveImageSize())));
  ASSERT_OK_AND_ASSIGN(Fpu fpu, vcpu_->GetFpu());
  for (int i = 0; i < 16; ++i) EXPECT_EQ(fpu.xmm[0][i], 0xa0 + i);
  EXPECT_THAT(vcpu_->GetXsave(), ::hv::testing::IsOkAndHolds(image));
  if (!avx) GTEST_SKIP() << "this host's XSAVE has no AVX state";
}

TEST_F(WhpxXsaveTest, FpuWritesShowInTheImage) {
  ASSERT_OK_AND_ASSIGN(Fpu fpu, vcpu_->GetFpu());
  fpu.xmm[15][3] = 0x5a;
  fpu.fcw = 0x37f;
  ASSERT_OK(vcpu_->SetFpu(fpu));
  ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> image, vcpu_->GetXsave());
  EXPECT_EQ(image[160 + 15 * 16 + 3], 0x5a);
  EXPECT_EQ(image[0], 0x7f);
  EXPECT_EQ(image[1], 0x03);
}

TEST_F(WhpxXsaveTest, BadImagesAreRefusedWithNothingLoaded) {
  ASSERT_OK_AND_ASSIGN(const std::vector<uint8_t> before, vcpu_->GetXsave());
  bed_.fake->ClearCalls();
  // The wrong size: no WHPX call at all.
  EXPECT_THAT(vcpu_->SetXsave(std::vector<uint8_t>(before.size() + 64)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(absl::StrFormat("%u bytes", before.size() + 64))));
  EXPECT_THAT(vcpu_->SetXsave(std::vector<uint8_t>(100)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("set xsave")));
  EXPECT_THAT(bed_.fake->calls(), IsEmpty());
  // Not a standard image (XCOMP_BV set, a reserved header byte): read, not
  // loaded.
  std::vector<uint8_t> compacted = before;
  Put64(compacted, kXsaveXcompBvOffset, bed_.fake->XsaveXcompBv());
  EXPECT_THAT(vcpu_->SetXsave(compacted),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("standard-format")));
  std::vector<uint8_t> reserved = before;
  reserved[kXsaveXstateBvOffset + 63] = 1;
  EXPECT_THAT(vcpu_->SetXsave(reserved),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("header byte 63")));
  // A component the vCPU does not hold (bit 62 is never one).
  std::vector<uint8_t> foreign = before;
  Put64(foreign, kXsaveXstateBvOffset, 3 | (1ull << 62));
  EXPECT_THAT(vcpu_->SetXsave(foreign),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("does not hold")));
  for (const auto& call : bed_.fake->calls()) {
    EXPECT_EQ(call.name, "WHvGetVirtualProcessorXsaveState");
  }
  // WHPX refuses it (MXCSR reserved bits: XRSTORS' #GP): its HRESULT.
  std::vector<uint8_t> bad_mxcsr = before;
  const uint32_t mxcsr = 0xffff0000u;
  std::memcpy(bad_mxcsr.data() + 24, &mxcsr, 4);
  EXPECT_THAT(vcpu_->SetXsave(bad_mxcsr),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("WHvSetVirtualProcessorXsaveState (vp 0")));
  EXPECT_THAT(vcpu_->GetXsave(), ::hv::testing::IsOkAndHolds(before));
}

TEST_F(WhpxXsaveTest, WhpxFailuresNameTheCall) {
  bed_.fake->FailNext("WHvGetVirtualProcessorXsaveState", kEFail);
  EXPECT_THAT(vcpu_->GetXsave(),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("get xsave: WHvGetVirtualProcessorXsaveState "
                                 "(vp 0, size 0): E_FAIL (HRESULT 0x80004005)")));
  ASSERT_OK_AND_ASSIGN(const std::vector<uint8_t> before, vcpu_->GetXsave());
  std::vector<uint8_t> changed = before;
  changed[160] ^= 0xff;
  bed_.fake->FailNext("WHvSetVirtualProcessorXsaveState", kEFail);
  EXPECT_THAT(vcpu_->SetXsave(changed),
              StatusIs(absl::StatusCode::kInternal,
                       HasSubstr("set xsave: WHvSetVirtualProcessorXsaveState")));
  EXPECT_THAT(vcpu_->GetXsave(), ::hv::testing::IsOkAndHolds(before));
}

testing::WhpxFake::Options AvxOnly() {
  testing::WhpxFake::Options options;
  options.xsave_components = 1ull << 2;
  return options;
}

class WhpxXsaveAvxOnlyTest : public WhpxXsaveTest {
 protected:
  WhpxXsaveAvxOnlyTest() : WhpxXsaveTest(AvxOnly()) {}
};

TEST_F(WhpxXsaveAvxOnlyTest, ComponentsOutsideTheVcpusAreRefused) {
  if ((bed_.fake->XsaveXcompBv() & 4) == 0) {
    GTEST_SKIP() << "this host's XSAVE has no AVX state";
  }
  ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> image, vcpu_->GetXsave());
  // AVX-512's opmask state (component 5) is not among the vCPU's.
  Put64(image, kXsaveXstateBvOffset, 3 | 4 | (1ull << 5));
  EXPECT_THAT(vcpu_->SetXsave(image),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("does not hold")));
  Put64(image, kXsaveXstateBvOffset, 3 | 4);
  EXPECT_OK(vcpu_->SetXsave(image));
}

testing::WhpxFake::Options WithoutXsaveCalls() {
  testing::WhpxFake::Options options;
  options.xsave_state_calls = false;
  return options;
}
testing::WhpxFake::Options WithoutXsaveFeature() {
  testing::WhpxFake::Options options;
  options.features &= ~kFeatureXsave;
  return options;
}

class WhpxNoXsaveCallsTest : public WhpxXsaveTest {
 protected:
  WhpxNoXsaveCallsTest() : WhpxXsaveTest(WithoutXsaveCalls()) {}
};
class WhpxNoXsaveFeatureTest : public WhpxXsaveTest {
 protected:
  WhpxNoXsaveFeatureTest() : WhpxXsaveTest(WithoutXsaveFeature()) {}
};

void ExpectNoXsave(WhpxTestBed& bed, VcpuX86_64& vcpu) {
  EXPECT_FALSE(bed.hypervisor->CheckCapability(HypervisorCap::kXsave));
  EXPECT_EQ(vcpu.XsaveSize(), 0u);
  EXPECT_THAT(vcpu.GetXsave(), StatusIs(absl::StatusCode::kUnimplemented,
                                        HasSubstr("kXsave")));
  EXPECT_THAT(vcpu.SetXsave(std::vector<uint8_t>(4096)),
              StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(bed.fake->calls(), IsEmpty());
}

TEST_F(WhpxNoXsaveCallsTest, AnOlderDllHasNoXsave) {
  ExpectNoXsave(bed_, *vcpu_);
}

TEST_F(WhpxNoXsaveFeatureTest, WithoutTheFeatureThereIsNoXsave) {
  ExpectNoXsave(bed_, *vcpu_);
}

}  // namespace
}  // namespace hv
