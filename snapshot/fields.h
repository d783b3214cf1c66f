// Field lists for snapshot/'s payload codecs (internal): a type's fields are
// named once, in a generic `fields(io, value)` function, which serves both
// its encoder (FieldWriter: io appends each field) and its decoder
// (FieldReader: io reads each field back), so the two cannot disagree on
// order, width or name. The wire form is codec.h's: each field takes the
// width of its C++ type, little-endian; bool one byte (0 or 1);
// std::array<uint8_t, N> its N bytes; std::optional<T> a presence byte,
// then T (zero when absent); std::vector<T> a u32 count, then each
// element's fields. FieldReader stops at the first error (a short
// payload, a bad bool, a failed Check()) and keeps it, naming the field.
#ifndef HV_SNAPSHOT_FIELDS_H_
#define HV_SNAPSHOT_FIELDS_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hypervisor/os/status_macros.h"
#include "snapshot/codec.h"

namespace hv::snapshot {

class FieldWriter {
 public:
  explicit FieldWriter(ByteWriter& out) : out_(out) {}

  template <typename T>
  void operator()(const T& value, const char* /*name*/) {
    static_assert(std::is_integral_v<T>, "a field is a bool or an integer");
    if constexpr (std::is_same_v<T, bool>) {
      out_.PutBool(value);
    } else if constexpr (sizeof(T) == 1) {
      out_.Put8(static_cast<uint8_t>(value));
    } else if constexpr (sizeof(T) == 2) {
      out_.Put16(static_cast<uint16_t>(value));
    } else if constexpr (sizeof(T) == 4) {
      out_.Put32(static_cast<uint32_t>(value));
    } else {
      out_.Put64(static_cast<uint64_t>(value));
    }
  }
  template <size_t N>
  void operator()(const std::array<uint8_t, N>& bytes, const char* /*name*/) {
    out_.PutBytes(bytes);
  }
  template <typename T>
  void operator()(const std::optional<T>& value, const char* present_name,
                  const char* value_name) {
    (*this)(value.has_value(), present_name);
    (*this)(value.value_or(T{}), value_name);
  }
  // A u32 count, then each element as `fields(io, element)` lists it.
  template <typename T, typename ElementFields>
  void operator()(const std::vector<T>& elements, const char* count_name,
                  const ElementFields& fields) {
    (*this)(static_cast<uint32_t>(elements.size()), count_name);
    for (const T& element : elements) fields(*this, element);
  }
  // Check(): a decoder's test of what it has read so far; nothing to do
  // when writing.
  template <typename F>
  void Check(const F& /*check*/) {}

 private:
  ByteWriter& out_;
};

class FieldReader {
 public:
  explicit FieldReader(ByteReader& in) : in_(in) {}

  template <typename T>
  void operator()(T& value, const char* name) {
    static_assert(std::is_integral_v<T>, "a field is a bool or an integer");
    if (!status_.ok()) return;
    if constexpr (std::is_same_v<T, bool>) {
      Keep(in_.GetBool(name), value);
    } else if constexpr (sizeof(T) == 1) {
      Keep(in_.Get8(name), value);
    } else if constexpr (sizeof(T) == 2) {
      Keep(in_.Get16(name), value);
    } else if constexpr (sizeof(T) == 4) {
      Keep(in_.Get32(name), value);
    } else {
      Keep(in_.Get64(name), value);
    }
  }
  template <size_t N>
  void operator()(std::array<uint8_t, N>& bytes, const char* name) {
    if (!status_.ok()) return;
    absl::StatusOr<absl::Span<const uint8_t>> data = in_.GetBytes(name, N);
    if (!data.ok()) {
      status_ = data.status();
      return;
    }
    std::copy(data->begin(), data->end(), bytes.begin());
  }
  template <typename T>
  void operator()(std::optional<T>& value, const char* present_name,
                  const char* value_name) {
    bool present = false;
    T read{};
    (*this)(present, present_name);
    (*this)(read, value_name);
    if (status_.ok() && present) value = read;
  }
  // Reads the count, then as many elements as it says, stopping at the
  // first error (a count the payload cannot hold ends at its end).
  template <typename T, typename ElementFields>
  void operator()(std::vector<T>& elements, const char* count_name,
                  const ElementFields& fields) {
    uint32_t count = 0;
    (*this)(count, count_name);
    for (uint32_t i = 0; i < count && status_.ok(); ++i) {
      T element{};
      fields(*this, element);
      if (status_.ok()) elements.push_back(std::move(element));
    }
  }
  // Check(): unless an error came first, `check(what)` (`what` names the
  // payload) becomes the reader's status.
  template <typename F>
  void Check(const F& check) {
    if (status_.ok()) status_ = check(in_.what());
  }

  const absl::Status& status() const { return status_; }

 private:
  template <typename Got, typename T>
  void Keep(absl::StatusOr<Got> got, T& value) {
    if (got.ok()) {
      value = static_cast<T>(*got);
    } else {
      status_ = got.status();
    }
  }

  ByteReader& in_;
  absl::Status status_;
};

// EncodeFields(): `value`'s fields, as `fields(FieldWriter&, const T&)`
// lists them.
template <typename T, typename Fields>
std::vector<uint8_t> EncodeFields(const T& value, const Fields& fields) {
  ByteWriter out;
  FieldWriter io(out);
  fields(io, value);
  return out.Take();
}

// DecodeFields(): a T read back by `fields(FieldReader&, T&)` from all of
// `data`; DATA_LOSS naming `what` and the field when it is short or
// overlong, or what a Check() said.
template <typename T, typename Fields>
absl::StatusOr<T> DecodeFields(absl::Span<const uint8_t> data,
                               const std::string& what, const Fields& fields) {
  ByteReader in(data, what);
  FieldReader io(in);
  T value;
  fields(io, value);
  RETURN_IF_ERROR(io.status());
  RETURN_IF_ERROR(in.Done());
  return value;
}

}  // namespace hv::snapshot

#endif  // HV_SNAPSHOT_FIELDS_H_
