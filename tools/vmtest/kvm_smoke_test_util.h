// What the KVM smoke tests (kvm_smoke_test.cc, kvm_smoke_test_aarch64.cc)
// share: /dev/kvm opened for each test, and the raw ioctls that make a VM,
// give it RAM and map a vCPU's kvm_run. Raw ioctls, no hv code: the smoke
// tests prove the VM's KVM, not hv. A failed call is a test failure naming
// it, and the result is then invalid for the caller to ASSERT on.
#ifndef HV_TOOLS_VMTEST_KVM_SMOKE_TEST_UTIL_H_
#define HV_TOOLS_VMTEST_KVM_SMOKE_TEST_UTIL_H_

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <utility>

#include "gtest/gtest.h"
#include "tools/vmtest/fd.h"
#include "tools/vmtest/kvm_caps.h"

namespace hv_vmtest {

// Mapping: an mmap, unmapped when it goes.
class Mapping {
 public:
  Mapping(void* address, size_t size) : address_(address), size_(size) {}
  Mapping(Mapping&& other) noexcept
      : address_(std::exchange(other.address_, MAP_FAILED)), size_(other.size_) {}
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (ok()) munmap(address_, size_);
  }
  bool ok() const { return address_ != MAP_FAILED; }
  template <typename T>
  T* as() const {
    return static_cast<T*>(address_);
  }

 private:
  void* address_;
  size_t size_;
};

class KvmSmokeTest : public testing::Test {
 protected:
  void SetUp() override {
    kvm_ = Fd(open("/dev/kvm", O_RDWR | O_CLOEXEC));
    ASSERT_GE(kvm(), 0) << "open /dev/kvm: " << std::strerror(errno);
  }
  int kvm() const { return kvm_.get(); }
  // KVM_CHECK_EXTENSION of `cap` on /dev/kvm.
  int Check(int cap) const { return ioctl(kvm(), KVM_CHECK_EXTENSION, cap); }

  // PrintCapabilities(): every capability into the test's log, to compare
  // with another KVM's; false (and a failure) when they cannot be asked.
  bool PrintCapabilities() const {
    auto caps = QueryKvmCaps("/dev/kvm");
    EXPECT_TRUE(caps.ok()) << caps.status();
    if (!caps.ok()) return false;
    std::fputs(FormatKvmCaps(*caps).c_str(), stdout);
    return true;
  }

  // CreateVm(): KVM_CREATE_VM.
  Fd CreateVm() const {
    Fd vm(ioctl(kvm(), KVM_CREATE_VM, 0));
    EXPECT_GE(vm.get(), 0) << "KVM_CREATE_VM: " << std::strerror(errno);
    return vm;
  }

  // AddRam(): slot 0 of `vm`: `size` bytes of fresh anonymous memory at
  // `guest_address`.
  static Mapping AddRam(int vm, uint64_t guest_address, size_t size) {
    Mapping ram(mmap(nullptr, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
                size);
    EXPECT_TRUE(ram.ok()) << "mmap: " << std::strerror(errno);
    if (!ram.ok()) return ram;
    kvm_userspace_memory_region region = {};
    region.guest_phys_addr = guest_address;
    region.memory_size = size;
    region.userspace_addr = reinterpret_cast<uint64_t>(ram.as<void>());
    EXPECT_EQ(ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region), 0)
        << "KVM_SET_USER_MEMORY_REGION: " << std::strerror(errno);
    return ram;
  }

  // MapRun(): the kvm_run page of `vcpu`.
  Mapping MapRun(int vcpu) const {
    const int size = ioctl(kvm(), KVM_GET_VCPU_MMAP_SIZE, 0);
    EXPECT_GT(size, 0) << "KVM_GET_VCPU_MMAP_SIZE: " << std::strerror(errno);
    if (size <= 0) return Mapping(MAP_FAILED, 0);
    Mapping run(mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0),
                size);
    EXPECT_TRUE(run.ok()) << "mmap kvm_run: " << std::strerror(errno);
    return run;
  }

 private:
  Fd kvm_;
};

}  // namespace hv_vmtest

#endif  // HV_TOOLS_VMTEST_KVM_SMOKE_TEST_UTIL_H_
