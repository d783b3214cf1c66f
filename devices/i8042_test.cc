#include "devices/i8042.h"

#include "devices/port_io_test_util.h"
#include "gtest/gtest.h"

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

}  // namespace
}  // namespace hv
