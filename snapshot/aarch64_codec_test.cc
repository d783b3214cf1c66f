// The aarch64 payloads of the snapshot format (aarch64_codec.h): each
// decodes back to what was encoded, and a short, overlong or impossible
// payload is DATA_LOSS naming the section and the field.
#include "snapshot/aarch64_codec.h"

#include <cstdint>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace hv::snapshot {
namespace {

using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

GicState SampleGic() {
  GicState gic;
  gic.distributor = {{0x0000, 0x13}, {0x0100, 0xffff0000}};
  gic.line_levels = {0x100, 0};
  GicState::Cpu cpu;
  cpu.mpidr = 0x80000001;
  cpu.redistributor = {{0x10100, 1u << 27}};
  cpu.cpu_interface = {{0xc230, 0xff}, {0xc667, 1}};
  cpu.ppi_line_levels = 1u << 27;
  gic.cpus = {cpu, cpu};
  return gic;
}

TEST(AArch64Codec, RegsRoundTrip) {
  const AArch64RegValues regs = {{AArch64Reg::Pc(), 0x40010000},
                                 {aarch64_sys::kCntvctEl0, 12345},
                                 {AArch64Reg::Fpcr(), 0x3000000},
                                 {AArch64Reg::PsciVersion(), 0x10001}};
  absl::StatusOr<AArch64RegValues> back =
      DecodeAArch64Regs(EncodeAArch64Regs(regs), "regs");
  ASSERT_OK(back.status());
  EXPECT_EQ(*back, regs);
}

TEST(AArch64Codec, RegOfAnUnknownKindIsDataLoss) {
  std::vector<uint8_t> bytes = EncodeAArch64Regs({{AArch64Reg::X(1), 7}});
  bytes[4] = 9;  // the first register's kind, after the count
  EXPECT_THAT(DecodeAArch64Regs(bytes, "vCPU 0 regs"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("vCPU 0 regs: register 0 is of kind 9")));
}

TEST(AArch64Codec, VregsRoundTripAndRefuseExtraBytes) {
  AArch64Vregs vregs{};
  for (uint32_t n = 0; n < vregs.size(); ++n) {
    vregs[n] = absl::MakeUint128(n * 3 + 1, ~uint64_t{n});
  }
  std::vector<uint8_t> bytes = EncodeAArch64Vregs(vregs);
  absl::StatusOr<AArch64Vregs> back = DecodeAArch64Vregs(bytes, "vregs");
  ASSERT_OK(back.status());
  EXPECT_EQ(*back, vregs);
  bytes.push_back(0);
  EXPECT_THAT(DecodeAArch64Vregs(bytes, "vCPU 1 vregs"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("vCPU 1 vregs")));
}

TEST(AArch64Codec, GicStateRoundTripsAndEveryTruncationIsDataLoss) {
  const std::vector<uint8_t> bytes = EncodeGicState(SampleGic());
  absl::StatusOr<GicState> back = DecodeGicState(bytes, "VM GICv3");
  ASSERT_OK(back.status());
  EXPECT_EQ(EncodeGicState(*back), bytes);
  ASSERT_EQ(back->cpus.size(), 2u);
  EXPECT_EQ(back->cpus[1].mpidr, 0x80000001u);
  EXPECT_EQ(back->cpus[1].cpu_interface[0].encoding, 0xc230);
  for (size_t size = 0; size < bytes.size(); ++size) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + size);
    EXPECT_THAT(DecodeGicState(cut, "VM GICv3"),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr("VM GICv3")))
        << size << " bytes";
  }
}

TEST(AArch64Codec, GicItsStateRoundTrips) {
  GicItsState its;
  its.base = 0x08080000;
  its.iidr = 0x4b00243b;
  its.ctlr = 1;
  its.cbaser = (uint64_t{1} << 63) | 0x40130000;
  its.cwriter = 128;
  its.creadr = 128;
  its.baser[0] = (uint64_t{1} << 63) | 0x40120000;
  its.baser[7] = 5;
  const std::vector<uint8_t> bytes = EncodeGicItsState(its);
  absl::StatusOr<GicItsState> back = DecodeGicItsState(bytes, "VM GIC ITS");
  ASSERT_OK(back.status());
  EXPECT_EQ(EncodeGicItsState(*back), bytes);
  EXPECT_EQ(back->baser, its.baser);
  EXPECT_THAT(
      DecodeGicItsState(absl::MakeConstSpan(bytes).first(100), "VM GIC ITS"),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr("VM GIC ITS")));
}

TEST(AArch64Codec, CaptureClockRoundTripsAndRefusesNoFrequency) {
  AArch64CaptureClock clock;
  clock.realtime_ns = 1796560000123456789u;
  clock.counter_hz = 62500000;  // a 62.5 MHz counter
  const std::vector<uint8_t> bytes = EncodeAArch64CaptureClock(clock);
  EXPECT_EQ(bytes.size(), 16u);
  absl::StatusOr<AArch64CaptureClock> back =
      DecodeAArch64CaptureClock(bytes, "VM aarch64 clock");
  ASSERT_OK(back.status());
  EXPECT_EQ(back->realtime_ns, clock.realtime_ns);
  EXPECT_EQ(back->counter_hz, clock.counter_hz);
  EXPECT_THAT(DecodeAArch64CaptureClock(absl::MakeConstSpan(bytes).first(12),
                                        "VM aarch64 clock"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("VM aarch64 clock")));
  clock.counter_hz = 0;
  EXPECT_THAT(
      DecodeAArch64CaptureClock(EncodeAArch64CaptureClock(clock), "VM aarch64 clock"),
      StatusIs(absl::StatusCode::kDataLoss,
               HasSubstr("VM aarch64 clock: a counter frequency of 0 Hz")));
}

}  // namespace
}  // namespace hv::snapshot
