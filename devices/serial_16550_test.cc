#include "devices/serial_16550.h"

#include <string>
#include <vector>

#include "devices/port_io_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::IsOk;
using ::hv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class Serial16550Test : public ::testing::Test {
 protected:
  void SetUp() override {
    Serial16550::Options options;
    options.output = [this](uint8_t byte) { output_.push_back(byte); };
    options.set_irq = [this](bool level) { irq_.push_back(level); };
    absl::StatusOr<std::unique_ptr<Serial16550>> uart =
        Serial16550::Create(options);
    ASSERT_TRUE(uart.ok()) << uart.status();
    uart_ = std::move(*uart);
  }
  // Register `reg` of COM1, at port 0x3f8 + reg.
  void Out(uint8_t reg, uint8_t value) { PortOut(*uart_, 0x3f8 + reg, value); }
  uint8_t In(uint8_t reg) { return PortIn(*uart_, 0x3f8 + reg); }

  std::string output_;
  std::vector<bool> irq_;
  std::unique_ptr<Serial16550> uart_;
};

TEST_F(Serial16550Test, TransmitsAtOnce) {
  Out(0, 'h');
  Out(0, 'i');
  EXPECT_EQ(output_, "hi");
  EXPECT_EQ(In(5) & 0x60, 0x60);  // THRE and TEMT: always empty
  EXPECT_TRUE(irq_.empty());      // no interrupt enabled
}

TEST_F(Serial16550Test, PassesLinuxsProbe) {
  // The scratch and IER read-back tests of Linux's 8250 autoconfig.
  Out(7, 0xa5);
  EXPECT_EQ(In(7), 0xa5);
  Out(1, 0x0f);
  EXPECT_EQ(In(1), 0x0f);
  Out(1, 0);
  EXPECT_EQ(In(1), 0);
  // Loopback: MCR outputs show as MSR inputs (RTS->CTS, OUT2->DCD).
  Out(4, 0x10 | 0x0a);
  EXPECT_EQ(In(6) & 0xf0, 0x90);
  // Transmitted bytes come back, and do not reach the output.
  Out(0, 'x');
  EXPECT_EQ(In(5) & 0x01, 0x01);
  EXPECT_EQ(In(0), 'x');
  EXPECT_EQ(output_, "");
  Out(4, 0);
  EXPECT_EQ(In(6) & 0xf0, 0xb0);  // a connected cable: CTS, DSR, DCD
  // FIFOs enabled: IIR bits 7:6 say 16550A.
  Out(2, 0x01);
  EXPECT_EQ(In(2) & 0xc0, 0xc0);
  Out(2, 0x00);
  EXPECT_EQ(In(2) & 0xc0, 0x00);
}

TEST_F(Serial16550Test, DivisorLatchHidesDataAndIer) {
  Out(3, 0x80);  // DLAB
  Out(0, 0x01);
  Out(1, 0x00);
  EXPECT_EQ(In(0), 0x01);
  EXPECT_EQ(In(1), 0x00);
  Out(3, 0x03);  // 8N1
  EXPECT_EQ(In(3), 0x03);
  EXPECT_EQ(output_, "");
  EXPECT_EQ(In(1), 0);
}

TEST_F(Serial16550Test, TransmitterEmptyInterruptFollowsIerAndIir) {
  Out(4, 0x08);  // OUT2: interrupts reach the bus
  Out(1, 0x02);  // ETBEI while empty: the interrupt fires at once
  EXPECT_THAT(irq_, ElementsAre(true));
  EXPECT_EQ(In(2) & 0x0f, 0x02);  // reading IIR acknowledges it
  EXPECT_THAT(irq_, ElementsAre(true, false));
  EXPECT_EQ(In(2) & 0x0f, 0x01);
  Out(0, 'a');  // the byte leaves; the holding register is empty again
  EXPECT_THAT(irq_, ElementsAre(true, false, true));
  Out(1, 0x00);
  EXPECT_THAT(irq_, ElementsAre(true, false, true, false));
}

TEST_F(Serial16550Test, ReceivedDataRaisesAndReadingLowers) {
  Out(4, 0x08);
  Out(1, 0x01);  // ERBFI
  EXPECT_TRUE(irq_.empty());
  uart_->QueueInput("ok");
  EXPECT_THAT(irq_, ElementsAre(true));
  EXPECT_EQ(In(2) & 0x0f, 0x04);
  EXPECT_EQ(In(5) & 0x01, 0x01);
  EXPECT_EQ(In(0), 'o');
  EXPECT_EQ(In(0), 'k');
  EXPECT_EQ(In(5) & 0x01, 0x00);
  EXPECT_THAT(irq_, ElementsAre(true, false));
}

TEST_F(Serial16550Test, Out2GatesTheInterrupt) {
  Out(1, 0x01);
  uart_->QueueInput("x");
  EXPECT_TRUE(irq_.empty());
  Out(4, 0x08);
  EXPECT_THAT(irq_, ElementsAre(true));
}

TEST_F(Serial16550Test, OverrunIsCountedAndReported) {
  Out(4, 0x08);
  Out(1, 0x04);  // ELSI
  uart_->QueueInput(std::string(Serial16550::kRxFifoSize + 2, 'z'));
  EXPECT_EQ(uart_->overruns(), 2u);
  EXPECT_EQ(In(2) & 0x0f, 0x06);
  EXPECT_EQ(In(5) & 0x02, 0x02);  // OE, cleared by the read
  EXPECT_EQ(In(5) & 0x02, 0x00);
  Out(2, 0x03);  // clear the receiver FIFO
  EXPECT_EQ(In(5) & 0x01, 0x00);
}

TEST_F(Serial16550Test, WideAndForeignAccesses) {
  uint32_t wide = 0;
  IoRequest io{0x3fd, false, absl::MakeSpan(reinterpret_cast<uint8_t*>(&wide), 4)};
  uart_->HandleIo(io);
  EXPECT_EQ(wide & 0xffffff00u, 0xffffff00u);
  EXPECT_EQ(wide & 0x60u, 0x60u);
  EXPECT_FALSE(uart_->HandlesPort(0x3f7));
  EXPECT_FALSE(uart_->HandlesPort(0x400));
  EXPECT_TRUE(uart_->HandlesPort(0x3ff));
}

TEST(Serial16550, CreateChecksItsOptions) {
  EXPECT_THAT(Serial16550::Create({}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  Serial16550::Options options;
  options.output = [](uint8_t) {};
  options.base_port = 0xfffc;
  EXPECT_THAT(Serial16550::Create(options),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Snapshots: a second UART, as a restored machine has, takes the first's
// state.
class Serial16550StateTest : public Serial16550Test {
 protected:
  void SetUp() override {
    Serial16550Test::SetUp();
    Serial16550::Options options;
    options.output = [this](uint8_t byte) { restored_output_.push_back(byte); };
    options.set_irq = [this](bool level) { restored_irq_.push_back(level); };
    absl::StatusOr<std::unique_ptr<Serial16550>> uart = Serial16550::Create(options);
    ASSERT_TRUE(uart.ok()) << uart.status();
    restored_ = std::move(*uart);
  }
  static std::vector<uint8_t> Save(const Serial16550& uart) {
    snapshot::ByteWriter out;
    uart.SaveState(out);
    return out.Take();
  }
  absl::Status Restore(const std::vector<uint8_t>& bytes) {
    snapshot::ByteReader in(bytes, "uart");
    absl::Status status = restored_->RestoreState(in);
    return status.ok() ? in.Done() : status;
  }
  uint8_t RestoredIn(uint8_t reg) { return PortIn(*restored_, 0x3f8 + reg); }

  std::string restored_output_;
  std::vector<bool> restored_irq_;
  std::unique_ptr<Serial16550> restored_;
};

TEST_F(Serial16550StateTest, RestoreCarriesRegistersFifoAndInterrupt) {
  Out(3, 0x80);  // DLAB: divisor 0x0102
  Out(0, 0x02);
  Out(1, 0x01);
  Out(3, 0x03);  // 8N1
  Out(1, 0x01);  // received-data interrupt
  Out(4, 0x0b);  // DTR, RTS, OUT2
  Out(7, 0x5a);
  Out(2, 0x01);  // FIFOs on
  uart_->QueueInput("abc");
  EXPECT_EQ(In(0), 'a');
  const std::vector<uint8_t> saved = Save(*uart_);

  ASSERT_THAT(Restore(saved), IsOk());
  EXPECT_EQ(Save(*restored_), saved);
  // The line is driven to the saved level (high: data waits) at once.
  EXPECT_THAT(restored_irq_, ElementsAre(true));
  EXPECT_EQ(RestoredIn(2), 0xc4);  // received data pending, FIFOs on
  EXPECT_EQ(RestoredIn(3), 0x03);
  EXPECT_EQ(RestoredIn(4), 0x0b);
  EXPECT_EQ(RestoredIn(7), 0x5a);
  EXPECT_EQ(RestoredIn(0), 'b');
  EXPECT_EQ(RestoredIn(0), 'c');
  EXPECT_THAT(restored_irq_, ElementsAre(true, false));
  PortOut(*restored_, 0x3fb, 0x83);
  EXPECT_EQ(RestoredIn(0), 0x02);
  EXPECT_EQ(RestoredIn(1), 0x01);
}

TEST_F(Serial16550StateTest, RestoreOfAQuietUartDrivesTheLineLow) {
  ASSERT_THAT(Restore(Save(*uart_)), IsOk());
  EXPECT_THAT(restored_irq_, ElementsAre(false));
}

TEST_F(Serial16550StateTest, BadBytesAreRefusedAndChangeNothing) {
  Out(7, 0x11);
  uart_->QueueInput("x");
  const std::vector<uint8_t> good = Save(*uart_);
  PortOut(*restored_, 0x3ff, 0x77);  // the restored UART's own scratch
  const std::vector<uint8_t> before = Save(*restored_);

  struct Case {
    std::vector<uint8_t> bytes;
    absl::StatusCode code;
    std::string message;
  };
  std::vector<Case> cases;
  for (size_t size : {size_t{0}, size_t{3}, size_t{9}, good.size() - 1}) {
    cases.push_back({std::vector<uint8_t>(good.begin(), good.begin() + size),
                     absl::StatusCode::kDataLoss, "uart"});
  }
  std::vector<uint8_t> version = good;
  version[0] = 2;
  cases.push_back({version, absl::StatusCode::kFailedPrecondition, "version 2"});
  std::vector<uint8_t> ier = good;
  ier[6] = 0x10;  // after the version (4 bytes) and the divisor (2)
  cases.push_back({ier, absl::StatusCode::kDataLoss, "reserved bits"});
  std::vector<uint8_t> mcr = good;
  mcr[8] = 0x20;
  cases.push_back({mcr, absl::StatusCode::kDataLoss, "reserved bits"});
  std::vector<uint8_t> boolean = good;
  boolean[10] = 2;  // FIFOs enabled
  cases.push_back({boolean, absl::StatusCode::kDataLoss, "FIFOs enabled"});
  snapshot::ByteWriter overfull;
  overfull.PutBytes(absl::MakeConstSpan(good).first(good.size() - 8 - 1));
  overfull.PutBlob(std::vector<uint8_t>(Serial16550::kRxFifoSize + 1, 'y'));
  cases.push_back({overfull.Take(), absl::StatusCode::kDataLoss, "65 received bytes"});

  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    EXPECT_THAT(Restore(c.bytes), StatusIs(c.code, HasSubstr(c.message)));
    snapshot::ByteReader in(c.bytes, "uart");
    const absl::Status checked = restored_->CheckState(in);
    EXPECT_TRUE(!checked.ok() || !in.Done().ok());
    EXPECT_EQ(Save(*restored_), before);
    EXPECT_TRUE(restored_irq_.empty());
  }
}

}  // namespace
}  // namespace hv
