// Little-endian loads and stores at byte offsets of a buffer, for the boot
// structures of linux_boot/ (setup header, zero page, MP and ACPI tables,
// the LAPIC page), which x86 defines as little-endian packed layouts, and the
// byte checksum the MP and ACPI tables share. Callers check bounds first.
//
// Example:
//   uint16_t version = hv::LoadLe<uint16_t>(image.data() + 0x206);
//   hv::StoreLe<uint32_t>(zero_page.data() + 0x228, cmdline_address);
#ifndef HV_LINUX_BOOT_LE_BYTES_H_
#define HV_LINUX_BOOT_LE_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace hv {

template <typename T>
T LoadLe(const uint8_t* bytes) {
  static_assert(std::is_unsigned_v<T>);
  T value = 0;
  for (unsigned i = 0; i < sizeof(T); ++i) {
    value |= static_cast<T>(static_cast<T>(bytes[i]) << (8 * i));
  }
  return value;
}

template <typename T>
void StoreLe(uint8_t* bytes, T value) {
  static_assert(std::is_unsigned_v<T>);
  for (unsigned i = 0; i < sizeof(T); ++i) {
    bytes[i] = static_cast<uint8_t>(value >> (8 * i));
  }
}

// ChecksumByte(): the byte that makes `size` bytes sum to 0 modulo 256, the
// checksum of MP spec 4.1/4.2 structures and ACPI 5.2 tables. Computed with
// the checksum field itself zero.
inline uint8_t ChecksumByte(const uint8_t* bytes, size_t size) {
  uint8_t sum = 0;
  for (size_t i = 0; i < size; ++i) sum = static_cast<uint8_t>(sum + bytes[i]);
  return static_cast<uint8_t>(-sum);
}

}  // namespace hv

#endif  // HV_LINUX_BOOT_LE_BYTES_H_
