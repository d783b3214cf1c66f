// FieldWriter/FieldReader (fields.h): one field list writes and reads back
// every kind of field, and a decoder stops at the first bad field.
#include "snapshot/fields.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace hv::snapshot {
namespace {

using ::hv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Sample {
  bool flag = false;
  uint8_t byte = 0;
  uint16_t half = 0;
  uint32_t word = 0;
  int64_t signed_quad = 0;
  std::optional<uint64_t> maybe;
  std::array<uint8_t, 3> raw{};
};

int checks_run = 0;

constexpr auto kSampleFields = [](auto& io, auto& s) {
  io(s.flag, "flag");
  io(s.byte, "byte");
  io(s.half, "half");
  io(s.word, "word");
  io(s.signed_quad, "signed quad");
  io(s.maybe, "maybe present", "maybe value");
  io(s.raw, "raw");
  io.Check([&s](const std::string& what) {
    ++checks_run;
    return s.byte == 0xee ? absl::DataLossError(what + ": byte 0xee") : absl::OkStatus();
  });
};

Sample Filled() {
  Sample s;
  s.flag = true;
  s.byte = 0x12;
  s.half = 0x3456;
  s.word = 0x789abcde;
  s.signed_quad = -2;
  s.maybe = 7;
  s.raw = {1, 2, 3};
  return s;
}

TEST(Fields, WritesEachFieldAtItsTypesWidthLittleEndian) {
  const std::vector<uint8_t> bytes = EncodeFields(Filled(), kSampleFields);
  EXPECT_THAT(bytes, ElementsAre(1, 0x12, 0x56, 0x34, 0xde, 0xbc, 0x9a, 0x78,  //
                                 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  //
                                 1, 7, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3));
}

TEST(Fields, ReadsBackWhatItWrote) {
  absl::StatusOr<Sample> back =
      DecodeFields<Sample>(EncodeFields(Filled(), kSampleFields), "sample", kSampleFields);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->flag);
  EXPECT_EQ(back->byte, 0x12);
  EXPECT_EQ(back->half, 0x3456);
  EXPECT_EQ(back->word, 0x789abcdeu);
  EXPECT_EQ(back->signed_quad, -2);
  EXPECT_EQ(back->maybe, 7u);
  EXPECT_THAT(back->raw, ElementsAre(1, 2, 3));

  Sample absent = Filled();
  absent.maybe.reset();
  back = DecodeFields<Sample>(EncodeFields(absent, kSampleFields), "sample", kSampleFields);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_FALSE(back->maybe.has_value());
}

TEST(Fields, StopsAtTheFirstShortFieldAndSkipsLaterChecks) {
  std::vector<uint8_t> bytes = EncodeFields(Filled(), kSampleFields);
  bytes.resize(5);  // flag, byte, half, then one byte of `word`
  checks_run = 0;
  EXPECT_THAT(DecodeFields<Sample>(bytes, "sample", kSampleFields),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("word")));
  EXPECT_EQ(checks_run, 0);
}

TEST(Fields, ReportsAFailedCheckAndLeftOverBytes) {
  Sample bad = Filled();
  bad.byte = 0xee;
  EXPECT_THAT(DecodeFields<Sample>(EncodeFields(bad, kSampleFields), "sample", kSampleFields),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("sample: byte 0xee")));
  std::vector<uint8_t> longer = EncodeFields(Filled(), kSampleFields);
  longer.push_back(0);
  EXPECT_THAT(DecodeFields<Sample>(longer, "sample", kSampleFields),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("left over")));
}

constexpr auto kWordsFields = [](auto& io, auto& words) {
  io(words, "word count", [](auto& io, auto& word) { io(word, "word"); });
};

TEST(Fields, WritesAListAsItsCountThenItsElements) {
  const std::vector<uint32_t> words = {1, 0x0a0b0c0d};
  const std::vector<uint8_t> bytes = EncodeFields(words, kWordsFields);
  EXPECT_THAT(bytes, ElementsAre(2, 0, 0, 0, 1, 0, 0, 0, 0x0d, 0x0c, 0x0b, 0x0a));
  absl::StatusOr<std::vector<uint32_t>> back =
      DecodeFields<std::vector<uint32_t>>(bytes, "words", kWordsFields);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, words);
}

TEST(Fields, AListCountBeyondThePayloadEndsAtItsEnd) {
  const std::vector<uint8_t> bytes = {0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0};
  EXPECT_THAT(DecodeFields<std::vector<uint32_t>>(bytes, "words", kWordsFields),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("words: word needs 4 bytes")));
}

}  // namespace
}  // namespace hv::snapshot
