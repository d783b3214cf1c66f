// GuestMemory: guest-physical memory as a fake kernel's model maps it onto
// host memory, for ScriptedGuest::GuestRead/GuestWrite. Every fake in
// testing/fakes answers those the same way, so the walk is written once:
// range by range, NOT_FOUND at the first byte no range covers (a guest
// access there would exit as MMIO), PERMISSION_DENIED for a store into a
// range the guest may not write (read-only memory, ROM).
//
// The fake says where its ranges are (a lookup called under its own lock,
// as many times as the walk needs) and how bytes move: plain loads and
// stores by default (memory the fake knows is mapped), or its own, such as
// copy_from_user/copy_to_user (user_memory.h) where a host mapping may
// refuse the access; a refused load is INTERNAL, a refused store
// PERMISSION_DENIED.
//
// Example:
//   std::vector<uint8_t> ram(0x1000);  // what the guest sees at 0x1000
//   hv::testing::GuestMemory memory(
//       "MyFake", "RAM range",
//       [&](uint64_t gpa) -> std::optional<hv::testing::GuestRange> {
//         if (gpa < 0x1000 || gpa >= 0x2000) return std::nullopt;
//         return hv::testing::GuestRange{
//             0x1000, ram.size(), reinterpret_cast<uintptr_t>(ram.data())};
//       });
//   absl::Status stored = memory.Write(0x1000, {1, 2, 3, 4});  // all or none
//   absl::StatusOr<std::vector<uint8_t>> bytes = memory.Read(0x1000, 4);
//   // memory.Read(0x1ffe, 4): NOT_FOUND at 0x2000
#ifndef HV_TESTING_FAKES_GUEST_MEMORY_H_
#define HV_TESTING_FAKES_GUEST_MEMORY_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace hv::testing {

// GuestRange: guest-physical [gpa, gpa + size) backed by host memory.
struct GuestRange {
  uint64_t gpa = 0;
  uint64_t size = 0;
  uint64_t host = 0;     // the host address `gpa` is at
  bool writable = true;  // false: a guest store here exits
};

class GuestMemory {
 public:
  // The range the guest sees at `gpa`, or std::nullopt.
  using Lookup = std::function<std::optional<GuestRange>(uint64_t gpa)>;
  // How bytes move between the fake and a range's host memory; each 0, or
  // an errno when the host mapping refuses the access. The default: plain
  // loads and stores (they never fail).
  struct Access {
    int (*load)(void* to, uintptr_t host, size_t size) = &Load;
    int (*store)(uintptr_t host, const void* from, size_t size) = &Store;
  };

  // `who` and `range_name` word the errors: "<who>: guest read at 0x...:
  // no <range_name> covers it ...".
  GuestMemory(std::string who, std::string range_name, Lookup lookup);
  GuestMemory(std::string who, std::string range_name, Lookup lookup,
              Access access);
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;

  // GuestMemory::Read(): `size` bytes at `gpa`. NOT_FOUND at the first byte
  // no range covers; INTERNAL when the copy fails.
  absl::StatusOr<std::vector<uint8_t>> Read(uint64_t gpa, size_t size) const;

  // GuestMemory::CheckWrite(): whether a store of `size` bytes at `gpa`
  // reaches memory: NOT_FOUND at the first byte no range covers,
  // PERMISSION_DENIED at the first in a range that is not writable (in
  // address order: whichever comes first). Writes nothing.
  absl::Status CheckWrite(uint64_t gpa, size_t size) const;

  // GuestMemory::Write(): CheckWrite(), then WriteUnchecked(): a store
  // that would exit writes nothing.
  absl::Status Write(uint64_t gpa, absl::Span<const uint8_t> data) const;

  // GuestMemory::WriteUnchecked(): `data` at `gpa`, range by range, without
  // checking first: on NOT_FOUND or PERMISSION_DENIED (a range that is not
  // writable, or a refused store) the ranges before it were written.
  absl::Status WriteUnchecked(uint64_t gpa,
                              absl::Span<const uint8_t> data) const;

  // GuestMemory::Load() / Store(): the default Access, plain memcpy.
  static int Load(void* to, uintptr_t host, size_t size);
  static int Store(uintptr_t host, const void* from, size_t size);

 private:
  // The range at `address` with `*piece` set to how many of the `left`
  // bytes from there it holds; NOT_FOUND (worded for `access`) for none.
  absl::StatusOr<GuestRange> Piece(uint64_t address, size_t left,
                                   const char* access, size_t* piece) const;

  const std::string who_;
  const std::string range_name_;
  const Lookup lookup_;
  const Access access_;
};

}  // namespace hv::testing

#endif  // HV_TESTING_FAKES_GUEST_MEMORY_H_
