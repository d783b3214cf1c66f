#include "virtio/pci_config_space.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"
#include "virtio/virtio_pci_cap.h"

namespace hv::virtio {
namespace {

using ::hv::testing::IsOkAndHolds;
using ::hv::testing::StatusIs;

PciIds TestIds() {
  PciIds ids;
  ids.vendor_id = 0x1af4;
  ids.device_id = 0x1050;
  ids.subsystem_vendor_id = 0x1af4;
  ids.subsystem_id = 0x0010;
  ids.revision = 1;
  ids.class_code = 0x03;
  ids.subclass = 0x80;
  return ids;
}

TEST(PciConfigSpace, HeaderHoldsTheIds) {
  ASSERT_OK_AND_ASSIGN(auto config, PciConfigSpace::Create(TestIds()));
  EXPECT_EQ(config->ReadRegister(0), 0x10501af4u);
  EXPECT_EQ(config->ReadRegister(2), 0x03800001u);  // class, subclass, rev
  EXPECT_EQ(config->ReadRegister(0x2c / 4), 0x00101af4u);
  EXPECT_EQ((config->ReadRegister(3) >> 16) & 0xff, 0u);  // header type 0
  // No capabilities yet: status bit 4 clear, pointer 0.
  EXPECT_EQ(config->ReadRegister(1) >> 16, 0u);
  EXPECT_EQ(config->ReadRegister(0x34 / 4), 0u);
  // Ids are read-only.
  config->Write(0, 4, 0x12345678);
  EXPECT_EQ(config->ReadRegister(0), 0x10501af4u);
  EXPECT_EQ(config->ReadRegister(64), 0xffffffffu);
  PciIds absent;
  absent.vendor_id = 0xffff;
  EXPECT_THAT(PciConfigSpace::Create(absent),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(PciConfigSpace, CommandRegisterKeepsOnlyImplementedBits) {
  ASSERT_OK_AND_ASSIGN(auto config, PciConfigSpace::Create(TestIds()));
  EXPECT_FALSE(config->MemorySpaceEnabled());
  config->Write(kPciCommandOffset, 2, 0xffff);
  EXPECT_EQ(config->ReadRegister(1) & 0xffff, 0x0407u);
  EXPECT_TRUE(config->MemorySpaceEnabled());
  config->Write(kPciCommandOffset, 1, 0x00);  // byte write: low byte only
  EXPECT_EQ(config->ReadRegister(1) & 0xffff, 0x0400u);
  EXPECT_FALSE(config->MemorySpaceEnabled());
}

TEST(PciConfigSpace, SixtyFourBitBarSizingProtocol) {
  ASSERT_OK_AND_ASSIGN(auto config, PciConfigSpace::Create(TestIds()));
  constexpr uint64_t kSize = uint64_t{1} << 33;  // 8 GiB: size bits in both halves
  constexpr uint64_t kAddress = uint64_t{1} << 36;
  ASSERT_OK(config->AddMemoryBar64(2, kSize, /*prefetchable=*/true, kAddress));
  // Type bits: memory, 64-bit (10b in bits 2:1), prefetchable (bit 3).
  EXPECT_EQ(config->ReadRegister(6), 0x0000000cu);
  EXPECT_EQ(config->ReadRegister(7), 0x00000010u);
  EXPECT_EQ(config->BarAddress(2), kAddress);
  EXPECT_EQ(config->BarSize(2), kSize);

  // Size it: write all ones to both halves, read back the size mask.
  config->Write(0x18, 4, 0xffffffff);
  config->Write(0x1c, 4, 0xffffffff);
  const uint32_t low = config->ReadRegister(6);
  const uint32_t high = config->ReadRegister(7);
  EXPECT_EQ(low, 0x0000000cu);  // every low address bit is below the size
  EXPECT_EQ(high, 0xfffffffeu);
  const uint64_t mask =
      (uint64_t{high} << 32) | (low & kPciBarMemAddressMask);
  EXPECT_EQ(~mask + 1, kSize);

  // Program a new address: only the size-aligned bits stick.
  config->Write(0x18, 4, 0x12345678);
  config->Write(0x1c, 4, 0x00000003);
  EXPECT_EQ(config->BarAddress(2), uint64_t{2} << 32);
  // The other BARs are not implemented: they read 0 even after all ones.
  config->Write(0x10, 4, 0xffffffff);
  EXPECT_EQ(config->ReadRegister(4), 0u);
  EXPECT_EQ(config->BarAddress(0), std::nullopt);
}

TEST(PciConfigSpace, SmallBarSizingAndWordWrites) {
  ASSERT_OK_AND_ASSIGN(auto config, PciConfigSpace::Create(TestIds()));
  ASSERT_OK(config->AddMemoryBar64(0, 1 << 20, /*prefetchable=*/false,
                                   0xe0000000));
  EXPECT_EQ(config->ReadRegister(4), 0xe0000004u);  // 64-bit, not prefetchable
  config->Write(0x10, 4, 0xffffffff);
  config->Write(0x14, 4, 0xffffffff);
  EXPECT_EQ(config->ReadRegister(4), 0xfff00004u);
  EXPECT_EQ(config->ReadRegister(5), 0xffffffffu);
  // A word write to the upper half of the low register.
  config->Write(0x12, 2, 0xc010);
  config->Write(0x14, 4, 0);
  EXPECT_EQ(config->BarAddress(0), 0xc0100000u);
  // A write that crosses a register is not decoded.
  config->Write(0x13, 2, 0xffff);
  EXPECT_EQ(config->BarAddress(0), 0xc0100000u);
}

TEST(PciConfigSpace, BadBarsAreRefused) {
  ASSERT_OK_AND_ASSIGN(auto config, PciConfigSpace::Create(TestIds()));
  EXPECT_THAT(config->AddMemoryBar64(5, 4096, true, 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(config->AddMemoryBar64(0, 3000, true, 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(config->AddMemoryBar64(0, 4096, true, 0x800),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK(config->AddMemoryBar64(0, 4096, true, 0));
  EXPECT_THAT(config->AddMemoryBar64(1, 4096, true, 0),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

// Walks the capability list as a driver does (PCI 3.0 §6.7) and returns the
// offset of the first vendor capability with cfg_type `type`, or 0.
uint8_t FindVirtioCap(const PciConfigSpace& config, VirtioPciCapType type) {
  auto byte = [&](uint32_t offset) -> uint8_t {
    return static_cast<uint8_t>(config.ReadRegister(offset / 4) >>
                                (8 * (offset % 4)));
  };
  if ((config.ReadRegister(1) & (uint32_t{kPciStatusCapabilitiesList} << 16)) ==
      0) {
    return 0;
  }
  uint8_t at = byte(kPciCapabilityPointerOffset) & 0xfc;
  for (int guard = 0; at != 0 && guard < 48; ++guard) {
    if (byte(at) == kPciCapIdVendorSpecific &&
        byte(at + 3) == static_cast<uint8_t>(type)) {
      return at;
    }
    at = byte(at + 1) & 0xfc;
  }
  return 0;
}

TEST(PciConfigSpace, CapabilityChainWalkFindsTheSharedMemoryCap) {
  ASSERT_OK_AND_ASSIGN(auto config, PciConfigSpace::Create(TestIds()));
  // Another vendor capability first, so the walk has to follow cap_next.
  VirtioPciCap64 other = MakeSharedMemoryCap(0, 0, 0, 0);
  other.cap.cfg_type = static_cast<uint8_t>(VirtioPciCapType::kVendorCfg);
  other.cap.cap_len = 16;
  std::vector<uint8_t> other_bytes = CapBytes(other);
  other_bytes.resize(16);
  EXPECT_THAT(config->AddCapability(other_bytes), IsOkAndHolds(0x40));
  constexpr uint64_t kOffset = (uint64_t{3} << 32) | 0x1000;
  constexpr uint64_t kLength = (uint64_t{5} << 32) | 0x2000;
  EXPECT_THAT(config->AddCapability(CapBytes(MakeSharedMemoryCap(
                  2, /*shmid=*/7, kOffset, kLength))),
              IsOkAndHolds(0x50));

  const uint8_t at = FindVirtioCap(*config, VirtioPciCapType::kSharedMemoryCfg);
  ASSERT_EQ(at, 0x50);
  const uint32_t header = config->ReadRegister(at / 4);
  EXPECT_EQ(header & 0xff, kPciCapIdVendorSpecific);
  EXPECT_EQ((header >> 8) & 0xff, 0u);   // last in the chain
  EXPECT_EQ((header >> 16) & 0xff, 24u);  // cap_len = sizeof(virtio_pci_cap64)
  EXPECT_EQ(header >> 24, 8u);            // VIRTIO_PCI_CAP_SHARED_MEMORY_CFG
  const uint32_t bar_id = config->ReadRegister(at / 4 + 1);
  EXPECT_EQ(bar_id & 0xff, 2u);           // bar
  EXPECT_EQ((bar_id >> 8) & 0xff, 7u);    // id (shmid)
  const uint64_t offset = config->ReadRegister(at / 4 + 2) |
                          uint64_t{config->ReadRegister(at / 4 + 4)} << 32;
  const uint64_t length = config->ReadRegister(at / 4 + 3) |
                          uint64_t{config->ReadRegister(at / 4 + 5)} << 32;
  EXPECT_EQ(offset, kOffset);
  EXPECT_EQ(length, kLength);
  // Capabilities are read-only.
  config->Write(at + 8, 4, 0);
  EXPECT_EQ(config->ReadRegister(at / 4 + 2), 0x1000u);
}

TEST(PciConfigSpace, CapabilitiesRunOutOfRoom) {
  ASSERT_OK_AND_ASSIGN(auto config, PciConfigSpace::Create(TestIds()));
  std::vector<uint8_t> cap = CapBytes(MakeSharedMemoryCap(2, 0, 0, 4096));
  int added = 0;
  while (config->AddCapability(cap).ok()) ++added;
  EXPECT_EQ(added, (256 - 0x40) / 24);
  EXPECT_THAT(config->AddCapability(cap),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(config->AddCapability(std::vector<uint8_t>{9}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace hv::virtio
