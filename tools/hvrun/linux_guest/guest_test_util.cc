#include "tools/hvrun/linux_guest/guest_test_util.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "tools/hvrun/linux_guest/initramfs.h"

namespace hv {

std::string SharedGuestKernel() {
  const char* kernel = std::getenv("HV_GUEST_KERNEL");
  if (kernel != nullptr) return kernel;
  ADD_FAILURE() << "HV_GUEST_KERNEL is unset: this test runs in the tools/vmtest VM, which "
                   "shares its kernel (HV_VMTEST_SHARE_KERNEL=1, set by the test's BUILD "
                   "target)";
  return "";
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

std::string WriteBusyboxInitramfs(const std::vector<std::string>& dirs,
                                  const std::vector<GuestFile>& files) {
  const std::string busybox = ReadWholeFile("/bin/busybox");
  if (busybox.size() <= 100000) {
    ADD_FAILURE() << "no /bin/busybox (busybox-static) in the VM";
    return "";
  }
  Initramfs initramfs;
  for (const std::string& dir : dirs) initramfs.AddDirectory(dir);
  initramfs.AddCharDevice("dev/console", 5, 1);
  initramfs.AddFile("bin/busybox", busybox, 0755);
  for (const GuestFile& file : files) initramfs.AddFile(file.path, file.contents, 0755);
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/initramfs.cpio";
  std::ofstream(path, std::ios::binary) << initramfs.Finish();
  return path;
}

}  // namespace hv
