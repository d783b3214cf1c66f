// Little-endian byte codec and CRC-32C for hv's snapshot format
// (snapshot/README.md): ByteWriter appends fixed-width integers and byte
// strings; ByteReader reads them back and fails, naming what it was
// reading, instead of running past the end.
//
// Example:
//   hv::snapshot::ByteWriter out;
//   out.Put64(regs.rip);
//   hv::snapshot::ByteReader in(out.bytes(), "regs");
//   ASSIGN_OR_RETURN(uint64_t rip, in.Get64("rip"));
#ifndef HV_SNAPSHOT_CODEC_H_
#define HV_SNAPSHOT_CODEC_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace hv::snapshot {

// Crc32c(): CRC-32C (Castagnoli, reflected polynomial 0x82f63b78; RFC 3720,
// Appendix B.4) of `data`, continuing from `crc` (0 to start).
uint32_t Crc32c(absl::Span<const uint8_t> data, uint32_t crc = 0);

class ByteWriter {
 public:
  void Put8(uint8_t v) { bytes_.push_back(v); }
  void Put16(uint16_t v) { PutLittle(v, 2); }
  void Put32(uint32_t v) { PutLittle(v, 4); }
  void Put64(uint64_t v) { PutLittle(v, 8); }
  void PutBool(bool v) { Put8(v ? 1 : 0); }
  // PutBytes(): the bytes as they are (the reader must know the length).
  void PutBytes(absl::Span<const uint8_t> data) {
    bytes_.insert(bytes_.end(), data.begin(), data.end());
  }
  // PutBlob(): a 64-bit length, then the bytes.
  void PutBlob(absl::Span<const uint8_t> data) {
    Put64(data.size());
    PutBytes(data);
  }
  void PutString(const std::string& s) {
    PutBlob(absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(s.data()),
                                s.size()));
  }

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t> Take() { return std::move(bytes_); }

 private:
  void PutLittle(uint64_t v, int width) {
    for (int i = 0; i < width; ++i) bytes_.push_back((v >> (8 * i)) & 0xff);
  }

  std::vector<uint8_t> bytes_;
};

class ByteReader {
 public:
  // `what` names the data in errors ("vCPU 0 regs").
  ByteReader(absl::Span<const uint8_t> data, std::string what)
      : data_(data), what_(std::move(what)) {}

  absl::StatusOr<uint8_t> Get8(const char* field);
  absl::StatusOr<uint16_t> Get16(const char* field);
  absl::StatusOr<uint32_t> Get32(const char* field);
  absl::StatusOr<uint64_t> Get64(const char* field);
  // GetBool(): DATA_LOSS for a byte other than 0 or 1.
  absl::StatusOr<bool> GetBool(const char* field);
  absl::StatusOr<absl::Span<const uint8_t>> GetBytes(const char* field,
                                                     uint64_t size);
  absl::StatusOr<absl::Span<const uint8_t>> GetBlob(const char* field);
  absl::StatusOr<std::string> GetString(const char* field);
  // Done(): DATA_LOSS unless every byte was read (a longer section than its
  // decoder expects is corrupt or of another format version).
  absl::Status Done() const;
  // ExpectVersion(): reads a versioned record's leading u32 "version";
  // FAILED_PRECONDITION "`record`: version N; this build reads version
  // `expected`" for another one.
  absl::Status ExpectVersion(uint32_t expected, absl::string_view record);
  // GetVersion(): the same for a record this build reads in versions
  // `oldest` to `newest`; returns the version read. FAILED_PRECONDITION
  // "`record`: version N; this build reads versions `oldest` to `newest`".
  absl::StatusOr<uint32_t> GetVersion(uint32_t oldest, uint32_t newest,
                                      absl::string_view record);

  uint64_t remaining() const { return data_.size() - pos_; }
  const std::string& what() const { return what_; }

 private:
  absl::StatusOr<uint64_t> GetLittle(const char* field, int width);

  absl::Span<const uint8_t> data_;
  const std::string what_;
  uint64_t pos_ = 0;
};

}  // namespace hv::snapshot

#endif  // HV_SNAPSHOT_CODEC_H_
