#include "hypervisor/os/ioctl_seam.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gtest/gtest.h"

namespace hv {
namespace {

class TestSeam : public IoctlSeam {};

TEST(IoctlSeam, RealSeamIsOnePerSeamType) {
  EXPECT_EQ(RealSeam<TestSeam>(), RealSeam<TestSeam>());
  EXPECT_NE(static_cast<IoctlSeam*>(RealSeam<TestSeam>()),
            RealSeam<IoctlSeam>());
}

TEST(IoctlSeam, OpenIoctlCloseReachTheKernel) {
  TestSeam* seam = RealSeam<TestSeam>();
  const int fd = seam->Open("/dev/null", O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  // /dev/null is no terminal: the kernel answers ENOTTY, as it would.
  int bytes = 0;
  EXPECT_EQ(seam->IoctlPtr(fd, FIONREAD, &bytes) < 0 ? errno : 0, ENOTTY);
  EXPECT_EQ(seam->Close(fd), 0);
  EXPECT_EQ(seam->Close(fd), -1);
  EXPECT_EQ(errno, EBADF);
}

TEST(IoctlSeam, OpenFailureSetsErrno) {
  errno = 0;
  EXPECT_EQ(RealSeam<TestSeam>()->Open("/nonexistent/hv", O_RDONLY), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST(IoctlSeam, MmapAndMunmapReachTheKernel) {
  TestSeam* seam = RealSeam<TestSeam>();
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* memory = seam->Mmap(nullptr, page, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(memory, MAP_FAILED) << std::strerror(errno);
  static_cast<char*>(memory)[0] = 1;
  EXPECT_EQ(seam->Munmap(memory, page), 0);
  EXPECT_EQ(seam->Mmap(nullptr, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                       0),
            MAP_FAILED);
  EXPECT_EQ(errno, EINVAL);
}

}  // namespace
}  // namespace hv
