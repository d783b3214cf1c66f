// End to end on the real KVM backend: a guest reads, through the shared
// memory BAR's guest-physical address, the bytes of a memfd the host mapped
// with the device's SharedMemoryMapper, in both prepare modes; after a remap
// it reads the new file; after an unmap it reads zeros (prepared arena) or
// takes an MMIO exit (dynamic: the region is gone).
//
// The guest is virtio/testdata/read_shm.S, run in real mode (emulated by
// KVM on nested PVM hosts, so it is kept to four instructions). Needs
// /dev/kvm: the test fails when it is missing, unless HV_ALLOW_MISSING_KVM=1
// (never set in CI) asks it to skip.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/vcpu_exit.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "testing/status_matchers.h"
#include "virtio/bar_allocator.h"
#include "virtio/virtio_device.h"
#include "virtio/virtio_pci_device.h"
#include "virtio/vm_memory_service.h"

extern "C" const uint8_t hv_virtio_read_shm_start[];
extern "C" const uint8_t hv_virtio_read_shm_end[];

namespace hv::virtio {
namespace {

constexpr GuestAddress kCodeAddress = 0x1000;
constexpr uint64_t kRamSize = 0x10000;
// Real mode reaches the BAR through a ds base below 4 GiB.
constexpr GuestAddress kBarWindow = 0xc0000000;
constexpr uint64_t kShmLength = 1 << 20;
constexpr uint64_t kOffset = 0x3000;
constexpr uint16_t kReportPort = 0x10;

class ShmDevice : public VirtioDevice {
 public:
  explicit ShmDevice(PrepareType prepare) : prepare_(prepare) {}
  uint16_t DeviceType() const override { return 16; }
  std::optional<SharedMemoryInfo> SharedMemoryRegion() const override {
    return SharedMemoryInfo{0, kShmLength};
  }
  PrepareType SharedMemoryPrepareType() const override { return prepare_; }
  void SetSharedMemoryMapper(
      std::unique_ptr<SharedMemoryMapper> mapper) override {
    mapper_ = std::move(mapper);
  }
  SharedMemoryMapper& mapper() { return *mapper_; }

 private:
  const PrepareType prepare_;
  std::unique_ptr<SharedMemoryMapper> mapper_;
};

// What one run of the guest showed.
struct GuestRead {
  std::optional<uint32_t> reported;      // the dword written to kReportPort
  std::optional<uint64_t> mmio_address;  // an MMIO exit on the way, if any
};

// A memfd of one page starting with `bytes`.
UniqueFd Blob(const std::vector<uint8_t>& bytes) {
  absl::StatusOr<UniqueFd> fd = CreateMemfd("shm-blob", HostPageSize());
  EXPECT_THAT(fd, ::hv::testing::IsOk());
  EXPECT_EQ(::pwrite(fd->get(), bytes.data(), bytes.size(), 0),
            static_cast<ssize_t>(bytes.size()));
  return *std::move(fd);
}

class SharedMemoryKvmTest : public ::testing::TestWithParam<PrepareType> {
 protected:
  void SetUp() override {
    if (::access("/dev/kvm", R_OK | W_OK) != 0) {
      const char* allow = std::getenv("HV_ALLOW_MISSING_KVM");
      if (allow != nullptr && std::string(allow) == "1") {
        GTEST_SKIP() << "/dev/kvm is not usable and HV_ALLOW_MISSING_KVM=1";
      }
      FAIL() << "/dev/kvm is not usable (" << std::strerror(errno)
             << "); this test needs real KVM. Set HV_ALLOW_MISSING_KVM=1 "
                "to skip it outside CI.";
    }
    ASSERT_OK_AND_ASSIGN(hypervisor_, CreateHypervisor("kvm"));
    ASSERT_OK_AND_ASSIGN(vm_, hypervisor_->CreateVm());
    VmX86_64* vm86 = vm_->AsX86_64();
    ASSERT_NE(vm86, nullptr) << "the kvm backend made a non-x86_64 VM";

    ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemoryRegion> ram,
                         MemoryRegion::CreateShared("ram", kRamSize));
    const size_t code_size = hv_virtio_read_shm_end - hv_virtio_read_shm_start;
    ASSERT_LE(kCodeAddress + code_size, kRamSize);
    std::memcpy(ram->data() + kCodeAddress, hv_virtio_read_shm_start,
                code_size);
    ASSERT_OK(vm_->AddMemoryRegion(0, std::move(ram), {}).status());

    ASSERT_OK_AND_ASSIGN(service_, VmMemoryService::Create(vm_.get()));
    ASSERT_OK_AND_ASSIGN(bars_, BarAllocator::Create(kBarWindow, 1 << 28));
    device_ = std::make_unique<ShmDevice>(GetParam());
    ASSERT_OK_AND_ASSIGN(pci_, VirtioPciDevice::Create(
                                   device_.get(), bars_.get(), service_.get()));
    bar_ = pci_->shared_memory_address();
    ASSERT_OK_AND_ASSIGN(vcpu_, vm86->CreateVcpuX86_64(0));
  }

  // Runs the guest from the start, reading the dword at BAR + `offset`.
  absl::StatusOr<GuestRead> ReadThroughGuest(uint64_t offset) {
    absl::StatusOr<Sregs> sregs = vcpu_->GetSregs();
    if (!sregs.ok()) return sregs.status();
    Segment code;
    code.limit = 0xffff;
    code.type = 0xb;  // execute/read, accessed
    code.present = true;
    code.s = true;
    sregs->cs = code;
    Segment data = code;
    data.type = 0x3;  // read/write, accessed
    sregs->es = sregs->fs = sregs->gs = sregs->ss = data;
    // ds keeps selector 0 but its cached base is the BAR: real-mode code
    // addresses the BAR's 64 KiB window at ds:bx.
    data.base = bar_;
    sregs->ds = data;
    sregs->cr0 = 0x10;  // ET only: real mode
    sregs->cr4 = 0;
    sregs->efer = 0;
    if (absl::Status s = vcpu_->SetSregs(*sregs); !s.ok()) return s;
    Regs regs;
    regs.rip = kCodeAddress;
    regs.rbx = offset;
    if (absl::Status s = vcpu_->SetRegs(regs); !s.ok()) return s;

    GuestRead read;
    for (int exits = 0; exits < 8; ++exits) {
      absl::StatusOr<VcpuExit> exit = vcpu_->Run();
      if (!exit.ok()) return exit.status();
      switch (exit->kind) {
        case VcpuExitKind::kHlt:
          return read;
        case VcpuExitKind::kMmio: {
          read.mmio_address = exit->mmio.address;
          // Nothing backs the address: answer reads with zeros.
          absl::Status s = vcpu_->HandleMmio([](IoRequest& io) {
            if (!io.is_write) std::fill(io.data.begin(), io.data.end(), 0);
          });
          if (!s.ok()) return s;
          break;
        }
        case VcpuExitKind::kIo: {
          absl::Status s = vcpu_->HandleIo([&](IoRequest& io) {
            if (io.is_write && io.address == kReportPort &&
                io.data.size() == 4) {
              uint32_t value;
              std::memcpy(&value, io.data.data(), 4);
              read.reported = value;
            }
          });
          if (!s.ok()) return s;
          break;
        }
        default:
          return absl::InternalError(
              absl::StrCat("unexpected exit ", VcpuExitKindName(exit->kind)));
      }
    }
    return absl::DeadlineExceededError("the guest did not halt in 8 exits");
  }

  std::unique_ptr<Hypervisor> hypervisor_;
  std::unique_ptr<Vm> vm_;
  std::unique_ptr<VmMemoryService> service_;
  std::unique_ptr<BarAllocator> bars_;
  std::unique_ptr<ShmDevice> device_;
  std::unique_ptr<VirtioPciDevice> pci_;
  std::unique_ptr<VcpuX86_64> vcpu_;
  GuestAddress bar_ = 0;
};

TEST_P(SharedMemoryKvmTest, GuestReadsMappedRemappedAndUnmappedMemory) {
  UniqueFd a = Blob({0x11, 0x22, 0x33, 0x44});
  UniqueFd b = Blob({0x55, 0x66, 0x77, 0x88});
  SharedMemoryMapper& mapper = device_->mapper();

  // Map a, then remap the same offset to b: the guest reads each file.
  struct Step {
    const UniqueFd* blob;
    Protection prot;
    uint32_t reported;
  };
  for (const Step& step : {Step{&a, Protection::ReadWrite(), 0x44332211u},
                           Step{&b, Protection::Read(), 0x88776655u}}) {
    SCOPED_TRACE(absl::StrFormat("expecting %#x", step.reported));
    ASSERT_OK(mapper.AddMapping(
        MappingSource::Fd(step.blob->get(), 0, HostPageSize()), kOffset,
        step.prot, MemCacheType::kCacheCoherent));
    ASSERT_OK_AND_ASSIGN(GuestRead read, ReadThroughGuest(kOffset));
    EXPECT_EQ(read.mmio_address, std::nullopt);
    EXPECT_EQ(read.reported, step.reported);
    ASSERT_OK(mapper.RemoveMapping(kOffset));
  }

  // Unmapped: zeros from the prepared arena; an MMIO exit when the dynamic
  // region is gone.
  ASSERT_OK_AND_ASSIGN(GuestRead third, ReadThroughGuest(kOffset));
  EXPECT_EQ(third.reported, 0u);
  if (GetParam().kind() == PrepareType::Kind::kSingleMappingOnFirst) {
    EXPECT_EQ(third.mmio_address, std::nullopt);
  } else {
    EXPECT_EQ(third.mmio_address, bar_ + kOffset);
  }
}

INSTANTIATE_TEST_SUITE_P(
    PrepareTypes, SharedMemoryKvmTest,
    ::testing::Values(
        PrepareType::SingleMappingOnFirst(MemCacheType::kCacheCoherent),
        PrepareType::DynamicPerMapping()),
    [](const ::testing::TestParamInfo<PrepareType>& info) {
      return info.param.kind() == PrepareType::Kind::kDynamicPerMapping
                 ? std::string("DynamicPerMapping")
                 : std::string("SingleMappingOnFirst");
    });

}  // namespace
}  // namespace hv::virtio
