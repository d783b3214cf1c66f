#include "tools/hvrun/linux_guest/initramfs.h"

#include "absl/strings/str_format.h"

namespace hv {
namespace {

// File types of the mode field (the st_mode bits cpio carries).
constexpr uint32_t kRegular = 0100000;
constexpr uint32_t kDirectory = 0040000;
constexpr uint32_t kCharDevice = 0020000;

void PadTo4(std::string& archive) {
  while (archive.size() % 4 != 0) archive.push_back('\0');
}

}  // namespace

void Initramfs::AddDirectory(absl::string_view path, uint32_t permissions) {
  Add(path, kDirectory | (permissions & 07777), "", 0, 0);
}

void Initramfs::AddFile(absl::string_view path, absl::string_view contents,
                        uint32_t permissions) {
  Add(path, kRegular | (permissions & 07777), contents, 0, 0);
}

void Initramfs::AddCharDevice(absl::string_view path, uint32_t major, uint32_t minor,
                              uint32_t permissions) {
  Add(path, kCharDevice | (permissions & 07777), "", major, minor);
}

void Initramfs::Add(absl::string_view path, uint32_t mode, absl::string_view contents,
                    uint32_t rdev_major, uint32_t rdev_minor) {
  // "070701", then 13 eight-digit hex fields: ino, mode, uid, gid, nlink,
  // mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize
  // (with the NUL), check (0 in newc).
  absl::StrAppendFormat(&archive_, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
                        next_inode_++, mode, 0, 0, (mode & kDirectory) ? 2 : 1, 0,
                        contents.size(), 0, 0, rdev_major, rdev_minor, path.size() + 1, 0);
  archive_.append(path.data(), path.size());
  archive_.push_back('\0');
  PadTo4(archive_);  // the 110-byte header plus the name
  archive_.append(contents.data(), contents.size());
  PadTo4(archive_);
}

std::string Initramfs::Finish() {
  Add("TRAILER!!!", 0, "", 0, 0);
  return std::move(archive_);
}

}  // namespace hv
