// What the Linux guest tests share (hvrun_linux_boot_test,
// hvrun_linux_snapshot_test): both run in the tools/vmtest VM, boot the
// VM's own kernel and give it an initramfs of the VM's busybox-static and
// an /init of their own.
#ifndef HV_TOOLS_HVRUN_LINUX_GUEST_GUEST_TEST_UTIL_H_
#define HV_TOOLS_HVRUN_LINUX_GUEST_GUEST_TEST_UTIL_H_

#include <string>
#include <vector>

namespace hv {

// SharedGuestKernel(): the kernel the VM shares at $HV_GUEST_KERNEL (the
// test's BUILD target sets HV_VMTEST_SHARE_KERNEL=1); empty, after a test
// failure saying why, where it is unset.
std::string SharedGuestKernel();

// ReadWholeFile(): the bytes of `path`; empty where it cannot be read.
std::string ReadWholeFile(const std::string& path);

// GuestFile: an executable (mode 0755) for the initramfs.
struct GuestFile {
  std::string path;  // relative to the root: "init"
  std::string contents;
};

// WriteBusyboxInitramfs(): writes $TEST_TMPDIR/initramfs.cpio holding, in
// this order, the directories `dirs` (parents first; "bin" and "dev" among
// them), dev/console, the VM's /bin/busybox at bin/busybox and `files`;
// returns its path. Empty, after a test failure, where the VM has no
// busybox-static.
std::string WriteBusyboxInitramfs(const std::vector<std::string>& dirs,
                                  const std::vector<GuestFile>& files);

}  // namespace hv

#endif  // HV_TOOLS_HVRUN_LINUX_GUEST_GUEST_TEST_UTIL_H_
