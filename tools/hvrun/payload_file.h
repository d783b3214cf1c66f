// ReadPayloadFile(): reads hvrun's --payload safely, whatever the path
// names. Only a regular file is read: a directory, a FIFO (opened without
// blocking, so one with no writer cannot hang hvrun), a device such as
// /dev/zero or a socket is refused by its type; a file larger than the
// guest RAM it must fit in (a 1 TiB sparse file, say) is refused by its
// size before a byte is read; an empty file is refused. A file that is an
// ELF executable or a Linux bzImage rather than a flat binary is refused
// with a hint.
//
// Example:
//   ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
//                    hv::ReadPayloadFile("guest.bin", /*max_size=*/64 << 20));
#ifndef HV_TOOLS_HVRUN_PAYLOAD_FILE_H_
#define HV_TOOLS_HVRUN_PAYLOAD_FILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace hv {

// ReadPayloadFile(): the bytes of the regular file `path`, at most
// `max_size` of them. Every error's message starts "--payload=<path>: ".
// NOT_FOUND / PERMISSION_DENIED / FAILED_PRECONDITION when it cannot be
// opened or read; INVALID_ARGUMENT when it is not a regular file, is empty,
// is larger than `max_size`, or is an ELF file or a bzImage.
absl::StatusOr<std::vector<uint8_t>> ReadPayloadFile(const std::string& path,
                                                     uint64_t max_size);

// ReadInputFile(): the same reading and checks for any input file (hvrun's
// --kernel, --initrd), with errors starting "--<flag>=<path>: ", and no
// format check.
absl::StatusOr<std::vector<uint8_t>> ReadInputFile(absl::string_view flag,
                                                   const std::string& path,
                                                   uint64_t max_size);

// PayloadFormatHint(): for bytes that are not a flat binary, why and what to
// do instead (an ELF file: objcopy -O binary; a bzImage: --kernel);
// "" for anything else.
std::string PayloadFormatHint(absl::Span<const uint8_t> bytes);

}  // namespace hv

#endif  // HV_TOOLS_HVRUN_PAYLOAD_FILE_H_
