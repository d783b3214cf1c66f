// Boots a real Linux kernel with hvrun, as a user would:
//
//   hvrun --kernel=vmlinuz --initrd=initramfs.cpio --vcpus=2 --mem=256M
//
// The kernel is Debian's linux-image-cloud-amd64 (x86_64) or
// linux-image-cloud-arm64 (aarch64, its Image) and the initramfs is built
// here from Debian's busybox-static plus virtio_shm_probe (a static helper).
// Both come from the tools/vmtest VM this test runs in: HV_KVM_TEST_IN_VM=1
// sends it there on every host (on kvm_pvm hosts all guest kernel code is
// emulated, far too slow for a boot), and HV_VMTEST_SHARE_KERNEL=1 puts the
// VM's own kernel at $HV_GUEST_KERNEL; the busybox is the VM's /bin/busybox.
// The guest's init prints the processor count, the PCI devices and the
// virtio device's shared-memory capability and blob, then reboots (x86_64:
// the 8042 reset line) or powers off (aarch64: PSCI SYSTEM_OFF).
#include <unistd.h>

#include <iostream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/subprocess.h"
#include "tools/hvrun/demo.h"
#include "tools/hvrun/hvrun_test_util.h"
#include "tools/hvrun/linux_guest/guest_test_util.h"

namespace hv {
namespace {

using ::testing::HasSubstr;

#if defined(__aarch64__)
// PSCI SYSTEM_OFF ends the run; the UART's SPI carries the console.
constexpr char kEnd[] = "poweroff -f";
constexpr char kCmdline[] = "console=ttyS0 panic=-1";
constexpr char kEndLine[] = "system off";
#else
constexpr char kEnd[] = "reboot -f";
constexpr char kCmdline[] = "console=ttyS0 reboot=k panic=-1";
constexpr char kEndLine[] = "the guest reset the machine (8042 reset line)";
#endif

constexpr char kInit[] = R"sh(#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "hv-init: processors $(grep -c '^processor' /proc/cpuinfo)"
for d in /sys/bus/pci/devices/*; do
  echo "hv-init: pci ${d##*/} $(cat $d/vendor):$(cat $d/device) class $(cat $d/class)"
done
/virtio_shm_probe /sys/bus/pci/devices/0000:00:03.0
echo "hv-init: done, ending"
# reboot -f and poweroff -f act at once; give the UART a moment to send what
# is queued.
sleep 1
)sh";

TEST(HvrunLinuxBoot, BootsDebiansKernelOnTwoVcpusAndReadsTheBlob) {
  const std::string kernel = SharedGuestKernel();
  ASSERT_FALSE(kernel.empty());
  const std::string probe =
      ReadWholeFile(testing::RunfilePath("tools/hvrun/linux_guest/virtio_shm_probe"));
  ASSERT_FALSE(probe.empty());
  const std::string initrd_path =
      WriteBusyboxInitramfs({"bin", "dev", "proc", "sys"},
                            {{"virtio_shm_probe", probe}, {"init", absl::StrCat(kInit, kEnd, "\n")}});
  ASSERT_FALSE(initrd_path.empty());

  testing::SubprocessOptions options;
  // A boot takes 17-30 s; well inside the VM's own limit (HV_VMTEST_TIMEOUT,
  // 300 s in BUILD), a guest that hangs ends as hvrun's timeout with the
  // console so far in the log.
  options.timeout = absl::Minutes(3);
  // The console and hvrun's stderr in the log as they come: should the
  // whole VM stop (it has, under QEMU TCG, in about 1 boot in 8), the log
  // still shows how far the guest got.
  options.echo_fd = STDOUT_FILENO;
  std::cout << "--- hvrun's console and stderr, as they come ---" << std::endl;
  const absl::Time start = absl::Now();
  const testing::SubprocessResult r = RunHvrun(
      {absl::StrFormat("--kernel=%s", kernel), "--initrd=" + initrd_path, "--vcpus=2",
       "--mem=256M",
       absl::StrCat("--cmdline=", kCmdline),
       "--timeout=2m",
       "--stats"},
      options);
  std::cout << "\n--- hvrun ended: exit " << r.exit_code << " ---\n";
  // For BENCHMARKS.md: hvrun's wall time (start to the guest's reboot) and
  // the guest's own clock when the kernel ran /init.
  const size_t run_init = r.stdout_text.find("] Run /init as init process");
  const size_t stamp = r.stdout_text.rfind('[', run_init);
  std::cout << "hvrun_linux_boot_test: hvrun ran "
            << absl::FormatDuration(absl::Now() - start) << "; the kernel ran /init at "
            << (run_init != std::string::npos && stamp != std::string::npos
                    ? r.stdout_text.substr(stamp + 1, run_init - stamp - 1)
                    : std::string("?"))
            << " s of guest time\n";
  const std::string expected[] = {
      "Linux version",
      "hv-init: processors 2",
#if !defined(__aarch64__)
      // The PC's host bridge (aarch64's ECAM has none).
      "hv-init: pci 0000:00:00.0 0x8086:0x1237 class 0x060000",
#endif
      // The demo's virtio device: vendor 0x1af4, device 0x1040 + 16 (virtio
      // 1.2, 4.1.2.1).
      "hv-init: pci 0000:00:03.0 0x1af4:0x1050",
      "virtio-shm-probe: shared memory capability",
      absl::StrCat("virtio-shm-probe: blob: ", kDemoBlobText),
      "hv-init: done, ending",
  };
  for (const std::string& line : expected) {
    EXPECT_TRUE(absl::StrContains(r.stdout_text, line)) << "the console lacks: " << line;
  }
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(r.stderr_text, kEndLine))
      << "hvrun did not end at the guest's " << kEnd;
}

}  // namespace
}  // namespace hv
