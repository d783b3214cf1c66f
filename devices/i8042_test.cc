#include "devices/i8042.h"

#include <string>
#include <vector>

#include "devices/port_io_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

class I8042Test : public ::testing::Test {
 protected:
  void Out(uint16_t port, uint8_t value) { PortOut(i8042_, port, value); }
  uint8_t In(uint16_t port) { return PortIn(i8042_, port); }
  int resets_ = 0;
  I8042 i8042_{[this] { ++resets_; }};
};

TEST_F(I8042Test, PulseResetRequestsAReset) {
  Out(0x64, 0xfe);
  EXPECT_EQ(resets_, 1);
  EXPECT_EQ(i8042_.resets(), 1u);
  Out(0x64, 0xff);  // pulses no line
  EXPECT_EQ(resets_, 1);
}

TEST_F(I8042Test, OutputPortWriteWithResetClear) {
  Out(0x64, 0xd1);
  Out(0x60, 0xdf);  // A20 on, reset line high: no reset
  EXPECT_EQ(resets_, 0);
  Out(0x64, 0xd1);
  Out(0x60, 0xde);
  EXPECT_EQ(resets_, 1);
}

TEST_F(I8042Test, SelfTestAndCommandByte) {
  EXPECT_EQ(In(0x64) & 0x01, 0);  // nothing to read
  Out(0x64, 0xaa);
  EXPECT_EQ(In(0x64) & 0x01, 1);
  EXPECT_EQ(In(0x60), 0x55);
  EXPECT_EQ(In(0x64) & 0x01, 0);
  Out(0x64, 0x60);
  Out(0x60, 0x65);
  Out(0x64, 0x20);
  EXPECT_EQ(In(0x60), 0x65);
  Out(0x64, 0xa7);
  Out(0x64, 0x20);
  EXPECT_EQ(In(0x60), 0x65 | 0x20);
  Out(0x64, 0xab);
  EXPECT_EQ(In(0x60), 0x00);
}

TEST_F(I8042Test, KeyboardBytesAreDropped) {
  Out(0x60, 0xff);  // keyboard reset: no keyboard answers
  EXPECT_EQ(In(0x64) & 0x01, 0);
  EXPECT_EQ(resets_, 0);
}

std::vector<uint8_t> Save(const I8042& i8042) {
  snapshot::ByteWriter out;
  i8042.SaveState(out);
  return out.Take();
}

absl::Status Restore(I8042& i8042, const std::vector<uint8_t>& bytes) {
  snapshot::ByteReader in(bytes, "i8042");
  absl::Status status = i8042.RestoreState(in);
  return status.ok() ? in.Done() : status;
}

TEST_F(I8042Test, RestoreCarriesOutputCommandByteAndPendingCommand) {
  Out(0x64, 0xad);  // keyboard off: command byte bit 4
  Out(0x64, 0xaa);  // self test: 0x55 waits in the output buffer
  Out(0x64, 0xfe);  // a reset, counted
  Out(0x64, 0xd1);  // the output port write waits for its data byte
  int restored_resets = 0;
  I8042 restored([&] { ++restored_resets; });
  ASSERT_THAT(Restore(restored, Save(i8042_)), testing::IsOk());
  EXPECT_EQ(Save(restored), Save(i8042_));
  EXPECT_EQ(restored.resets(), 1u);
  EXPECT_EQ(PortIn(restored, 0x64) & 0x01, 0x01);  // output full
  EXPECT_EQ(PortIn(restored, 0x60), 0x55);
  PortOut(restored, 0x60, 0xfe);  // the pending 0xd1's data: reset low
  EXPECT_EQ(restored_resets, 1);
  PortOut(restored, 0x64, 0x20);
  EXPECT_EQ(PortIn(restored, 0x60), 0x54);  // 0x44 | keyboard disabled
}

TEST_F(I8042Test, BadStateIsRefusedAndChangesNothing) {
  Out(0x64, 0x60);  // pending: write command byte
  const std::vector<uint8_t> good = Save(i8042_);
  I8042 restored([] {});
  PortOut(restored, 0x64, 0xaa);
  const std::vector<uint8_t> before = Save(restored);
  std::vector<uint8_t> version = good;
  version[0] = 7;
  std::vector<uint8_t> pending = good;
  pending[8] = 0xaa;  // u32 version, bool, u8, u8, bool, then the command
  std::vector<uint8_t> flag = good;
  flag[4] = 3;
  constexpr absl::StatusCode kDataLoss = absl::StatusCode::kDataLoss;
  struct Case {
    std::vector<uint8_t> bytes;
    absl::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{}, kDataLoss, "i8042: version needs 4 bytes"},
      {std::vector<uint8_t>(good.begin(), good.end() - 1), kDataLoss, "resets needs 8 bytes"},
      {version, absl::StatusCode::kFailedPrecondition, "i8042 state: version 7"},
      {pending, kDataLoss, "pending command 0xaa takes no data byte"},
      {flag, kDataLoss, "output full is 3, not a boolean"},
  };
  for (const auto& [bytes, code, message] : cases) {
    EXPECT_THAT(Restore(restored, bytes),
                testing::StatusIs(code, ::testing::HasSubstr(message)));
    snapshot::ByteReader in(bytes, "i8042");
    EXPECT_FALSE(restored.CheckState(in).ok()) << message;
    EXPECT_EQ(Save(restored), before) << message;
  }
}

}  // namespace
}  // namespace hv
