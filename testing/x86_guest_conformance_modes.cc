// X86GuestConformance: the guest runs in the mode the fixture set up, and
// 64-bit CPL3 code runs at native speed.

#include <cstdint>
#include <cstring>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/x86_64/arch_bits.h"
#include "testing/x86_guest_conformance.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::SizeIs;

TEST_P(X86GuestConformance, RealModeGuestRuns) {
  const uint16_t segment = 0x2345, offset = 0x0123, addend = 0xff00;
  const uint64_t linear = (uint64_t{segment} << 4) + offset;
  const uint32_t marker = 0x5eed1234;
  std::memcpy(guest_->ram().data() + linear, &marker, sizeof(marker));
  ASSERT_OK(guest_->Load(guest::RealModeState(), GuestMode::kReal,
                         [&](Regs& regs) {
                           regs.rbx = segment;
                           regs.rsi = offset;
                           regs.rdi = addend;
                         }));
  ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest_->Run());
  ASSERT_THAT(run.reports, SizeIs(4));
  EXPECT_EQ(run.reports[0] & x86::kCr0Pe, 0u) << "CR0.PE set in real mode";
  EXPECT_EQ(run.reports[1], HV_GUEST_CODE >> 4) << "cs";
  EXPECT_EQ(run.reports[2], marker) << "bytes at " << segment << ":" << offset;
  EXPECT_EQ(run.reports[3], uint16_t(offset + addend)) << "16-bit wrap";
}

TEST_P(X86GuestConformance, LongModeGuestRuns) {
  const uint64_t a = 0xfedcba9876543210ull, b = 0x0123456789abcdefull;
  ASSERT_OK(guest_->Load(guest::LongModeState(), GuestMode::kLong,
                         [&](Regs& regs) {
                           regs.rdi = a;
                           regs.rsi = b;
                         }));
  ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest_->Run());
  ASSERT_THAT(run.reports, SizeIs(5));
  constexpr uint64_t kPaging = x86::kCr0Pe | x86::kCr0Pg;
  constexpr uint64_t kLongMode = x86::kEferLme | x86::kEferLma;
  EXPECT_EQ(run.reports[0] & kPaging, kPaging) << "CR0";
  EXPECT_EQ(run.reports[1] & kLongMode, kLongMode) << "EFER";
  EXPECT_EQ(run.reports[2] & 3, 0u) << "CPL";
  const unsigned __int128 product = static_cast<unsigned __int128>(a) * b;
  EXPECT_EQ(run.reports[3], static_cast<uint64_t>(product));
  EXPECT_EQ(run.reports[4], static_cast<uint64_t>(product >> 64));
}

TEST_P(X86GuestConformance, UserModeGuestRunsNatively) {
  // 20M iterations of a 3-instruction loop: tens of milliseconds natively;
  // an instruction emulator at ~1 us per instruction needs about a minute.
  const uint64_t n = 20'000'000;
  ASSERT_OK(guest_->Load(guest::UserSum(), GuestMode::kLongUser,
                         [&](Regs& regs) { regs.rcx = n; }));
  const absl::Time start = absl::Now();
  ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest_->Run());
  const absl::Duration elapsed = absl::Now() - start;
  ASSERT_THAT(run.reports, SizeIs(2));
  EXPECT_EQ(run.reports[0] & 3, 3u) << "CPL";
  EXPECT_EQ(run.reports[1], n * (n + 1) / 2);
  EXPECT_LT(elapsed, absl::Seconds(5)) << "the loop did not run natively";
}

}  // namespace
}  // namespace hv::testing
