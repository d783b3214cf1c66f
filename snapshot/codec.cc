#include "snapshot/codec.h"

#include <array>

#include "absl/strings/str_format.h"

namespace hv::snapshot {
namespace {

// Slicing-by-8 tables of the reflected CRC-32C polynomial: table[0] is the
// byte-at-a-time table; table[k][b] is the CRC of byte b followed by k
// zero bytes, so eight bytes are folded in per step.
using Crc32cTables = std::array<std::array<uint32_t, 256>, 8>;

Crc32cTables MakeCrc32cTables() {
  Crc32cTables table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
    }
    table[0][i] = crc;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (int k = 1; k < 8; ++k) {
      const uint32_t previous = table[k - 1][i];
      table[k][i] = (previous >> 8) ^ table[0][previous & 0xff];
    }
  }
  return table;
}

uint32_t Le32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 |
         uint32_t{p[3]} << 24;
}

}  // namespace

uint32_t Crc32c(absl::Span<const uint8_t> data, uint32_t crc) {
  static const Crc32cTables table = MakeCrc32cTables();
  crc = ~crc;
  const uint8_t* p = data.data();
  size_t left = data.size();
  for (; left >= 8; p += 8, left -= 8) {
    const uint32_t low = crc ^ Le32(p);
    const uint32_t high = Le32(p + 4);
    crc = table[7][low & 0xff] ^ table[6][(low >> 8) & 0xff] ^
          table[5][(low >> 16) & 0xff] ^ table[4][low >> 24] ^
          table[3][high & 0xff] ^ table[2][(high >> 8) & 0xff] ^
          table[1][(high >> 16) & 0xff] ^ table[0][high >> 24];
  }
  for (; left > 0; ++p, --left) crc = table[0][(crc ^ *p) & 0xff] ^ (crc >> 8);
  return ~crc;
}

absl::StatusOr<uint64_t> ByteReader::GetLittle(const char* field, int width) {
  if (remaining() < static_cast<uint64_t>(width)) {
    return absl::DataLossError(absl::StrFormat(
        "%s: %s needs %d bytes, %u are left", what_, field, width,
        remaining()));
  }
  uint64_t v = 0;
  for (int i = 0; i < width; ++i) {
    v |= static_cast<uint64_t>(data_[pos_ + i]) << (8 * i);
  }
  pos_ += width;
  return v;
}

absl::StatusOr<uint8_t> ByteReader::Get8(const char* field) {
  absl::StatusOr<uint64_t> v = GetLittle(field, 1);
  if (!v.ok()) return v.status();
  return static_cast<uint8_t>(*v);
}

absl::StatusOr<uint16_t> ByteReader::Get16(const char* field) {
  absl::StatusOr<uint64_t> v = GetLittle(field, 2);
  if (!v.ok()) return v.status();
  return static_cast<uint16_t>(*v);
}

absl::StatusOr<uint32_t> ByteReader::Get32(const char* field) {
  absl::StatusOr<uint64_t> v = GetLittle(field, 4);
  if (!v.ok()) return v.status();
  return static_cast<uint32_t>(*v);
}

absl::StatusOr<uint64_t> ByteReader::Get64(const char* field) {
  return GetLittle(field, 8);
}

absl::StatusOr<bool> ByteReader::GetBool(const char* field) {
  absl::StatusOr<uint8_t> v = Get8(field);
  if (!v.ok()) return v.status();
  if (*v > 1) {
    return absl::DataLossError(absl::StrFormat(
        "%s: %s is %u, not a boolean (0 or 1)", what_, field, *v));
  }
  return *v == 1;
}

absl::StatusOr<absl::Span<const uint8_t>> ByteReader::GetBytes(
    const char* field, uint64_t size) {
  if (remaining() < size) {
    return absl::DataLossError(absl::StrFormat(
        "%s: %s needs %u bytes, %u are left", what_, field, size,
        remaining()));
  }
  absl::Span<const uint8_t> bytes = data_.subspan(pos_, size);
  pos_ += size;
  return bytes;
}

absl::StatusOr<absl::Span<const uint8_t>> ByteReader::GetBlob(
    const char* field) {
  absl::StatusOr<uint64_t> size = Get64(field);
  if (!size.ok()) return size.status();
  return GetBytes(field, *size);
}

absl::StatusOr<std::string> ByteReader::GetString(const char* field) {
  absl::StatusOr<absl::Span<const uint8_t>> bytes = GetBlob(field);
  if (!bytes.ok()) return bytes.status();
  return std::string(bytes->begin(), bytes->end());
}

absl::Status ByteReader::Done() const {
  if (remaining() != 0) {
    return absl::DataLossError(absl::StrFormat(
        "%s: %u bytes left over after the last field", what_, remaining()));
  }
  return absl::OkStatus();
}

absl::Status ByteReader::ExpectVersion(uint32_t expected, absl::string_view record) {
  return GetVersion(expected, expected, record).status();
}

absl::StatusOr<uint32_t> ByteReader::GetVersion(uint32_t oldest, uint32_t newest,
                                                absl::string_view record) {
  absl::StatusOr<uint32_t> version = Get32("version");
  if (!version.ok()) return version.status();
  if (*version < oldest || *version > newest) {
    return absl::FailedPreconditionError(
        oldest == newest
            ? absl::StrFormat("%s: version %u; this build reads version %u", record,
                              *version, newest)
            : absl::StrFormat("%s: version %u; this build reads versions %u to %u",
                              record, *version, oldest, newest));
  }
  return *version;
}

}  // namespace hv::snapshot
