// The fake of /dev/gunyah asked directly, the way a buggy backend would: each
// malformed request gets the errno the Gunyah kernel driver returns, and
// changes nothing in the fake's model.
#include "testing/fakes/gunyah_fake.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/gunyah/gunyah_abi.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/mmap_region.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

namespace abi = gunyah_abi;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// The errno of a failed call (0 when it succeeded).
int ErrnoOf(int result) { return result < 0 ? errno : 0; }

class GunyahFakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    device_ = fake_.Open("/dev/gunyah", O_RDWR | O_CLOEXEC);
    ASSERT_GE(device_, 0);
    vm_ = fake_.Ioctl(device_, abi::kCreateVm, 0);
    ASSERT_GE(vm_, 0);
    auto ram = MmapRegion::Anonymous(kRamSize, PROT_READ | PROT_WRITE);
    ASSERT_OK(ram.status());
    ram_ = std::make_unique<MmapRegion>(std::move(ram).value());
  }
  void TearDown() override {
    if (vm_ >= 0) fake_.Close(vm_);
    fake_.Close(device_);
    EXPECT_EQ(fake_.open_fds(), 0u);
    EXPECT_EQ(fake_.mappings(), 0u);
  }
  abi::UserspaceMemoryRegion Region(uint32_t label, uint64_t gpa) {
    abi::UserspaceMemoryRegion region = {};
    region.label = label;
    region.flags = abi::kMemAllowAll;
    region.guest_phys_addr = gpa;
    region.memory_size = kRamSize;
    region.userspace_addr = reinterpret_cast<uintptr_t>(ram_->data());
    return region;
  }
  int AddFunction(uint32_t type, const void* arg, uint32_t size,
                  unsigned long request = abi::kVmAddFunction) {
    abi::FnDesc desc = {};
    desc.type = type;
    desc.arg_size = size;
    desc.arg = reinterpret_cast<uintptr_t>(arg);
    return fake_.IoctlPtr(vm_, request, &desc);
  }

  static constexpr uint64_t kRamSize = 0x10000;
  GunyahFake fake_;
  int device_ = -1;
  int vm_ = -1;
  std::unique_ptr<MmapRegion> ram_;
};

TEST_F(GunyahFakeTest, DeviceIoctls) {
  EXPECT_EQ(ErrnoOf(fake_.Ioctl(device_, abi::kCreateVm, 1)), EINVAL);
  EXPECT_EQ(ErrnoOf(fake_.Ioctl(device_, abi::kVmStart, 0)), ENOTTY);
  EXPECT_EQ(ErrnoOf(fake_.Ioctl(12345, abi::kCreateVm, 0)), EBADF);
  EXPECT_EQ(ErrnoOf(fake_.Open("/dev/kvm", O_RDWR)), ENOENT);
  EXPECT_EQ(ErrnoOf(fake_.Close(12345)), EBADF);
}

TEST_F(GunyahFakeTest, MemoryRegionsAreCheckedLikeTheKernel) {
  abi::UserspaceMemoryRegion bad = Region(0, 0x100000);
  bad.flags = 1u << 3;  // the earlier revision's GH_MEM_LENT: reserved here
  EXPECT_EQ(ErrnoOf(fake_.IoctlPtr(vm_, abi::kVmSetUserMemRegion, &bad)), EINVAL);
  bad = Region(0, 0x100000);
  bad.memory_size = 0;  // no delete in this revision
  EXPECT_EQ(ErrnoOf(fake_.IoctlPtr(vm_, abi::kVmSetUserMemRegion, &bad)), EINVAL);
  bad = Region(0, 0x100800);
  EXPECT_EQ(ErrnoOf(fake_.IoctlPtr(vm_, abi::kVmSetUserMemRegion, &bad)), EINVAL);
  bad = Region(0, 0x100000);
  bad.userspace_addr += 8;
  EXPECT_EQ(ErrnoOf(fake_.IoctlPtr(vm_, abi::kVmSetUserMemRegion, &bad)), EINVAL);
  bad = Region(0, ~uint64_t{0} & ~uint64_t{0xfff});
  EXPECT_EQ(ErrnoOf(fake_.IoctlPtr(vm_, abi::kVmSetUserMemRegion, &bad)), EOVERFLOW);
  EXPECT_EQ(ErrnoOf(fake_.Ioctl(vm_, abi::kVmSetUserMemRegion, 0)), EFAULT);
  EXPECT_THAT(fake_.LatestVm()->regions, IsEmpty());
  abi::UserspaceMemoryRegion good = Region(7, 0x100000);
  ASSERT_EQ(fake_.IoctlPtr(vm_, abi::kVmSetUserMemRegion, &good), 0);
  abi::UserspaceMemoryRegion same_label = Region(7, 0x200000);
  EXPECT_EQ(ErrnoOf(fake_.IoctlPtr(vm_, abi::kVmSetUserMemRegion, &same_label)),
            EEXIST);
  abi::UserspaceMemoryRegion overlap = Region(8, 0x108000);
  EXPECT_EQ(ErrnoOf(fake_.IoctlPtr(vm_, abi::kVmSetUserMemRegion, &overlap)),
            EEXIST);
  EXPECT_THAT(fake_.LatestVm()->regions, SizeIs(1));
}

TEST_F(GunyahFakeTest, FunctionsAreCheckedLikeTheKernel) {
  abi::FnVcpuArg vcpu = {0};
  uint8_t big[abi::kFnMaxArgSize + 1] = {};  // room for the sizes tried
  EXPECT_EQ(ErrnoOf(AddFunction(abi::kFnVcpu, big, 8)), EINVAL);
  EXPECT_EQ(ErrnoOf(AddFunction(abi::kFnVcpu, big, abi::kFnMaxArgSize + 1)),
            EINVAL);
  EXPECT_EQ(ErrnoOf(AddFunction(abi::kFnVcpu, nullptr, 4)), EFAULT);
  EXPECT_EQ(ErrnoOf(AddFunction(99, &vcpu, sizeof(vcpu))), ENOENT);
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  abi::FnIrqfdArg irqfd = {};
  irqfd.fd = static_cast<uint32_t>(event.fd());
  irqfd.label = 3;
  irqfd.flags = 2;  // only GH_IRQFD_LEVEL is defined
  EXPECT_EQ(ErrnoOf(AddFunction(abi::kFnIrqfd, &irqfd, sizeof(irqfd))), EINVAL);
  irqfd.flags = 0;
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  irqfd.fd = static_cast<uint32_t>(pipe_fds[0]);  // not an eventfd
  EXPECT_EQ(ErrnoOf(AddFunction(abi::kFnIrqfd, &irqfd, sizeof(irqfd))), EINVAL);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  irqfd.fd = 999999;  // not open
  EXPECT_EQ(ErrnoOf(AddFunction(abi::kFnIrqfd, &irqfd, sizeof(irqfd))), EBADF);
  abi::FnIoeventfdArg io = {};
  io.addr = 0xd0000000;
  io.fd = event.fd();
  io.len = 3;
  EXPECT_EQ(ErrnoOf(AddFunction(abi::kFnIoeventfd, &io, sizeof(io))), EINVAL);
  io.len = 0;
  io.flags = abi::kIoeventfdDatamatch;  // no datamatch without a length
  EXPECT_EQ(ErrnoOf(AddFunction(abi::kFnIoeventfd, &io, sizeof(io))), EINVAL);
  io.len = 4;
  io.flags = 2;  // what crosvm passes for DATAMATCH: a reserved bit
  EXPECT_EQ(ErrnoOf(AddFunction(abi::kFnIoeventfd, &io, sizeof(io))), EINVAL);
  io.flags = 0;
  ASSERT_EQ(AddFunction(abi::kFnIoeventfd, &io, sizeof(io)), 0);
  // Without DATAMATCH the handler matches any length at the address.
  io.len = 8;
  EXPECT_EQ(ErrnoOf(AddFunction(abi::kFnIoeventfd, &io, sizeof(io))), EEXIST);
  auto state = fake_.LatestVm();
  EXPECT_THAT(state->vcpus, IsEmpty());
  EXPECT_THAT(state->irqfd_labels, IsEmpty());
  EXPECT_THAT(state->ioeventfds, SizeIs(1));
  EXPECT_EQ(ErrnoOf(AddFunction(abi::kFnVcpu, &vcpu, sizeof(vcpu),
                                abi::kVmRemoveFunction)),
            ENOENT);
  EXPECT_EQ(AddFunction(abi::kFnIoeventfd, &io, sizeof(io),
                        abi::kVmRemoveFunction),
            0);
  EXPECT_EQ(ErrnoOf(fake_.Ioctl(vm_, abi::kVcpuRun, 0)), ENOTTY);
}

TEST_F(GunyahFakeTest, VcpusBeforeAndAfterTheStart) {
  abi::FnVcpuArg arg = {2};
  const int vcpu = AddFunction(abi::kFnVcpu, &arg, sizeof(arg));
  ASSERT_GE(vcpu, 0);
  EXPECT_EQ(ErrnoOf(AddFunction(abi::kFnVcpu, &arg, sizeof(arg))), EEXIST);
  const int size = fake_.Ioctl(vcpu, abi::kVcpuMmapSize, 0);
  EXPECT_EQ(size, static_cast<int>(HostPageSize()));
  EXPECT_EQ(ErrnoOf(fake_.Ioctl(vcpu, abi::kVmStart, 0)), EINVAL);
  EXPECT_EQ(fake_.Mmap(nullptr, size, PROT_READ, MAP_SHARED, vm_, 0), MAP_FAILED);
  EXPECT_EQ(errno, ENODEV);
  EXPECT_EQ(fake_.Mmap(nullptr, size, PROT_READ, MAP_SHARED, vcpu, size),
            MAP_FAILED);
  EXPECT_EQ(errno, EINVAL);
  void* run = fake_.Mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED,
                         vcpu, 0);
  ASSERT_NE(run, MAP_FAILED);
  // No resource before GH_VM_START.
  EXPECT_EQ(ErrnoOf(fake_.Ioctl(vcpu, abi::kVcpuRun, 0)), ENODEV);
  // The boot context is for a VM that has not started.
  abi::VmBootContext context = {};
  context.reg = abi::BootContextReg(abi::kBootContextSetPc, 1);
  EXPECT_EQ(ErrnoOf(fake_.IoctlPtr(vm_, abi::kVmSetBootContext, &context)), EINVAL);
  context.reg = abi::BootContextReg(abi::kBootContextSetPc, 0);
  EXPECT_EQ(fake_.IoctlPtr(vm_, abi::kVmSetBootContext, &context), 0);
  // A devicetree inside guest memory, then the start.
  abi::UserspaceMemoryRegion ram = Region(0, 0x80000000);
  ASSERT_EQ(fake_.IoctlPtr(vm_, abi::kVmSetUserMemRegion, &ram), 0);
  abi::VmDtbConfig dtb = {0x80000000, 0x1000};
  ASSERT_EQ(fake_.IoctlPtr(vm_, abi::kVmSetDtbConfig, &dtb), 0);
  ASSERT_EQ(fake_.Ioctl(vm_, abi::kVmStart, 0), 0);
  EXPECT_EQ(fake_.Ioctl(vm_, abi::kVmStart, 0), 0);  // already running
  EXPECT_EQ(ErrnoOf(fake_.IoctlPtr(vm_, abi::kVmSetBootContext, &context)), EINVAL);
  // Memory added now is pinned but never reaches the guest.
  auto late = MmapRegion::Anonymous(kRamSize, PROT_READ | PROT_WRITE);
  ASSERT_OK(late.status());
  abi::UserspaceMemoryRegion after = Region(1, 0x90000000);
  after.userspace_addr = reinterpret_cast<uintptr_t>(late->data());
  ASSERT_EQ(fake_.IoctlPtr(vm_, abi::kVmSetUserMemRegion, &after), 0);
  EXPECT_THAT(fake_.GuestRead(0x90000000, 1),
              StatusIs(absl::StatusCode::kNotFound));
  // immediate_exit makes the run EINTR; the kernel leaves the flag set.
  // SAFETY: `run` is the fake's run page as the backend would map it.
  auto* page = static_cast<abi::VcpuRun*>(run);
  page->immediate_exit = 1;
  EXPECT_EQ(ErrnoOf(fake_.Ioctl(vcpu, abi::kVcpuRun, 0)), EINTR);
  EXPECT_EQ(page->immediate_exit, 1);
  page->immediate_exit = 0;
  fake_.QueueMmio(2, 0x9000000, true, {0x11, 0x22});
  ASSERT_EQ(fake_.Ioctl(vcpu, abi::kVcpuRun, 0), 0);
  EXPECT_EQ(page->exit_reason, abi::kVcpuExitMmio);
  EXPECT_EQ(page->mmio.phys_addr, 0x9000000u);
  EXPECT_EQ(page->mmio.len, 2u);
  EXPECT_EQ(page->mmio.is_write, 1);
  EXPECT_EQ(page->mmio.data[1], 0x22);
  EXPECT_EQ(ErrnoOf(fake_.Ioctl(vcpu, 0x4799, 0)), EINVAL);
  // Removing the vCPU function leaves its fd with nothing to run.
  ASSERT_EQ(AddFunction(abi::kFnVcpu, &arg, sizeof(arg), abi::kVmRemoveFunction),
            0);
  EXPECT_EQ(ErrnoOf(fake_.Ioctl(vcpu, abi::kVcpuRun, 0)), ENODEV);
  EXPECT_EQ(fake_.Munmap(run, size), 0);
  EXPECT_EQ(ErrnoOf(fake_.Munmap(run, size)), EINVAL);
  EXPECT_EQ(fake_.Close(vcpu), 0);
}

}  // namespace
}  // namespace hv::testing
