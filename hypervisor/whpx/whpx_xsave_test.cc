#include "hypervisor/whpx/whpx_xsave.h"

#include <cpuid.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

// An invented layout with a gap, an unaligned and an aligned component:
// 2 (256 bytes, standard 576), 5 (72 bytes, standard 1024), 9 (8 bytes,
// standard 2688, 64-byte aligned when compacted) and 11 (supervisor, 16).
XsaveLayout TestLayout() {
  XsaveLayout layout;
  layout.components[2] = {.size = 256, .offset = 576};
  layout.components[5] = {.size = 72, .offset = 1024};
  layout.components[9] = {.size = 8, .offset = 2688, .align64 = true};
  layout.components[11] = {.size = 16, .offset = 0, .supervisor = true};
  layout.standard_size = 2696;
  return layout;
}

constexpr uint64_t kHeld = (1ull << 2) | (1ull << 5) | (1ull << 9);
// Compacted locations: 2 at 576 (to 832), 5 right after at 832 (to 904), 9
// rounded up from 904 to 960 (to 968).
constexpr size_t kAt2 = 576, kAt5 = 832, kAt9 = 960, kCompactedSize = 968;

void Put64(std::vector<uint8_t>& image, size_t offset, uint64_t value) {
  std::memcpy(image.data() + offset, &value, 8);
}
uint64_t Get64(const std::vector<uint8_t>& image, size_t offset) {
  uint64_t value;
  std::memcpy(&value, image.data() + offset, 8);
  return value;
}
void Fill(std::vector<uint8_t>& image, size_t offset, size_t size,
          uint8_t seed) {
  for (size_t i = 0; i < size; ++i) image[offset + i] = seed + i;
}
bool Filled(const std::vector<uint8_t>& image, size_t offset, size_t size,
            uint8_t seed) {
  for (size_t i = 0; i < size; ++i) {
    if (image[offset + i] != static_cast<uint8_t>(seed + i)) return false;
  }
  return true;
}

// A compacted image holding kHeld, `xstate_bv` in use, each component
// filled with its own pattern.
std::vector<uint8_t> Compacted(uint64_t xstate_bv) {
  std::vector<uint8_t> image(kCompactedSize, 0);
  Fill(image, 0, kXsaveLegacySize, 1);
  Put64(image, kXsaveXstateBvOffset, xstate_bv);
  Put64(image, kXsaveXcompBvOffset, kHeld | kXcompBvCompacted);
  Fill(image, kAt2, 256, 20);
  Fill(image, kAt5, 72, 40);
  Fill(image, kAt9, 8, 60);
  return image;
}

TEST(WhpxXsave, CompactedSizePacksAndAligns) {
  EXPECT_THAT(CompactedSize(TestLayout(), kHeld),
              ::hv::testing::IsOkAndHolds(kCompactedSize));
  EXPECT_THAT(CompactedSize(TestLayout(), 0),
              ::hv::testing::IsOkAndHolds(576u));
  // Bit 63 is the format bit, not a component.
  EXPECT_THAT(CompactedSize(TestLayout(), kHeld | kXcompBvCompacted),
              ::hv::testing::IsOkAndHolds(kCompactedSize));
  EXPECT_THAT(CompactedSize(TestLayout(), 1ull << 3),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("state component 3")));
}

TEST(WhpxXsave, CompactedToStandardPlacesEachComponent) {
  const uint64_t xstate_bv = 3 | kHeld;
  ASSERT_OK_AND_ASSIGN(
      std::vector<uint8_t> standard,
      CompactedToStandard(TestLayout(), Compacted(xstate_bv), 4096));
  ASSERT_EQ(standard.size(), 4096u);
  EXPECT_TRUE(Filled(standard, 0, kXsaveLegacySize, 1));
  EXPECT_EQ(Get64(standard, kXsaveXstateBvOffset), xstate_bv);
  EXPECT_EQ(Get64(standard, kXsaveXcompBvOffset), 0u);
  EXPECT_TRUE(Filled(standard, 576, 256, 20));
  EXPECT_TRUE(Filled(standard, 1024, 72, 40));
  EXPECT_TRUE(Filled(standard, 2688, 8, 60));
  // Nothing else: the gaps stay zero.
  EXPECT_EQ(standard[832], 0);
  EXPECT_EQ(standard[1023], 0);
  EXPECT_EQ(standard[2696], 0);
}

TEST(WhpxXsave, ComponentsInTheirInitialStateAreZero) {
  // Component 5 is held but in its initial state (XSTATE_BV bit 5 clear).
  ASSERT_OK_AND_ASSIGN(
      std::vector<uint8_t> standard,
      CompactedToStandard(TestLayout(), Compacted(3 | (1ull << 2) | (1ull << 9)),
                          4096));
  EXPECT_TRUE(Filled(standard, 576, 256, 20));
  EXPECT_EQ(std::vector<uint8_t>(standard.begin() + 1024,
                                 standard.begin() + 1096),
            std::vector<uint8_t>(72, 0));
  EXPECT_TRUE(Filled(standard, 2688, 8, 60));
}

TEST(WhpxXsave, RoundTripsThroughTheStandardFormat) {
  const std::vector<uint8_t> compacted = Compacted(3 | kHeld);
  ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> standard,
                       CompactedToStandard(TestLayout(), compacted, 4096));
  EXPECT_THAT(StandardToCompacted(TestLayout(), standard, kHeld),
              ::hv::testing::IsOkAndHolds(compacted));
  // XCOMP_BV given with the format bit: the same image.
  EXPECT_THAT(
      StandardToCompacted(TestLayout(), standard, kHeld | kXcompBvCompacted),
      ::hv::testing::IsOkAndHolds(compacted));
}

TEST(WhpxXsave, StandardToCompactedKeepsTheVcpusComponents) {
  // A standard image using only AVX becomes an image of all the vCPU's
  // components, the others in their initial state (zero, XSTATE_BV clear).
  std::vector<uint8_t> standard(4096, 0);
  Fill(standard, 0, kXsaveLegacySize, 1);
  Put64(standard, kXsaveXstateBvOffset, 3 | (1ull << 2));
  Fill(standard, 576, 256, 90);
  ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> compacted,
                       StandardToCompacted(TestLayout(), standard, kHeld));
  ASSERT_EQ(compacted.size(), kCompactedSize);
  EXPECT_EQ(Get64(compacted, kXsaveXstateBvOffset), 3 | (1ull << 2));
  EXPECT_EQ(Get64(compacted, kXsaveXcompBvOffset), kHeld | kXcompBvCompacted);
  EXPECT_TRUE(Filled(compacted, kAt2, 256, 90));
  EXPECT_EQ(std::vector<uint8_t>(compacted.begin() + kAt5, compacted.end()),
            std::vector<uint8_t>(kCompactedSize - kAt5, 0));
}

TEST(WhpxXsave, RefusesWhatIsNotACompactedImage) {
  const XsaveLayout layout = TestLayout();
  EXPECT_THAT(CompactedToStandard(layout, std::vector<uint8_t>(575), 4096),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("575 bytes")));
  std::vector<uint8_t> standard_format = Compacted(3);
  Put64(standard_format, kXsaveXcompBvOffset, 0);
  EXPECT_THAT(CompactedToStandard(layout, standard_format, 4096),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not compacted")));
  std::vector<uint8_t> outside = Compacted(3 | (1ull << 7));
  EXPECT_THAT(CompactedToStandard(layout, outside, 4096),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("outside XCOMP_BV")));
  std::vector<uint8_t> truncated = Compacted(3 | kHeld);
  truncated.resize(kAt9 + 4);
  EXPECT_THAT(CompactedToStandard(layout, truncated, 4096),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("state component 9")));
  // Component 9 ends at 2696 in the standard format.
  EXPECT_THAT(CompactedToStandard(layout, Compacted(3 | kHeld), 2695),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("does not fit")));
}

TEST(WhpxXsave, ASupervisorComponentInUseHasNoStandardPlace) {
  const uint64_t held = kHeld | (1ull << 11);
  std::vector<uint8_t> image(kCompactedSize + 16, 0);
  Put64(image, kXsaveXcompBvOffset, held | kXcompBvCompacted);
  // In its initial state it converts (nothing is lost) ...
  Put64(image, kXsaveXstateBvOffset, 3);
  EXPECT_OK(CompactedToStandard(TestLayout(), image, 4096).status());
  // ... in use it cannot.
  Put64(image, kXsaveXstateBvOffset, 3 | (1ull << 11));
  EXPECT_THAT(CompactedToStandard(TestLayout(), image, 4096),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("supervisor")));
}

TEST(WhpxXsave, RefusesWhatIsNotAStandardImage) {
  const XsaveLayout layout = TestLayout();
  EXPECT_THAT(StandardToCompacted(layout, std::vector<uint8_t>(100), kHeld),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("100 bytes")));
  std::vector<uint8_t> compacted_header(4096, 0);
  Put64(compacted_header, kXsaveXcompBvOffset, kHeld | kXcompBvCompacted);
  EXPECT_THAT(StandardToCompacted(layout, compacted_header, kHeld),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("header byte 8")));
  std::vector<uint8_t> reserved(4096, 0);
  reserved[kXsaveXstateBvOffset + 40] = 1;
  EXPECT_THAT(StandardToCompacted(layout, reserved, kHeld),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("header byte 40")));
  std::vector<uint8_t> foreign(4096, 0);
  Put64(foreign, kXsaveXstateBvOffset, 3 | (1ull << 7));
  EXPECT_THAT(StandardToCompacted(layout, foreign, kHeld),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("does not hold")));
  std::vector<uint8_t> short_image(2000, 0);
  Put64(short_image, kXsaveXstateBvOffset, 3 | (1ull << 9));
  EXPECT_THAT(StandardToCompacted(layout, short_image, kHeld),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("state component 9")));
}

TEST(WhpxXsave, HostLayoutFollowsTheArchitecture) {
  const XsaveLayout layout = HostXsaveLayout();
  EXPECT_GE(layout.standard_size, kXsaveExtendedOffset);
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_max(0, nullptr) < 0xd) GTEST_SKIP() << "no CPUID leaf 0xd";
  __cpuid_count(0xd, 0, eax, ebx, ecx, edx);
  if ((eax & 4) == 0) GTEST_SKIP() << "the host has no AVX state";
  // AVX's YMM_Hi128 is 256 bytes right after the header (SDM Vol. 1,
  // Section 13.5.3).
  EXPECT_EQ(layout.components[2].size, 256u);
  EXPECT_EQ(layout.components[2].offset, 576u);
  EXPECT_FALSE(layout.components[2].supervisor);
}

}  // namespace
}  // namespace hv
