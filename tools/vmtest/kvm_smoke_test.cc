// tools/vmtest/kvm_smoke_test.cc: proves that a test run through the vmtest
// runner (--config=x86-svm-kvm) reaches a working, standard KVM: the API
// version, the memslot count, the capabilities hv relies on, and one real
// guest that exits to userspace with an OUT and then a HLT.
//
//   tools/bazel test --config=x86-svm-kvm //tools/vmtest:kvm_smoke_test
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>

#include "gtest/gtest.h"
#include "tools/vmtest/kvm_caps.h"

namespace hv_vmtest {
namespace {

// Owns one file descriptor.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

class KvmSmokeTest : public testing::Test {
 protected:
  void SetUp() override {
    kvm_ = std::make_unique<Fd>(open("/dev/kvm", O_RDWR | O_CLOEXEC));
    ASSERT_GE(kvm_->get(), 0) << "open /dev/kvm: " << std::strerror(errno);
  }
  int kvm() const { return kvm_->get(); }

 private:
  std::unique_ptr<Fd> kvm_;
};

TEST_F(KvmSmokeTest, ApiVersionIs12) {
  EXPECT_EQ(ioctl(kvm(), KVM_GET_API_VERSION, 0), KVM_API_VERSION);
  EXPECT_EQ(KVM_API_VERSION, 12);
}

TEST_F(KvmSmokeTest, HasMemslots) {
  const int slots = ioctl(kvm(), KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
  std::printf("KVM_CAP_NR_MEMSLOTS = %d\n", slots);
  EXPECT_GT(slots, 0);
}

// Prints the whole table into the log (compare it with another KVM's) and
// checks the capabilities hv's API depends on.
TEST_F(KvmSmokeTest, HasTheCapabilitiesHvNeeds) {
  auto caps = QueryKvmCaps("/dev/kvm");
  ASSERT_TRUE(caps.ok()) << caps.status();
  std::fputs(FormatKvmCaps(*caps).c_str(), stdout);
  auto value = [&](int number) { return (*caps)[number].system_value; };
  EXPECT_EQ(value(KVM_CAP_USER_MEMORY), 1);     // guest memory at all
  EXPECT_EQ(value(KVM_CAP_READONLY_MEM), 1);    // read-only regions
  EXPECT_EQ(value(KVM_CAP_IMMEDIATE_EXIT), 1);  // kicking a running vCPU
  EXPECT_GE(value(KVM_CAP_MAX_VCPUS), 1);
}

// A real-mode guest at 0x1000: `mov al, 0x42; out 0x10, al; hlt`.
TEST_F(KvmSmokeTest, RunsARealModeGuest) {
  Fd vm(ioctl(kvm(), KVM_CREATE_VM, 0));
  ASSERT_GE(vm.get(), 0) << "KVM_CREATE_VM: " << std::strerror(errno);

  constexpr size_t kMemSize = 0x10000;
  void* mem = mmap(nullptr, kMemSize, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  ASSERT_NE(mem, MAP_FAILED);
  const uint8_t code[] = {0xb0, 0x42, 0xe6, 0x10, 0xf4};
  std::memcpy(static_cast<uint8_t*>(mem) + 0x1000, code, sizeof(code));

  kvm_userspace_memory_region region = {};
  region.slot = 0;
  region.guest_phys_addr = 0;
  region.memory_size = kMemSize;
  region.userspace_addr = reinterpret_cast<uint64_t>(mem);
  ASSERT_EQ(ioctl(vm.get(), KVM_SET_USER_MEMORY_REGION, &region), 0)
      << std::strerror(errno);

  Fd vcpu(ioctl(vm.get(), KVM_CREATE_VCPU, 0));
  ASSERT_GE(vcpu.get(), 0) << "KVM_CREATE_VCPU: " << std::strerror(errno);
  const int run_size = ioctl(kvm(), KVM_GET_VCPU_MMAP_SIZE, 0);
  ASSERT_GT(run_size, 0);
  auto* run = static_cast<kvm_run*>(
      mmap(nullptr, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu.get(), 0));
  ASSERT_NE(run, MAP_FAILED);

  kvm_sregs sregs;
  ASSERT_EQ(ioctl(vcpu.get(), KVM_GET_SREGS, &sregs), 0);
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  ASSERT_EQ(ioctl(vcpu.get(), KVM_SET_SREGS, &sregs), 0);
  kvm_regs regs = {};
  regs.rip = 0x1000;
  regs.rflags = 0x2;
  ASSERT_EQ(ioctl(vcpu.get(), KVM_SET_REGS, &regs), 0);

  ASSERT_EQ(ioctl(vcpu.get(), KVM_RUN, 0), 0) << std::strerror(errno);
  ASSERT_EQ(run->exit_reason, KVM_EXIT_IO);
  EXPECT_EQ(run->io.direction, KVM_EXIT_IO_OUT);
  EXPECT_EQ(run->io.port, 0x10);
  EXPECT_EQ(run->io.size, 1);
  EXPECT_EQ(run->io.count, 1u);
  EXPECT_EQ(reinterpret_cast<uint8_t*>(run)[run->io.data_offset], 0x42);

  ASSERT_EQ(ioctl(vcpu.get(), KVM_RUN, 0), 0) << std::strerror(errno);
  EXPECT_EQ(run->exit_reason, KVM_EXIT_HLT);

  munmap(run, run_size);
  munmap(mem, kMemSize);
}

}  // namespace
}  // namespace hv_vmtest
