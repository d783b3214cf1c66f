// Initramfs: builds a Linux initramfs, an uncompressed cpio archive in the
// "new ASCII" (newc) format the kernel unpacks into its root file system
// (Documentation/driver-api/early-userspace/buffer-format.rst), for tests
// that boot Linux guests with an /init of their own.
//
// Example:
//   hv::Initramfs initramfs;
//   initramfs.AddDirectory("bin");
//   initramfs.AddFile("bin/busybox", busybox_bytes, 0755);
//   initramfs.AddFile("init", "#!/bin/busybox sh\n...", 0755);
//   initramfs.AddCharDevice("dev/console", 5, 1, 0600);
//   std::string archive = initramfs.Finish();
#ifndef HV_TOOLS_HVRUN_LINUX_GUEST_INITRAMFS_H_
#define HV_TOOLS_HVRUN_LINUX_GUEST_INITRAMFS_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace hv {

class Initramfs {
 public:
  // Paths are relative to the root ("bin/busybox"); parents come first.
  void AddDirectory(absl::string_view path, uint32_t permissions = 0755);
  void AddFile(absl::string_view path, absl::string_view contents,
               uint32_t permissions = 0644);
  void AddCharDevice(absl::string_view path, uint32_t major, uint32_t minor,
                     uint32_t permissions = 0600);
  // Initramfs::Finish(): the archive, ended by the TRAILER!!! entry.
  std::string Finish();

 private:
  void Add(absl::string_view path, uint32_t mode, absl::string_view contents,
           uint32_t rdev_major, uint32_t rdev_minor);

  std::string archive_;
  uint32_t next_inode_ = 1;
};

}  // namespace hv

#endif  // HV_TOOLS_HVRUN_LINUX_GUEST_INITRAMFS_H_
