// tools/vmtest/kvm_smoke_test_aarch64.cc: proves that a test run through the
// arm64 vmtest VM (--config=aarch64-kvm) reaches a working KVM, with raw
// ioctls and no hv code: the API version, memslots, the capabilities hv's
// aarch64 backend asks for, a vCPU initialised with PSCI 0.2, a GICv3, and a
// real guest (kvm_smoke_guest_aarch64.S) whose MMIO write and read exits and
// PSCI SYSTEM_OFF reach user space.
//
//   tools/bazel test --config=aarch64-kvm //tools/vmtest:kvm_smoke_test_aarch64
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "gtest/gtest.h"
#include "tools/vmtest/fd.h"
#include "tools/vmtest/kvm_smoke_test_util.h"

extern "C" const uint8_t hv_smoke_guest_aarch64_start[];
extern "C" const uint8_t hv_smoke_guest_aarch64_end[];

namespace hv_vmtest {
namespace {

constexpr uint64_t kRamBase = 0x40000000;
constexpr size_t kRamSize = 0x200000;
constexpr uint64_t kMmioBase = 0x10000000;
constexpr uint64_t kGicDistributor = 0x08000000;
constexpr uint64_t kGicRedistributor = 0x080a0000;

// The ONE_REG id of a core register (asm/kvm.h: struct kvm_regs in 32-bit
// words).
constexpr uint64_t CoreReg(size_t offset) {
  return KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (offset / sizeof(uint32_t));
}

class KvmSmokeTestAArch64 : public KvmSmokeTest {
 protected:
  // A vCPU of `vm` initialised with the preferred target and PSCI 0.2.
  void InitVcpu(int vm, int vcpu) {
    kvm_vcpu_init init = {};
    ASSERT_EQ(ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init), 0)
        << "KVM_ARM_PREFERRED_TARGET: " << std::strerror(errno);
    init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
    ASSERT_EQ(ioctl(vcpu, KVM_ARM_VCPU_INIT, &init), 0)
        << "KVM_ARM_VCPU_INIT: " << std::strerror(errno);
  }
};

TEST_F(KvmSmokeTestAArch64, ApiVersionAndMemslots) {
  EXPECT_EQ(ioctl(kvm(), KVM_GET_API_VERSION, 0), 12);
  const int slots = Check(KVM_CAP_NR_MEMSLOTS);
  std::printf("KVM_CAP_NR_MEMSLOTS = %d\n", slots);
  EXPECT_GT(slots, 0);
}

// Prints the whole table into the log and checks what hv's aarch64 backend
// relies on.
TEST_F(KvmSmokeTestAArch64, HasTheCapabilitiesHvNeeds) {
  ASSERT_TRUE(PrintCapabilities());
  EXPECT_EQ(Check(KVM_CAP_USER_MEMORY), 1);
  EXPECT_EQ(Check(KVM_CAP_READONLY_MEM), 1);
  EXPECT_EQ(Check(KVM_CAP_IMMEDIATE_EXIT), 1);
  EXPECT_EQ(Check(KVM_CAP_ONE_REG), 1);
  EXPECT_EQ(Check(KVM_CAP_DEVICE_CTRL), 1);
  EXPECT_EQ(Check(KVM_CAP_ARM_PSCI_0_2), 1);
  EXPECT_GE(Check(KVM_CAP_ARM_VM_IPA_SIZE), 40);
  EXPECT_GE(Check(KVM_CAP_MAX_VCPUS), 1);
}

TEST_F(KvmSmokeTestAArch64, GicV3InitialisesAfterTheVcpus) {
  Fd vm = CreateVm();
  ASSERT_GE(vm.get(), 0);
  kvm_create_device gic = {};
  gic.type = KVM_DEV_TYPE_ARM_VGIC_V3;
  ASSERT_EQ(ioctl(vm.get(), KVM_CREATE_DEVICE, &gic), 0)
      << "KVM_CREATE_DEVICE(VGIC_V3): " << std::strerror(errno);
  Fd gic_fd(static_cast<int>(gic.fd));
  for (auto [type, address] : {std::pair<uint64_t, uint64_t>{KVM_VGIC_V3_ADDR_TYPE_DIST, kGicDistributor},
                               {KVM_VGIC_V3_ADDR_TYPE_REDIST, kGicRedistributor}}) {
    kvm_device_attr attr = {};
    attr.group = KVM_DEV_ARM_VGIC_GRP_ADDR;
    attr.attr = type;
    attr.addr = reinterpret_cast<uint64_t>(&address);
    ASSERT_EQ(ioctl(gic_fd.get(), KVM_SET_DEVICE_ATTR, &attr), 0) << std::strerror(errno);
  }
  Fd vcpu0(ioctl(vm.get(), KVM_CREATE_VCPU, 0));
  Fd vcpu1(ioctl(vm.get(), KVM_CREATE_VCPU, 1));
  ASSERT_GE(vcpu0.get(), 0);
  ASSERT_GE(vcpu1.get(), 0);
  InitVcpu(vm.get(), vcpu0.get());
  InitVcpu(vm.get(), vcpu1.get());
  kvm_device_attr init = {};
  init.group = KVM_DEV_ARM_VGIC_GRP_CTRL;
  init.attr = KVM_DEV_ARM_VGIC_CTRL_INIT;
  EXPECT_EQ(ioctl(gic_fd.get(), KVM_SET_DEVICE_ATTR, &init), 0)
      << "VGIC CTRL_INIT: " << std::strerror(errno);
}

TEST_F(KvmSmokeTestAArch64, RunsAGuestToMmioExitsAndSystemOff) {
  Fd vm = CreateVm();
  ASSERT_GE(vm.get(), 0);
  Mapping ram_mapping = AddRam(vm.get(), kRamBase, kRamSize);
  ASSERT_FALSE(HasFailure());
  auto* ram = ram_mapping.as<uint8_t>();
  std::memcpy(ram, hv_smoke_guest_aarch64_start,
              hv_smoke_guest_aarch64_end - hv_smoke_guest_aarch64_start);

  Fd vcpu(ioctl(vm.get(), KVM_CREATE_VCPU, 0));
  ASSERT_GE(vcpu.get(), 0) << "KVM_CREATE_VCPU: " << std::strerror(errno);
  InitVcpu(vm.get(), vcpu.get());
  uint64_t pc = kRamBase;
  kvm_one_reg reg = {CoreReg(offsetof(kvm_regs, regs.pc)), reinterpret_cast<uint64_t>(&pc)};
  ASSERT_EQ(ioctl(vcpu.get(), KVM_SET_ONE_REG, &reg), 0) << std::strerror(errno);
  uint64_t pstate = 0;
  reg = {CoreReg(offsetof(kvm_regs, regs.pstate)), reinterpret_cast<uint64_t>(&pstate)};
  ASSERT_EQ(ioctl(vcpu.get(), KVM_GET_ONE_REG, &reg), 0) << std::strerror(errno);
  EXPECT_EQ(pstate, 0x3c5u);  // reset state: EL1h, D, A, I, F masked

  Mapping run_page = MapRun(vcpu.get());
  ASSERT_TRUE(run_page.ok());
  auto* run = run_page.as<kvm_run>();

  ASSERT_EQ(ioctl(vcpu.get(), KVM_RUN, 0), 0) << std::strerror(errno);
  ASSERT_EQ(run->exit_reason, KVM_EXIT_MMIO);
  EXPECT_EQ(run->mmio.phys_addr, kMmioBase);
  EXPECT_EQ(run->mmio.len, 4u);
  EXPECT_EQ(run->mmio.is_write, 1);
  uint32_t value = 0;
  std::memcpy(&value, run->mmio.data, 4);
  EXPECT_EQ(value, 0xdeadbeefu);

  ASSERT_EQ(ioctl(vcpu.get(), KVM_RUN, 0), 0) << std::strerror(errno);
  ASSERT_EQ(run->exit_reason, KVM_EXIT_MMIO);
  EXPECT_EQ(run->mmio.phys_addr, kMmioBase + 8);
  EXPECT_EQ(run->mmio.is_write, 0);
  value = 0x1234;
  std::memcpy(run->mmio.data, &value, 4);

  ASSERT_EQ(ioctl(vcpu.get(), KVM_RUN, 0), 0) << std::strerror(errno);
  ASSERT_EQ(run->exit_reason, KVM_EXIT_MMIO);
  EXPECT_EQ(run->mmio.phys_addr, kMmioBase + 4);
  std::memcpy(&value, run->mmio.data, 4);
  EXPECT_EQ(value, 0x1235u);

  ASSERT_EQ(ioctl(vcpu.get(), KVM_RUN, 0), 0) << std::strerror(errno);
  ASSERT_EQ(run->exit_reason, KVM_EXIT_SYSTEM_EVENT);
  EXPECT_EQ(run->system_event.type, KVM_SYSTEM_EVENT_SHUTDOWN);
  std::memcpy(&value, ram + 0x800, 4);
  EXPECT_EQ(value, 0x1235u) << "the guest's store to RAM";
}

}  // namespace
}  // namespace hv_vmtest
