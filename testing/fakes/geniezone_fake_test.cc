// GeniezoneFake on its own: the driver's answers to malformed requests, made
// through the seam exactly as a backend would make them.
#include "testing/fakes/geniezone_fake.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/geniezone/geniezone_abi.h"
#include "hypervisor/os/eventfd.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

namespace abi = ::hv::geniezone_abi;

// errno of a call that must fail.
template <typename F>
int ErrorOf(F call) {
  errno = 0;
  const long result = static_cast<long>(call());
  return result < 0 ? errno : 0;
}

class GeniezoneFakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_ = GeniezoneFake::Create();
    dev_ = fake_->Open("/dev/gzvm", O_RDWR | O_CLOEXEC);
    ASSERT_GE(dev_, 0);
    vm_ = fake_->Ioctl(dev_, abi::kCreateVm, 0);
    ASSERT_GE(vm_, 0);
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    memory_ = ::mmap(nullptr, 4 * page_, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(memory_, MAP_FAILED);
  }
  void TearDown() override {
    ::munmap(memory_, 4 * page_);
    fake_->Close(vm_);
    fake_->Close(dev_);
    EXPECT_EQ(fake_->OpenFdCount(), 0u);
  }

  abi::UserspaceMemoryRegion Region(uint32_t slot, uint64_t gpa) const {
    abi::UserspaceMemoryRegion r = {};
    r.slot = slot;
    r.flags = abi::kUserMemRegionGuestMem;
    r.guest_phys_addr = gpa;
    r.memory_size = 2 * page_;
    r.userspace_addr = reinterpret_cast<uintptr_t>(memory_);
    return r;
  }

  std::shared_ptr<GeniezoneFake> fake_;
  int dev_ = -1;
  int vm_ = -1;
  size_t page_ = 0;
  void* memory_ = nullptr;
};

TEST_F(GeniezoneFakeTest, OpenWantsTheDeviceReadWrite) {
  EXPECT_EQ(ErrorOf([&] { return fake_->Open("/dev/kvm", O_RDWR); }), ENOENT);
  EXPECT_EQ(ErrorOf([&] { return fake_->Open("/dev/gzvm", O_RDONLY); }), EACCES);
}

TEST_F(GeniezoneFakeTest, UnknownRequestsAndDescriptors) {
  EXPECT_EQ(ErrorOf([&] { return fake_->Ioctl(dev_, abi::kRun, 0); }), ENOTTY);
  // GZVM_SET_MEMORY_REGION is in the uapi but no driver handles it.
  EXPECT_EQ(ErrorOf([&] { return fake_->Ioctl(vm_, abi::kSetMemoryRegion, 0); }),
            ENOTTY);
  // A size that differs from the struct's is another request number.
  const unsigned long wrong_size = abi::Iow(0x46, 24);
  EXPECT_EQ(ErrorOf([&] { return fake_->Ioctl(vm_, wrong_size, 0); }), ENOTTY);
  EXPECT_EQ(ErrorOf([&] { return fake_->Ioctl(12345, abi::kCreateVm, 0); }), EBADF);
  EXPECT_EQ(ErrorOf([&] { return fake_->Close(12345); }), EBADF);
  EXPECT_EQ(ErrorOf([&] { return fake_->Ioctl(dev_, abi::kCreateVm, 1); }), EINVAL);
  void* run = fake_->Mmap(nullptr, page_, PROT_READ, MAP_SHARED, vm_, 0);
  EXPECT_EQ(run, MAP_FAILED);
  EXPECT_EQ(errno, ENODEV);
}

TEST_F(GeniezoneFakeTest, CheckExtensionReadsAndWritesTheCapWord) {
  EXPECT_EQ(ErrorOf([&] { return fake_->Ioctl(dev_, abi::kCheckExtension, 0); }),
            EINVAL);
  EXPECT_EQ(ErrorOf([&] { return fake_->Ioctl(dev_, abi::kCheckExtension, 8); }),
            EFAULT);
  uint64_t cap = 0x1234;
  EXPECT_EQ(ErrorOf([&] { return fake_->IoctlPtr(dev_, abi::kCheckExtension, &cap); }),
            EOPNOTSUPP);
  cap = abi::kCapVmGpaSize;
  ASSERT_EQ(fake_->IoctlPtr(vm_, abi::kCheckExtension, &cap), 0);
  EXPECT_EQ(cap, 40u);
}

TEST_F(GeniezoneFakeTest, MemoryRegionRules) {
  auto set = [&](abi::UserspaceMemoryRegion r) {
    return ErrorOf([&] { return fake_->IoctlPtr(vm_, abi::kSetUserMemoryRegion, &r); });
  };
  EXPECT_EQ(ErrorOf([&] { return fake_->Ioctl(vm_, abi::kSetUserMemoryRegion, 0); }),
            EFAULT);
  abi::UserspaceMemoryRegion r = Region(10, 0x80000000);
  EXPECT_EQ(set(r), ENXIO);
  r = Region(0, 0x80000000);
  r.flags = 1u << 7;
  EXPECT_EQ(set(r), EINVAL);
  r = Region(0, 0x80000000);
  r.memory_size = 0;  // no delete
  EXPECT_EQ(set(r), EINVAL);
  r = Region(0, 0x80000001);
  EXPECT_EQ(set(r), EINVAL);
  // Half of the host range is not mapped.
  ASSERT_EQ(::munmap(static_cast<uint8_t*>(memory_) + 2 * page_, 2 * page_), 0);
  r = Region(0, 0x80000000);
  r.memory_size = 4 * page_;
  EXPECT_EQ(set(r), EFAULT);
  EXPECT_EQ(set(Region(0, 0x80000000)), 0);
  EXPECT_EQ(set(Region(0, 0x90000000)), EEXIST);  // slot in use
  EXPECT_EQ(set(Region(1, 0x80001000)), EEXIST);  // overlap
  EXPECT_EQ(set(Region(1, 0x80002000)), 0);
  EXPECT_EQ(fake_->Slots().size(), 2u);
}

TEST_F(GeniezoneFakeTest, IrqfdAndIoeventfdRules) {
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  abi::Irqfd irqfd = {};
  irqfd.fd = static_cast<uint32_t>(event.fd());
  irqfd.gsi = 3;
  irqfd.pad[15] = 1;
  EXPECT_EQ(ErrorOf([&] { return fake_->IoctlPtr(vm_, abi::kIrqfd, &irqfd); }), EINVAL);
  irqfd.pad[15] = 0;
  irqfd.flags = 1u << 5;
  EXPECT_EQ(ErrorOf([&] { return fake_->IoctlPtr(vm_, abi::kIrqfd, &irqfd); }), EINVAL);
  irqfd.flags = 0;
  irqfd.fd = 9999;
  EXPECT_EQ(ErrorOf([&] { return fake_->IoctlPtr(vm_, abi::kIrqfd, &irqfd); }), EBADF);
  const int not_eventfd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  irqfd.fd = static_cast<uint32_t>(not_eventfd);
  EXPECT_EQ(ErrorOf([&] { return fake_->IoctlPtr(vm_, abi::kIrqfd, &irqfd); }), EINVAL);
  irqfd.fd = static_cast<uint32_t>(event.fd());
  EXPECT_EQ(fake_->IoctlPtr(vm_, abi::kIrqfd, &irqfd), 0);
  EXPECT_EQ(ErrorOf([&] { return fake_->IoctlPtr(vm_, abi::kIrqfd, &irqfd); }), EBUSY);
  // A deassign of nothing is not an error in the driver.
  irqfd.flags = abi::kIrqfdFlagDeassign;
  irqfd.gsi = 4;
  EXPECT_EQ(fake_->IoctlPtr(vm_, abi::kIrqfd, &irqfd), 0);
  EXPECT_EQ(fake_->IrqfdCount(), 1u);

  abi::Ioeventfd io = {};
  io.addr = 0x9000000;
  io.len = 4;
  io.fd = event.fd();
  io.flags = abi::kIoeventfdFlagPio;  // the driver has no port I/O bus
  EXPECT_EQ(ErrorOf([&] { return fake_->IoctlPtr(vm_, abi::kIoeventfd, &io); }), EINVAL);
  io.flags = abi::kIoeventfdFlagDatamatch;
  io.len = 0;
  EXPECT_EQ(ErrorOf([&] { return fake_->IoctlPtr(vm_, abi::kIoeventfd, &io); }), EINVAL);
  io.len = 4;
  io.pad[0] = 1;
  EXPECT_EQ(ErrorOf([&] { return fake_->IoctlPtr(vm_, abi::kIoeventfd, &io); }), EINVAL);
  io.pad[0] = 0;
  io.fd = not_eventfd;
  EXPECT_EQ(ErrorOf([&] { return fake_->IoctlPtr(vm_, abi::kIoeventfd, &io); }), EINVAL);
  io.fd = event.fd();
  io.flags = abi::kIoeventfdFlagDeassign;
  EXPECT_EQ(ErrorOf([&] { return fake_->IoctlPtr(vm_, abi::kIoeventfd, &io); }), ENOENT);
  ::close(not_eventfd);
}

TEST_F(GeniezoneFakeTest, VcpuRunAndRegisterRules) {
  EXPECT_EQ(ErrorOf([&] { return fake_->Ioctl(vm_, abi::kCreateVcpu, 8); }), EINVAL);
  const int vcpu = fake_->Ioctl(vm_, abi::kCreateVcpu, 0);
  ASSERT_GE(vcpu, 0);
  EXPECT_EQ(ErrorOf([&] { return fake_->Ioctl(vm_, abi::kCreateVcpu, 0); }), EEXIST);
  EXPECT_EQ(ErrorOf([&] { return fake_->Ioctl(vcpu, abi::kCreateVcpu, 1); }), ENOTTY);
  EXPECT_EQ(ErrorOf([&] { return fake_->Ioctl(vcpu, abi::kRun, 0); }), EFAULT);
  abi::VcpuRun run = {};
  run.padding1[1] = 1;
  EXPECT_EQ(ErrorOf([&] { return fake_->IoctlPtr(vcpu, abi::kRun, &run); }), EINVAL);
  run.padding1[1] = 0;
  run.immediate_exit = 1;
  EXPECT_EQ(ErrorOf([&] { return fake_->IoctlPtr(vcpu, abi::kRun, &run); }), EINTR);
  run.immediate_exit = 0;
  fake_->QueueMmio(0, 0x9000000, true, {7});
  ASSERT_EQ(fake_->IoctlPtr(vcpu, abi::kRun, &run), 0);
  EXPECT_EQ(run.exit_reason, abi::kExitMmio);
  EXPECT_EQ(run.mmio.phys_addr, 0x9000000u);
  EXPECT_EQ(run.mmio.size, 1u);
  EXPECT_EQ(run.mmio.data[0], 7);

  uint64_t value = 5;
  abi::OneReg reg = {abi::CoreRegId(abi::kRegSizeU128, offsetof(abi::Regs, vregs)),
                     reinterpret_cast<uintptr_t>(&value)};
  EXPECT_EQ(ErrorOf([&] { return fake_->IoctlPtr(vcpu, abi::kSetOneReg, &reg); }),
            EINVAL);  // more than 64 bits
  reg.id = abi::CoreRegId(abi::kRegSizeU64, offsetof(abi::Regs, pc));
  reg.addr = 0;
  EXPECT_EQ(ErrorOf([&] { return fake_->IoctlPtr(vcpu, abi::kSetOneReg, &reg); }),
            EFAULT);
  reg.addr = reinterpret_cast<uintptr_t>(&value);
  EXPECT_EQ(fake_->IoctlPtr(vcpu, abi::kSetOneReg, &reg), 0);
  EXPECT_EQ(ErrorOf([&] { return fake_->IoctlPtr(vcpu, abi::kGetOneReg, &reg); }),
            EOPNOTSUPP);
  reg.id = abi::CoreRegId(abi::kRegSizeU32, offsetof(abi::Regs, pc));
  EXPECT_EQ(ErrorOf([&] { return fake_->IoctlPtr(vcpu, abi::kSetOneReg, &reg); }),
            ENOENT);  // pc is 64-bit
  reg.id = 0x5030000000100000;  // not arm64
  EXPECT_EQ(ErrorOf([&] { return fake_->IoctlPtr(vcpu, abi::kSetOneReg, &reg); }),
            EINVAL);
  fake_->Close(vcpu);
}

TEST_F(GeniezoneFakeTest, InjectedFaultsChangeNothing) {
  const uint64_t before = fake_->call_count();
  fake_->FailCall(before, EPERM);
  abi::UserspaceMemoryRegion r = Region(0, 0x80000000);
  EXPECT_EQ(ErrorOf([&] { return fake_->IoctlPtr(vm_, abi::kSetUserMemoryRegion, &r); }),
            EPERM);
  EXPECT_TRUE(fake_->Slots().empty());
  EXPECT_EQ(fake_->IoctlPtr(vm_, abi::kSetUserMemoryRegion, &r), 0);
  EXPECT_EQ(fake_->call_count(), before + 2);
  const std::vector<GeniezoneFake::Call> calls = fake_->calls();
  EXPECT_EQ(calls[calls.size() - 2].error, EPERM);
  EXPECT_EQ(calls.back().As<abi::UserspaceMemoryRegion>().slot, 0u);
}

}  // namespace
}  // namespace hv::testing
