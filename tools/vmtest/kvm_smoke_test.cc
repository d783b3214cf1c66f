// tools/vmtest/kvm_smoke_test.cc: proves that a test run through the vmtest
// runner (--config=x86-svm-kvm) reaches a working, standard KVM: the API
// version, the memslot count, the capabilities hv relies on, and one real
// guest that exits to userspace with an OUT and then a HLT.
//
//   tools/bazel test --config=x86-svm-kvm //tools/vmtest:kvm_smoke_test
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "gtest/gtest.h"
#include "tools/vmtest/fd.h"
#include "tools/vmtest/kvm_smoke_test_util.h"

namespace hv_vmtest {
namespace {

TEST_F(KvmSmokeTest, ApiVersionIs12) {
  EXPECT_EQ(ioctl(kvm(), KVM_GET_API_VERSION, 0), KVM_API_VERSION);
  EXPECT_EQ(KVM_API_VERSION, 12);
}

TEST_F(KvmSmokeTest, HasMemslots) {
  const int slots = Check(KVM_CAP_NR_MEMSLOTS);
  std::printf("KVM_CAP_NR_MEMSLOTS = %d\n", slots);
  EXPECT_GT(slots, 0);
}

// Prints the whole table into the log (compare it with another KVM's) and
// checks the capabilities hv's API depends on.
TEST_F(KvmSmokeTest, HasTheCapabilitiesHvNeeds) {
  ASSERT_TRUE(PrintCapabilities());
  EXPECT_EQ(Check(KVM_CAP_USER_MEMORY), 1);     // guest memory at all
  EXPECT_EQ(Check(KVM_CAP_READONLY_MEM), 1);    // read-only regions
  EXPECT_EQ(Check(KVM_CAP_IMMEDIATE_EXIT), 1);  // kicking a running vCPU
  EXPECT_GE(Check(KVM_CAP_MAX_VCPUS), 1);
}

// A real-mode guest at 0x1000: `mov al, 0x42; out 0x10, al; hlt`.
TEST_F(KvmSmokeTest, RunsARealModeGuest) {
  Fd vm = CreateVm();
  ASSERT_GE(vm.get(), 0);
  constexpr size_t kMemSize = 0x10000;
  Mapping ram = AddRam(vm.get(), 0, kMemSize);
  ASSERT_FALSE(HasFailure());
  const uint8_t code[] = {0xb0, 0x42, 0xe6, 0x10, 0xf4};
  std::memcpy(ram.as<uint8_t>() + 0x1000, code, sizeof(code));

  Fd vcpu(ioctl(vm.get(), KVM_CREATE_VCPU, 0));
  ASSERT_GE(vcpu.get(), 0) << "KVM_CREATE_VCPU: " << std::strerror(errno);
  Mapping run_page = MapRun(vcpu.get());
  ASSERT_TRUE(run_page.ok());
  auto* run = run_page.as<kvm_run>();

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
}

}  // namespace
}  // namespace hv_vmtest
