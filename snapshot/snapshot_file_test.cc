#include "snapshot/snapshot_file.h"

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "snapshot/codec.h"
#include "snapshot/x86_64_codec.h"
#include "testing/status_matchers.h"

namespace hv::snapshot {
namespace {

using ::hv::testing::IsOkAndHolds;
using ::hv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

SnapshotFile Sample() {
  SnapshotFile file(Arch::kX86_64, "kvm");
  file.Add(Tag::kVcpuRegs, 0, {1, 2, 3});
  file.Add(Tag::kMemoryRange, 1, std::vector<uint8_t>(100, 0xab));
  return file;
}

TEST(Crc32c, MatchesTheStandardCheckValue) {
  // RFC 3720 B.4 and the CRC catalogue: "123456789" -> 0xe3069283.
  const std::string check = "123456789";
  EXPECT_EQ(Crc32c(absl::MakeConstSpan(
                reinterpret_cast<const uint8_t*>(check.data()), check.size())),
            0xe3069283u);
  // 32 zero bytes (RFC 3720 B.4).
  EXPECT_EQ(Crc32c(std::vector<uint8_t>(32, 0)), 0x8a9136aau);
  // 32 bytes of 0xff, and 0x00 to 0x1f ascending (RFC 3720 B.4).
  EXPECT_EQ(Crc32c(std::vector<uint8_t>(32, 0xff)), 0x62a8ab43u);
  std::vector<uint8_t> ascending(32);
  for (size_t i = 0; i < ascending.size(); ++i) ascending[i] = i;
  EXPECT_EQ(Crc32c(ascending), 0x46dd794eu);
  // Continued over pieces of every alignment, the CRC of the whole.
  for (size_t cut = 0; cut <= ascending.size(); ++cut) {
    const absl::Span<const uint8_t> all(ascending);
    EXPECT_EQ(Crc32c(all.subspan(cut), Crc32c(all.subspan(0, cut))),
              0x46dd794eu)
        << cut;
  }
}

TEST(SnapshotFile, RoundTripsThroughBytes) {
  ASSERT_OK_AND_ASSIGN(SnapshotFile back,
                       SnapshotFile::Parse(Sample().Serialize()));
  EXPECT_EQ(back.arch(), Arch::kX86_64);
  EXPECT_EQ(back.backend(), "kvm");
  EXPECT_THAT(back.Find(Tag::kVcpuRegs, 0), IsOkAndHolds(ElementsAre(1, 2, 3)));
  ASSERT_OK_AND_ASSIGN(absl::Span<const uint8_t> range,
                       back.Find(Tag::kMemoryRange, 1));
  EXPECT_EQ(range.size(), 100u);
  EXPECT_THAT(back.Find(Tag::kVcpuRegs, 1),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("index 1")));
}

TEST(SnapshotFile, RefusesEveryTruncation) {
  const std::vector<uint8_t> bytes = Sample().Serialize();
  for (size_t size = 0; size < bytes.size(); ++size) {
    absl::StatusOr<SnapshotFile> parsed = SnapshotFile::Parse(
        absl::MakeConstSpan(bytes.data(), size));
    EXPECT_THAT(parsed, StatusIs(absl::StatusCode::kDataLoss)) << size;
  }
}

TEST(SnapshotFile, RefusesADamagedSectionNamingIt) {
  std::vector<uint8_t> bytes = Sample().Serialize();
  bytes[bytes.size() - 40] ^= 0x01;  // inside the memory range's payload
  EXPECT_THAT(SnapshotFile::Parse(bytes),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("memory range (tag 1) index 1 is damaged")));
}

TEST(SnapshotFile, RefusesOtherFilesVersionsAndArchitectures) {
  std::vector<uint8_t> bytes = Sample().Serialize();
  std::vector<uint8_t> not_ours = bytes;
  not_ours[0] = 'X';
  EXPECT_THAT(SnapshotFile::Parse(not_ours),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("HVSNAP")));
  std::vector<uint8_t> newer = bytes;
  newer[8] = 2;  // the format version, right after the magic
  EXPECT_THAT(SnapshotFile::Parse(newer),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("format version 2")));
  std::vector<uint8_t> arch = bytes;
  arch[12] = 9;
  EXPECT_THAT(SnapshotFile::Parse(arch),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("architecture 9")));
  std::vector<uint8_t> trailing = bytes;
  trailing.push_back(0);
  EXPECT_THAT(SnapshotFile::Parse(trailing),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("after the end")));
}

TEST(SnapshotFile, RefusesADuplicateSectionAndANonEmptyEnd) {
  SnapshotFile twice = Sample();
  twice.Add(Tag::kVcpuRegs, 0, {4, 5, 6});
  EXPECT_THAT(SnapshotFile::Parse(twice.Serialize()),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("vCPU regs (tag 16) index 0 appears twice")));
  // The end section given one payload byte (length and CRC to match).
  std::vector<uint8_t> bytes = Sample().Serialize();
  const size_t end = bytes.size() - 20;  // the end section's header
  bytes[end + 8] = 1;
  const uint8_t extra = 0x7e;
  const uint32_t crc = Crc32c(absl::MakeConstSpan(&extra, 1));
  for (int i = 0; i < 4; ++i) bytes[end + 16 + i] = (crc >> (8 * i)) & 0xff;
  bytes.push_back(extra);
  EXPECT_THAT(SnapshotFile::Parse(bytes),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("the end section has index 0 and 1 bytes")));
}

TEST(SnapshotFile, WritesAndReadsAFile) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path =
      std::string(dir != nullptr ? dir : "/tmp") + "/snapshot_file_test.hvsnap";
  ASSERT_OK(Sample().WriteTo(path));
  EXPECT_NE(::access((path + ".tmp").c_str(), F_OK), 0);
  ASSERT_OK_AND_ASSIGN(SnapshotFile back, SnapshotFile::ReadFrom(path));
  EXPECT_EQ(back.sections().size(), 2u);
  EXPECT_THAT(SnapshotFile::ReadFrom(path + ".missing"),
              StatusIs(absl::StatusCode::kNotFound));
  ::unlink(path.c_str());
}

TEST(X86_64Codec, StateRoundTripsAndShortPayloadsAreRefused) {
  Sregs sregs;
  sregs.cs.base = 0x1234;
  sregs.cs.l = true;
  sregs.efer = 0x500;
  sregs.idt.limit = 0xfff;
  ASSERT_OK_AND_ASSIGN(Sregs back, DecodeSregs(EncodeSregs(sregs), "sregs"));
  EXPECT_EQ(back.cs.base, 0x1234u);
  EXPECT_TRUE(back.cs.l);
  EXPECT_EQ(back.efer, 0x500u);
  EXPECT_EQ(back.idt.limit, 0xfffu);
  Sregs wide = sregs;
  wide.ss.dpl = 4;
  EXPECT_THAT(DecodeSregs(EncodeSregs(wide), "vCPU 0 sregs"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("vCPU 0 sregs: segment type 0 / dpl 4")));
  wide = sregs;
  wide.cr0 = uint64_t{1} << 40;
  EXPECT_THAT(DecodeSregs(EncodeSregs(wide), "vCPU 0 sregs"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("cr0 0x10000000000 / cr8 0 have reserved")));

  VcpuEvents events;
  events.nmi.pending = true;
  events.sipi_vector = 0x9a;
  events.exception.error_code = 0xdead;
  ASSERT_OK_AND_ASSIGN(VcpuEvents events_back,
                       DecodeVcpuEvents(EncodeVcpuEvents(events), "events"));
  EXPECT_TRUE(events_back.nmi.pending);
  EXPECT_EQ(events_back.sipi_vector, 0x9a);
  EXPECT_EQ(events_back.exception.error_code, 0xdeadu);

  ClockState clock;
  clock.clock_ns = 77;
  clock.realtime_ns = 99;
  ASSERT_OK_AND_ASSIGN(ClockState clock_back,
                       DecodeClock(EncodeClock(clock), "clock"));
  EXPECT_EQ(clock_back.realtime_ns, 99u);
  EXPECT_FALSE(clock_back.host_tsc.has_value());

  std::vector<uint8_t> regs = EncodeRegs(Regs{});
  regs.pop_back();
  EXPECT_THAT(DecodeRegs(regs, "vCPU 3 regs"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("vCPU 3 regs")));
  regs.push_back(0);
  regs.push_back(0);
  EXPECT_THAT(DecodeRegs(regs, "vCPU 3 regs"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("left over")));
  Regs reserved;
  reserved.rflags = 0x2 | (uint64_t{1} << 40);
  EXPECT_THAT(DecodeRegs(EncodeRegs(reserved), "vCPU 0 regs"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("rflags 0x10000000002 has reserved bits")));
  // An MSR count the payload cannot hold is refused before allocating.
  ByteWriter huge;
  huge.Put32(0xffffffff);
  EXPECT_THAT(DecodeMsrs(huge.bytes(), "msrs"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("entries need")));
  std::vector<uint8_t> not_bool = EncodeClock(clock);
  not_bool[8] = 2;  // `stable`
  EXPECT_THAT(DecodeClock(not_bool, "clock"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("not a boolean")));
}

}  // namespace
}  // namespace hv::snapshot
