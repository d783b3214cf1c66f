#include "testing/fakes/guest_memory.h"

#include <cerrno>
#include <cstdint>
#include <optional>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hv::testing {
namespace {

using ::testing::ElementsAre;

// Two ranges back to back, [0x1000, 0x1004) writable and [0x1004, 0x1008)
// read-only, over one host array; nothing at 0x1008.
class GuestMemoryTest : public ::testing::Test {
 protected:
  std::optional<GuestRange> At(uint64_t gpa) {
    ++lookups_;
    const uint64_t host = reinterpret_cast<uintptr_t>(host_.data());
    if (gpa >= 0x1000 && gpa < 0x1004) return GuestRange{0x1000, 4, host, true};
    if (gpa >= 0x1004 && gpa < 0x1008) {
      return GuestRange{0x1004, 4, host + 4, false};
    }
    return std::nullopt;
  }
  GuestMemory Memory() {
    return GuestMemory("Fake", "range",
                       [this](uint64_t gpa) { return At(gpa); });
  }

  std::vector<uint8_t> host_ = {1, 2, 3, 4, 5, 6, 7, 8};
  int lookups_ = 0;
};

TEST_F(GuestMemoryTest, ReadsAcrossRangesOneLookupEach) {
  absl::StatusOr<std::vector<uint8_t>> bytes = Memory().Read(0x1002, 4);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_THAT(*bytes, ElementsAre(3, 4, 5, 6));
  EXPECT_EQ(lookups_, 2);
}

TEST_F(GuestMemoryTest, ReadOfAHoleIsNotFoundAtItsFirstByte) {
  absl::StatusOr<std::vector<uint8_t>> bytes = Memory().Read(0x1006, 4);
  EXPECT_EQ(bytes.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(bytes.status().message()),
              ::testing::HasSubstr("0x1008"));
  EXPECT_TRUE(Memory().Read(0x5000, 0).ok());
}

TEST_F(GuestMemoryTest, WriteChecksFirstAndWritesAllOrNothing) {
  const uint8_t data[] = {9, 9, 9, 9};
  EXPECT_EQ(Memory().Write(0x1002, data).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Memory().Write(0x1006, data).code(),
            absl::StatusCode::kPermissionDenied);  // read-only comes first
  EXPECT_THAT(host_, ElementsAre(1, 2, 3, 4, 5, 6, 7, 8));
  EXPECT_TRUE(Memory().Write(0x1001, absl::MakeSpan(data, 3)).ok());
  EXPECT_THAT(host_, ElementsAre(1, 9, 9, 9, 5, 6, 7, 8));
}

TEST_F(GuestMemoryTest, WriteUncheckedStopsWhereTheStoreExits) {
  const uint8_t data[] = {9, 9, 9, 9};
  EXPECT_EQ(Memory().WriteUnchecked(0x1002, data).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(host_, ElementsAre(1, 2, 9, 9, 5, 6, 7, 8));
}

int RefusingLoad(void*, uintptr_t, size_t) { return EFAULT; }
int RefusingStore(uintptr_t, const void*, size_t) { return EFAULT; }

TEST_F(GuestMemoryTest, ARefusedAccessIsInternalOrPermissionDenied) {
  GuestMemory::Access access;
  access.load = &RefusingLoad;
  access.store = &RefusingStore;
  GuestMemory memory("Fake", "range",
                     [this](uint64_t gpa) { return At(gpa); }, access);
  EXPECT_EQ(memory.Read(0x1000, 1).status().code(),
            absl::StatusCode::kInternal);
  const uint8_t data[] = {9};
  EXPECT_EQ(memory.Write(0x1000, data).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(host_, ElementsAre(1, 2, 3, 4, 5, 6, 7, 8));
}

}  // namespace
}  // namespace hv::testing
