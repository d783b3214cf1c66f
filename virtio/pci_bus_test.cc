#include "virtio/pci_bus.h"

#include <cstring>
#include <mutex>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace hv::virtio {
namespace {

using ::hv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A device whose 64 registers read index * 0x04040404 + 0x03020100
// (so every byte is distinct), recording writes.
class RecordingDevice : public PciDevice {
 public:
  struct Write {
    uint32_t offset, size, value;
    friend bool operator==(const Write& a, const Write& b) {
      return a.offset == b.offset && a.size == b.size && a.value == b.value;
    }
  };
  uint32_t ReadConfigRegister(uint32_t index) override {
    return index * 0x04040404u + 0x03020100u;
  }
  void WriteConfig(uint32_t offset, uint32_t size, uint32_t value) override {
    std::lock_guard<std::mutex> lock(mu_);
    writes_.push_back({offset, size, value});
  }
  std::vector<Write> writes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return writes_;
  }

 private:
  // std::mutex rather than absl::Mutex: Debian's Abseil is not built with
  // TSan, which then cannot see absl::Mutex's synchronisation.
  mutable std::mutex mu_;
  std::vector<Write> writes_;
};

uint32_t In32(PciBus& bus, uint16_t port) {
  uint8_t data[4];
  EXPECT_TRUE(bus.Read(port, absl::MakeSpan(data)));
  uint32_t value;
  std::memcpy(&value, data, 4);
  return value;
}
uint16_t In16(PciBus& bus, uint16_t port) {
  uint8_t data[2];
  EXPECT_TRUE(bus.Read(port, absl::MakeSpan(data)));
  return static_cast<uint16_t>(data[0] | data[1] << 8);
}
uint8_t In8(PciBus& bus, uint16_t port) {
  uint8_t data[1];
  EXPECT_TRUE(bus.Read(port, absl::MakeSpan(data)));
  return data[0];
}
void Out32(PciBus& bus, uint16_t port, uint32_t value) {
  uint8_t data[4];
  std::memcpy(data, &value, 4);
  EXPECT_TRUE(bus.Write(port, absl::MakeConstSpan(data)));
}

TEST(PciBus, ConfigAddressDecodesBusDeviceFunctionRegister) {
  EXPECT_EQ(MakePciConfigAddress(0, 3, 2, 0x44), 0x80001a44u);
  EXPECT_EQ(MakePciConfigAddress(1, 31, 7, 0xff), 0x8001fffcu);
  ASSERT_OK_AND_ASSIGN(auto bus, PciBus::Create());
  RecordingDevice device;
  ASSERT_OK(bus->AddDevice(3, 2, &device));
  Out32(*bus, 0xcf8, MakePciConfigAddress(0, 3, 2, 0x10));
  EXPECT_EQ(In32(*bus, 0xcf8), 0x80001a10u);
  EXPECT_EQ(In32(*bus, 0xcfc), 4 * 0x04040404u + 0x03020100u);
  // Bits 1:0 and 30:24 of CONFIG_ADDRESS read as zero.
  Out32(*bus, 0xcf8, 0xff001a13);
  EXPECT_EQ(In32(*bus, 0xcf8), 0x80001a10u);
}

TEST(PciBus, ByteAndWordAccessesReachTheirLanes) {
  ASSERT_OK_AND_ASSIGN(auto bus, PciBus::Create());
  RecordingDevice device;
  ASSERT_OK(bus->AddDevice(1, 0, &device));
  Out32(*bus, 0xcf8, MakePciConfigAddress(0, 1, 0, 0x08));  // register 2
  const uint32_t reg = 2 * 0x04040404u + 0x03020100u;       // 0x0b0a0908
  EXPECT_EQ(In8(*bus, 0xcfc), reg & 0xff);
  EXPECT_EQ(In8(*bus, 0xcfd), (reg >> 8) & 0xff);
  EXPECT_EQ(In8(*bus, 0xcff), reg >> 24);
  EXPECT_EQ(In16(*bus, 0xcfe), reg >> 16);
  EXPECT_EQ(In16(*bus, 0xcfc), reg & 0xffff);
  // A word at 0xCFF would cross the register: not decoded, all ones.
  EXPECT_EQ(In16(*bus, 0xcff), 0xffffu);

  const uint8_t byte = 0x5a;
  EXPECT_TRUE(bus->Write(0xcfe, absl::MakeConstSpan(&byte, 1)));
  const uint8_t word[2] = {0x34, 0x12};
  EXPECT_TRUE(bus->Write(0xcfd, absl::MakeConstSpan(word, 2)));
  EXPECT_TRUE(bus->Write(0xcff, absl::MakeConstSpan(word, 2)));  // dropped
  Out32(*bus, 0xcfc, 0xdeadbeef);
  EXPECT_THAT(device.writes(),
              ElementsAre(RecordingDevice::Write{0x0a, 1, 0x5a},
                          RecordingDevice::Write{0x09, 2, 0x1234},
                          RecordingDevice::Write{0x08, 4, 0xdeadbeef}));
}

TEST(PciBus, DisabledOrAbsentReadsAllOnesAndDropsWrites) {
  ASSERT_OK_AND_ASSIGN(auto bus, PciBus::Create());
  RecordingDevice device;
  ASSERT_OK(bus->AddDevice(0, 0, &device));
  // Enable bit clear: no configuration cycle.
  Out32(*bus, 0xcf8, MakePciConfigAddress(0, 0, 0, 0) & ~kPciConfigAddressEnable);
  EXPECT_EQ(In32(*bus, 0xcfc), 0xffffffffu);
  Out32(*bus, 0xcfc, 1);
  // Absent device, absent function, another bus.
  for (uint32_t address : {MakePciConfigAddress(0, 5, 0, 0),
                           MakePciConfigAddress(0, 0, 1, 0),
                           MakePciConfigAddress(1, 0, 0, 0)}) {
    Out32(*bus, 0xcf8, address);
    EXPECT_EQ(In32(*bus, 0xcfc), 0xffffffffu);
    EXPECT_EQ(In16(*bus, 0xcfe), 0xffffu);
    Out32(*bus, 0xcfc, 1);
  }
  EXPECT_THAT(device.writes(), IsEmpty());
  // Present: the vendor/device register.
  Out32(*bus, 0xcf8, MakePciConfigAddress(0, 0, 0, 0));
  EXPECT_EQ(In32(*bus, 0xcfc), 0x03020100u);
}

TEST(PciBus, OnlyDwordAccessesAtCf8AreTheAddressRegister) {
  ASSERT_OK_AND_ASSIGN(auto bus, PciBus::Create());
  Out32(*bus, 0xcf8, MakePciConfigAddress(0, 1, 0, 0));
  const uint8_t byte = 0;
  EXPECT_TRUE(bus->Write(0xcf8, absl::MakeConstSpan(&byte, 1)));
  EXPECT_TRUE(bus->Write(0xcfb, absl::MakeConstSpan(&byte, 1)));
  EXPECT_EQ(In32(*bus, 0xcf8), MakePciConfigAddress(0, 1, 0, 0));
  EXPECT_EQ(In8(*bus, 0xcf9), 0xffu);
  // Ports outside 0xCF8-0xCFF are not the bus's.
  uint8_t data[1];
  EXPECT_FALSE(bus->Read(0xcf7, absl::MakeSpan(data)));
  EXPECT_FALSE(bus->Write(0xd00, absl::MakeConstSpan(data)));
}

TEST(PciBus, HandleIoAnswersExitRequests) {
  ASSERT_OK_AND_ASSIGN(auto bus, PciBus::Create());
  RecordingDevice device;
  ASSERT_OK(bus->AddDevice(2, 0, &device));
  uint8_t address[4];
  const uint32_t value = MakePciConfigAddress(0, 2, 0, 0x0c);
  std::memcpy(address, &value, 4);
  IoRequest write{0xcf8, true, absl::MakeSpan(address)};
  EXPECT_TRUE(bus->HandleIo(write));
  uint8_t data[4] = {};
  IoRequest read{0xcfc, false, absl::MakeSpan(data)};
  EXPECT_TRUE(bus->HandleIo(read));
  uint32_t got;
  std::memcpy(&got, data, 4);
  EXPECT_EQ(got, 3 * 0x04040404u + 0x03020100u);
  IoRequest other{0x3f8, false, absl::MakeSpan(data)};
  EXPECT_FALSE(bus->HandleIo(other));
  IoRequest mmio{0x100000cf8, false, absl::MakeSpan(data)};
  EXPECT_FALSE(bus->HandleIo(mmio));
}

TEST(PciBus, SlotsAreUniqueAndChecked) {
  ASSERT_OK_AND_ASSIGN(auto bus, PciBus::Create());
  RecordingDevice device;
  ASSERT_OK(bus->AddDevice(4, 1, &device));
  EXPECT_THAT(bus->AddDevice(4, 1, &device),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(bus->AddDevice(32, 0, &device),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bus->AddDevice(0, 8, &device),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bus->AddDevice(0, 0, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PciBus, StateCarriesConfigAddress) {
  auto bus = *PciBus::Create();
  const uint32_t selected = MakePciConfigAddress(0, 3, 0, 0x10);
  uint8_t data[4];
  std::memcpy(data, &selected, 4);
  bus->Write(kPciConfigAddressPort, absl::MakeConstSpan(data));
  snapshot::ByteWriter out;
  bus->SaveState(out);
  const std::vector<uint8_t> good = out.Take();

  auto restored = *PciBus::Create();
  snapshot::ByteReader in(good, "bus");
  ASSERT_TRUE(restored->RestoreState(in).ok());
  EXPECT_TRUE(in.Done().ok());
  uint8_t back[4] = {};
  restored->Read(kPciConfigAddressPort, absl::MakeSpan(back));
  EXPECT_EQ(std::memcmp(back, data, 4), 0);
}

TEST(PciBus, BadStateIsRefusedAndChangesNothing) {
  auto bus = *PciBus::Create();
  snapshot::ByteWriter reserved;
  reserved.Put32(1);
  reserved.Put32(0x81000010);  // bit 24: reserved
  snapshot::ByteWriter version;
  version.Put32(2);
  version.Put32(0x80000000);
  const std::vector<uint8_t> short_bytes = {1, 0, 0, 0, 0x10};
  const std::vector<uint8_t> reserved_bytes = reserved.Take();
  const std::vector<uint8_t> version_bytes = version.Take();
  struct Case {
    const std::vector<uint8_t>* bytes;
    absl::StatusCode code;
  } cases[] = {{&short_bytes, absl::StatusCode::kDataLoss},
               {&reserved_bytes, absl::StatusCode::kDataLoss},
               {&version_bytes, absl::StatusCode::kFailedPrecondition}};
  for (const Case& c : cases) {
    snapshot::ByteReader in(*c.bytes, "bus");
    EXPECT_THAT(bus->RestoreState(in), StatusIs(c.code));
    uint8_t back[4] = {1, 1, 1, 1};
    bus->Read(kPciConfigAddressPort, absl::MakeSpan(back));
    EXPECT_THAT(back, ElementsAre(0, 0, 0, 0));
  }
}

}  // namespace
}  // namespace hv::virtio
