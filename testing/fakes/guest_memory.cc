#include "testing/fakes/guest_memory.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"

namespace hv::testing {

GuestMemory::GuestMemory(std::string who, std::string range_name,
                         Lookup lookup)
    : GuestMemory(std::move(who), std::move(range_name), std::move(lookup),
                  Access()) {}

GuestMemory::GuestMemory(std::string who, std::string range_name,
                         Lookup lookup, Access access)
    : who_(std::move(who)),
      range_name_(std::move(range_name)),
      lookup_(std::move(lookup)),
      access_(access) {}

int GuestMemory::Load(void* to, uintptr_t host, size_t size) {
  // SAFETY: see Access: the caller's model says `host` is mapped.
  std::memcpy(to, reinterpret_cast<const void*>(host), size);
  return 0;
}

int GuestMemory::Store(uintptr_t host, const void* from, size_t size) {
  // SAFETY: as in Load().
  std::memcpy(reinterpret_cast<void*>(host), from, size);
  return 0;
}

absl::StatusOr<GuestRange> GuestMemory::Piece(uint64_t address, size_t left,
                                              const char* access,
                                              size_t* piece) const {
  std::optional<GuestRange> range = lookup_(address);
  if (!range.has_value() || address < range->gpa ||
      address - range->gpa >= range->size) {
    return absl::NotFoundError(absl::StrFormat(
        "%s: guest %s at %#x: no %s covers it (a guest access would exit as "
        "MMIO)",
        who_, access, address, range_name_));
  }
  *piece = static_cast<size_t>(
      std::min<uint64_t>(left, range->size - (address - range->gpa)));
  return *range;
}

absl::StatusOr<std::vector<uint8_t>> GuestMemory::Read(uint64_t gpa,
                                                       size_t size) const {
  std::vector<uint8_t> out(size);
  for (size_t done = 0, piece = 0; done < size; done += piece) {
    const uint64_t address = gpa + done;
    absl::StatusOr<GuestRange> range =
        Piece(address, size - done, "read", &piece);
    if (!range.ok()) return range.status();
    // The fake's model says the range's host memory is mapped (it checked
    // it when the range was added, as the kernel pins or checks it); a fake
    // unsure of that passes an Access that probes.
    const uintptr_t host =
        static_cast<uintptr_t>(range->host + (address - range->gpa));
    if (access_.load(out.data() + done, host, piece) != 0) {
      return absl::InternalError(absl::StrFormat(
          "%s: guest read at %#x: the host mapping is not readable", who_,
          address));
    }
  }
  return out;
}

absl::Status GuestMemory::CheckWrite(uint64_t gpa, size_t size) const {
  for (size_t done = 0, piece = 0; done < size; done += piece) {
    const uint64_t address = gpa + done;
    absl::StatusOr<GuestRange> range =
        Piece(address, size - done, "write", &piece);
    if (!range.ok()) return range.status();
    if (!range->writable) {
      return absl::PermissionDeniedError(absl::StrFormat(
          "%s: guest write at %#x: the %s at %#x is read-only (a guest "
          "store would exit as MMIO)",
          who_, address, range_name_, range->gpa));
    }
  }
  return absl::OkStatus();
}

absl::Status GuestMemory::Write(uint64_t gpa,
                                absl::Span<const uint8_t> data) const {
  if (absl::Status checked = CheckWrite(gpa, data.size()); !checked.ok()) {
    return checked;
  }
  return WriteUnchecked(gpa, data);
}

absl::Status GuestMemory::WriteUnchecked(
    uint64_t gpa, absl::Span<const uint8_t> data) const {
  for (size_t done = 0, piece = 0; done < data.size(); done += piece) {
    const uint64_t address = gpa + done;
    absl::StatusOr<GuestRange> range =
        Piece(address, data.size() - done, "write", &piece);
    if (!range.ok()) return range.status();
    const uintptr_t host =
        static_cast<uintptr_t>(range->host + (address - range->gpa));
    if (!range->writable ||
        access_.store(host, data.data() + done, piece) != 0) {
      return absl::PermissionDeniedError(absl::StrFormat(
          "%s: guest write at %#x: the %s at %#x is read-only", who_, address,
          range_name_, range->gpa));
    }
  }
  return absl::OkStatus();
}

}  // namespace hv::testing
