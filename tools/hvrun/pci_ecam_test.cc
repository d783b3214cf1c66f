// PciEcam on a recording stand-in device: address decoding (device,
// function, register), access sizes, absent functions, the extended space,
// misaligned accesses, and AddDevice errors.
#include "tools/hvrun/pci_ecam.h"

#include <cstdint>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::IsOk;
using ::hv::testing::StatusIs;
using ::testing::ElementsAre;

constexpr uint64_t kBase = 0x30000000;

// Register i reads 0x03020100 + 0x04040404 * i; writes are recorded.
class RecordingDevice : public virtio::PciDevice {
 public:
  uint32_t ReadConfigRegister(uint32_t index) override {
    return 0x03020100u + 0x04040404u * index;
  }
  void WriteConfig(uint32_t offset, uint32_t size, uint32_t value) override {
    writes.emplace_back(offset, size, value);
  }
  std::vector<std::tuple<uint32_t, uint32_t, uint32_t>> writes;
};

std::vector<uint8_t> Read(PciEcam& ecam, uint64_t address, size_t size) {
  std::vector<uint8_t> data(size, 0x5a);
  IoRequest io{address, false, absl::MakeSpan(data)};
  EXPECT_TRUE(ecam.HandleMmio(io));
  return data;
}

void Write(PciEcam& ecam, uint64_t address, std::vector<uint8_t> data) {
  IoRequest io{address, true, absl::MakeSpan(data)};
  EXPECT_TRUE(ecam.HandleMmio(io));
}

TEST(PciEcam, DecodesDeviceFunctionAndRegister) {
  ASSERT_OK_AND_ASSIGN(auto ecam, PciEcam::Create(kBase));
  RecordingDevice device;
  ASSERT_THAT(ecam->AddDevice(3, 2, &device), IsOk());
  const uint64_t config = kBase + (3u << 15) + (2u << 12);
  EXPECT_THAT(Read(*ecam, config, 4), ElementsAre(0x00, 0x01, 0x02, 0x03));
  // Register 0x34 / 4 = 13: 0x03020100 + 13 * 0x04040404 = 0x37363534.
  EXPECT_THAT(Read(*ecam, config + 0x34, 4), ElementsAre(0x34, 0x35, 0x36, 0x37));
  EXPECT_THAT(Read(*ecam, config + 0x35, 1), ElementsAre(0x35));
  EXPECT_THAT(Read(*ecam, config + 0x36, 2), ElementsAre(0x36, 0x37));
  EXPECT_THAT(Read(*ecam, config + 0x38, 8),
              ElementsAre(0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f));
}

TEST(PciEcam, WritesReachTheDeviceWithinOneRegister) {
  ASSERT_OK_AND_ASSIGN(auto ecam, PciEcam::Create(kBase));
  RecordingDevice device;
  ASSERT_THAT(ecam->AddDevice(0, 0, &device), IsOk());
  Write(*ecam, kBase + 0x04, {0x06, 0x00});
  Write(*ecam, kBase + 0x13, {0xab});
  Write(*ecam, kBase + 0x10, {0xf0, 0xff, 0xff, 0xff, 0x01, 0x00, 0x00, 0x00});
  EXPECT_THAT(device.writes,
              ElementsAre(std::make_tuple(0x04u, 2u, 0x0006u), std::make_tuple(0x13u, 1u, 0xabu),
                          std::make_tuple(0x10u, 4u, 0xfffffff0u),
                          std::make_tuple(0x14u, 4u, 0x00000001u)));
}

TEST(PciEcam, AbsentFunctionsReadAllOnesAndIgnoreWrites) {
  ASSERT_OK_AND_ASSIGN(auto ecam, PciEcam::Create(kBase));
  RecordingDevice device;
  ASSERT_THAT(ecam->AddDevice(1, 0, &device), IsOk());
  EXPECT_THAT(Read(*ecam, kBase, 4), ElementsAre(0xff, 0xff, 0xff, 0xff));
  EXPECT_THAT(Read(*ecam, kBase + (1u << 15) + (1u << 12), 2), ElementsAre(0xff, 0xff));
  Write(*ecam, kBase + (31u << 15) + 0x04, {0x06, 0x00});
  EXPECT_TRUE(device.writes.empty());
}

TEST(PciEcam, ExtendedSpaceReadsZeroAndMisalignedAccessesAreRefused) {
  ASSERT_OK_AND_ASSIGN(auto ecam, PciEcam::Create(kBase));
  RecordingDevice device;
  ASSERT_THAT(ecam->AddDevice(0, 0, &device), IsOk());
  EXPECT_THAT(Read(*ecam, kBase + 0x100, 4), ElementsAre(0, 0, 0, 0));
  EXPECT_THAT(Read(*ecam, kBase + 0xffc, 4), ElementsAre(0, 0, 0, 0));
  EXPECT_THAT(Read(*ecam, kBase + 0x02, 4), ElementsAre(0xff, 0xff, 0xff, 0xff));
  EXPECT_THAT(Read(*ecam, kBase + 0x01, 2), ElementsAre(0xff, 0xff));
  Write(*ecam, kBase + 0x101, {1});
  Write(*ecam, kBase + 0x06, {1, 2, 3, 4});
  EXPECT_TRUE(device.writes.empty());
}

TEST(PciEcam, AccessesOutsideTheWindowAreNotItsOwn) {
  ASSERT_OK_AND_ASSIGN(auto ecam, PciEcam::Create(kBase));
  std::vector<uint8_t> data(4, 0x5a);
  IoRequest below{kBase - 4, false, absl::MakeSpan(data)};
  IoRequest above{kBase + PciEcam::kSize, false, absl::MakeSpan(data)};
  EXPECT_FALSE(ecam->HandleMmio(below));
  EXPECT_FALSE(ecam->HandleMmio(above));
  EXPECT_THAT(data, ElementsAre(0x5a, 0x5a, 0x5a, 0x5a));
}

TEST(PciEcam, BadArgumentsAreRefusedAndChangeNothing) {
  EXPECT_THAT(PciEcam::Create(kBase + 0x1000).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(auto ecam, PciEcam::Create(kBase));
  RecordingDevice first, second;
  EXPECT_THAT(ecam->AddDevice(32, 0, &first), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ecam->AddDevice(0, 8, &first), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ecam->AddDevice(0, 0, nullptr), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_THAT(ecam->AddDevice(5, 0, &first), IsOk());
  EXPECT_THAT(ecam->AddDevice(5, 0, &second), StatusIs(absl::StatusCode::kAlreadyExists));
  // The first device still answers.
  EXPECT_THAT(Read(*ecam, kBase + (5u << 15), 1), ElementsAre(0x00));
  EXPECT_THAT(Read(*ecam, kBase, 1), ElementsAre(0xff));
}

}  // namespace
}  // namespace hv
