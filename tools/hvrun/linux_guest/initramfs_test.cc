#include "tools/hvrun/linux_guest/initramfs.h"

#include <string>

#include "gtest/gtest.h"

namespace hv {
namespace {

TEST(Initramfs, WritesNewcEntriesAlignedToFourBytes) {
  Initramfs initramfs;
  initramfs.AddDirectory("bin");
  initramfs.AddFile("init", "#!/bin/sh\n", 0755);
  initramfs.AddCharDevice("dev/console", 5, 1);
  const std::string archive = initramfs.Finish();
  ASSERT_EQ(archive.size() % 4, 0u);
  // First entry: "bin", a directory (040755), inode 1, two links.
  EXPECT_EQ(archive.substr(0, 6), "070701");
  EXPECT_EQ(archive.substr(6, 8), "00000001");
  EXPECT_EQ(archive.substr(14, 8), "000041ED");
  EXPECT_EQ(archive.substr(38, 8), "00000002");
  EXPECT_EQ(archive.substr(94, 8), "00000004");  // namesize "bin\0"
  EXPECT_EQ(archive.substr(110, 4), std::string("bin\0", 4));
  // The file's entry starts at the next 4-byte boundary: 110 + 4 = 114 -> 116.
  EXPECT_EQ(archive.substr(116, 6), "070701");
  EXPECT_EQ(archive.substr(116 + 14, 8), "000081ED");
  EXPECT_EQ(archive.substr(116 + 54, 8), "0000000A");  // filesize 10
  const size_t data = 116 + 110 + 5 /* "init\0" */ + 1 /* pad to 232 */;
  EXPECT_EQ(archive.substr(data, 10), "#!/bin/sh\n");
  // The device carries its rdev; the archive ends with the trailer.
  const size_t device = archive.find("dev/console") - 110;
  EXPECT_EQ(archive.substr(device + 14, 8), "00002180");
  EXPECT_EQ(archive.substr(device + 78, 8), "00000005");
  EXPECT_EQ(archive.substr(device + 86, 8), "00000001");
  EXPECT_NE(archive.find("TRAILER!!!"), std::string::npos);
}

}  // namespace
}  // namespace hv
