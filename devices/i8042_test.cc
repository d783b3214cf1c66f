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

TEST_F(I8042Test, StatusSaysNotInhibitedAndTheSystemFlag) {
  EXPECT_EQ(In(0x64), 0x10 | 0x04);
}

// 0xD2/0xD3 put the next data byte in the output buffer as the keyboard's or
// the auxiliary port's; Linux's probe of the auxiliary port and of an active
// multiplexer loops bytes back this way (a plain echo: no multiplexer).
TEST_F(I8042Test, LoopbackWritesComeBackFromTheirPort) {
  Out(0x64, 0xd3);
  Out(0x60, 0x5a);
  EXPECT_EQ(In(0x64) & 0x21, 0x21);  // output full, from the auxiliary port
  EXPECT_EQ(In(0x60), 0x5a);
  EXPECT_EQ(In(0x64) & 0x21, 0x00);
  Out(0x64, 0xd2);
  Out(0x60, 0xa4);
  EXPECT_EQ(In(0x64) & 0x21, 0x01);  // output full, the keyboard's
  EXPECT_EQ(In(0x60), 0xa4);
  EXPECT_EQ(resets_, 0);
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

TEST_F(I8042Test, RestoreCarriesAnAuxiliaryByteAndAPendingLoopback) {
  Out(0x64, 0xd3);
  Out(0x60, 0x77);  // waits, marked as the auxiliary port's
  Out(0x64, 0xd2);  // its data byte is still to come
  I8042 restored([] {});
  ASSERT_THAT(Restore(restored, Save(i8042_)), testing::IsOk());
  EXPECT_EQ(PortIn(restored, 0x64) & 0x21, 0x21);
  EXPECT_EQ(PortIn(restored, 0x60), 0x77);
  PortOut(restored, 0x60, 0x12);
  EXPECT_EQ(PortIn(restored, 0x64) & 0x21, 0x01);
  EXPECT_EQ(PortIn(restored, 0x60), 0x12);
}

// A record from a build before the loopback commands (version 1, no
// auxiliary flag) still loads.
TEST_F(I8042Test, RestoreReadsVersionOneRecords) {
  snapshot::ByteWriter out;
  out.Put32(1);
  out.PutBool(true);   // output full
  out.Put8(0x55);      // the self test's answer
  out.Put8(0x65);      // command byte
  out.PutBool(true);   // pending
  out.Put8(0x60);      // write command byte
  out.Put64(2);        // resets
  I8042 restored([] {});
  ASSERT_THAT(Restore(restored, out.Take()), testing::IsOk());
  EXPECT_EQ(restored.resets(), 2u);
  EXPECT_EQ(PortIn(restored, 0x64) & 0x21, 0x01);
  EXPECT_EQ(PortIn(restored, 0x60), 0x55);
  PortOut(restored, 0x60, 0x47);  // the pending command's data byte
  PortOut(restored, 0x64, 0x20);
  EXPECT_EQ(PortIn(restored, 0x60), 0x47);
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
  std::vector<uint8_t> aux_without_output = good;
  aux_without_output.back() = 1;
  constexpr absl::StatusCode kDataLoss = absl::StatusCode::kDataLoss;
  struct Case {
    std::vector<uint8_t> bytes;
    absl::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{}, kDataLoss, "i8042: version needs 4 bytes"},
      {std::vector<uint8_t>(good.begin(), good.end() - 1), kDataLoss,
       "output from the auxiliary port needs 1 byte"},
      {std::vector<uint8_t>(good.begin(), good.end() - 2), kDataLoss, "resets needs 8 bytes"},
      {aux_without_output, kDataLoss, "marked as the auxiliary port's but the buffer is empty"},
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
