// The Example block of each header in the hypervisor package (hypervisor/,
// hypervisor/aarch64/, hypervisor/x86_64/), pasted as it stands there under
// a line naming the header (tools/examples_check.sh), so an example that no
// longer matches the API stops the build. Examples that need a backend's
// vCPU are compiled, not run; the rest run on a FakeVm, a scripted vCPU or
// stand-ins for the backend code they show.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <algorithm>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/aarch64/regs.h"
#include "hypervisor/aarch64/vcpu_aarch64.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/backend_registration.h"
#include "hypervisor/backend_overrides.h"
#include "hypervisor/backend_vcpu.h"
#include "hypervisor/backend_vm.h"
#include "hypervisor/caps.h"
#include "hypervisor/fd_mapping.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/kicked_vcpu.h"
#include "hypervisor/memory.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/memory_slot_table.h"
#include "hypervisor/os/ioctl_seam.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/registry.h"
#include "hypervisor/user_irqchip_vm.h"
#include "hypervisor/vcpu.h"
#include "hypervisor/vcpu_exit.h"
#include "hypervisor/vm.h"
#include "hypervisor/vm_checks.h"
#include "hypervisor/x86_64/arch_bits.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"
#include "hypervisor/x86_64/state_fields.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "testing/fakes/fake_vm.h"
#include "testing/status_matchers.h"

#if defined(__x86_64__)
#include "hypervisor/x86_64/boot.h"
#endif

namespace hv::examples {
namespace {

using ::hv::testing::FakeVm;
using ::hv::testing::IsOk;
using ::hv::testing::IsOkAndHolds;
using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

// A vCPU that plays back queued exits; a kIo exit's access is one byte.
class ScriptedVcpu : public hv::Vcpu {
 public:
  void QueueIo(uint16_t port, bool is_write, uint8_t byte) {
    VcpuExit exit;
    exit.kind = VcpuExitKind::kIo;
    exit.io = {port, 1, is_write, 1};
    exits_.push_back({exit, byte});
  }
  void QueueHlt() {
    VcpuExit exit;
    exit.kind = VcpuExitKind::kHlt;
    exits_.push_back({exit, 0});
  }
  // The bytes the handlers gave the guest's reads.
  const std::vector<uint8_t>& reads() const { return reads_; }

  uint32_t id() const override { return 0; }
  absl::StatusOr<VcpuExit> Run() override {
    if (exits_.empty()) return absl::OutOfRangeError("no exit queued");
    last_ = exits_.front();
    exits_.pop_front();
    return last_.exit;
  }
  absl::Status HandleIo(absl::FunctionRef<void(IoRequest&)> handler) override {
    if (last_.exit.kind != VcpuExitKind::kIo) {
      return absl::FailedPreconditionError("last exit was not kIo");
    }
    IoRequest io{last_.exit.io.port, last_.exit.io.is_write,
                 absl::MakeSpan(&last_.byte, 1)};
    handler(io);
    if (!io.is_write) reads_.push_back(last_.byte);
    last_.exit.kind = VcpuExitKind::kUnknown;
    return absl::OkStatus();
  }
  absl::Status HandleMmio(absl::FunctionRef<void(IoRequest&)>) override {
    return absl::FailedPreconditionError("last exit was not kMmio");
  }
  void SetImmediateExit(bool) override {}
  absl::Status Kick() override { return absl::OkStatus(); }

 private:
  struct Queued {
    VcpuExit exit;
    uint8_t byte = 0;
  };
  std::deque<Queued> exits_;
  Queued last_;
  std::vector<uint8_t> reads_;
};

// hypervisor/aarch64/regs.h
// Compiled, not run: it needs an aarch64 vCPU.
absl::Status RegsExample(hv::VcpuAArch64* vcpu, uint64_t dtb_address) {
  ASSIGN_OR_RETURN(uint64_t pc, vcpu->GetOneReg(hv::AArch64Reg::Pc()));
  RETURN_IF_ERROR(vcpu->SetOneReg(hv::AArch64Reg::X(0), dtb_address));
  ASSIGN_OR_RETURN(uint64_t sctlr,
                   vcpu->GetOneReg(hv::AArch64Reg::Sys(3, 0, 1, 0, 0)));
  (void)pc;
  (void)sctlr;
  return absl::OkStatus();
}

// hypervisor/aarch64/vcpu_aarch64.h
// Compiled, not run: it needs an aarch64 vCPU.
absl::Status VcpuAArch64Example(hv::Vcpu* vcpu) {
  hv::VcpuAArch64* cpu = vcpu->AsAArch64();
  RETURN_IF_ERROR(cpu->Init({hv::VcpuFeature::kPsci0_2}));
  RETURN_IF_ERROR(cpu->SetOneReg(hv::AArch64Reg::Pc(), 0x80000000));
  RETURN_IF_ERROR(cpu->SetOneReg(hv::AArch64Reg::Pstate(), 0x3c5));  // EL1h, DAIF masked
  return absl::OkStatus();
}

// hypervisor/aarch64/vm_aarch64.h
// Compiled, not run: it needs an aarch64 VM.
absl::Status VmAArch64Example(hv::Vm* vm, uint64_t fdt_size) {
  hv::VmAArch64* arm = vm->AsAArch64();
  // RAM at 0x40000000 is added; the kernel is at 0x40200000 and its
  // devicetree at 0x4fe00000.
  RETURN_IF_ERROR(arm->InitArch(0x40200000, 0x4fe00000, fdt_size));
  RETURN_IF_ERROR(arm->CreateGic({hv::GicConfig::Version::kV3, 0x08000000,
                                  0x080a0000, 96}));
  ASSIGN_OR_RETURN(auto vcpu, arm->CreateVcpuAArch64(0));
  RETURN_IF_ERROR(vcpu->Init({hv::VcpuFeature::kPsci0_2}));
  RETURN_IF_ERROR(vcpu->SetOneReg(hv::AArch64Reg::Pc(), 0x40200000));
  RETURN_IF_ERROR(vcpu->SetOneReg(hv::AArch64Reg::X(0), 0x4fe00000));
  RETURN_IF_ERROR(arm->FinalizeGic());
  return absl::OkStatus();
}

// hypervisor/aarch64/vm_aarch64.h, VmAArch64::CreateGicIts
// Compiled, not run: it needs an aarch64 VM whose guest maps the event.
absl::StatusOr<bool> GicItsExample(hv::VmAArch64* arm) {
  RETURN_IF_ERROR(arm->CreateGic({hv::GicConfig::Version::kV3,
                                  0x08000000, 0x080a0000, 96}));
  RETURN_IF_ERROR(arm->CreateGicIts(0x08080000));
  // ... vCPUs, FinalizeGic; the guest maps device 3's event 0 ...
  hv::MsiMessage msi;
  msi.address = 0x08080000 + hv::VmAArch64::kGitsTranslaterOffset;
  msi.data = 0;       // the event id
  msi.device_id = 3;  // the requester id
  ASSIGN_OR_RETURN(bool delivered, arm->SignalMsi(msi));
  return delivered;
}

TEST(HypervisorExamples, AArch64) {
  EXPECT_NE(&RegsExample, nullptr);
  EXPECT_NE(&VcpuAArch64Example, nullptr);
  EXPECT_NE(&VmAArch64Example, nullptr);
  EXPECT_NE(&GicItsExample, nullptr);
}

// hypervisor/caps.h
bool CapsExample(hv::Vm* vm) {
  if (!vm->CheckCapability(hv::VmCap::kMemNoncoherentDma)) {
    // Keep the device's shared memory coherent.
    return false;
  }
  return true;
}

TEST(HypervisorExamples, Caps) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeVm> vm, FakeVm::Create());
  EXPECT_FALSE(CapsExample(vm.get()));
  vm->SetCapability(hv::VmCap::kMemNoncoherentDma, true);
  EXPECT_TRUE(CapsExample(vm.get()));
}

// hypervisor/memory_slot_table.h
// The bookkeeping every backend's AddMemoryRegion does (BackendVm's), with
// SetUserMemoryRegion recording its slots.
struct SlotTableExample {
  std::vector<MemSlot> set_slots;
  absl::Status SetUserMemoryRegion(MemSlot slot, GuestAddress, const MemoryRegion&) {
    set_slots.push_back(slot);
    return absl::OkStatus();
  }
  absl::StatusOr<MemSlot> Add(MemorySlotTable& table, GuestAddress gpa,
                              std::unique_ptr<MemoryRegion> region,
                              const MemoryRegionOptions& options) {
    ASSIGN_OR_RETURN(hv::MemSlot slot, table.Check(gpa, region->size()));
    RETURN_IF_ERROR(SetUserMemoryRegion(slot, gpa, *region));
    table.Insert(slot, gpa, std::move(region), options);
    return slot;
  }
};

TEST(HypervisorExamples, MemorySlotTable) {
  const uint64_t page = HostPageSize();
  MemorySlotTable table(8, uint64_t{1} << 36, page);
  SlotTableExample example;
  ASSERT_OK_AND_ASSIGN(auto region, MemoryRegion::CreateArena(page));
  EXPECT_THAT(example.Add(table, 0, std::move(region), {}), IsOkAndHolds(0u));
  EXPECT_EQ(example.set_slots, std::vector<MemSlot>{0});
}

// hypervisor/backend_vm.h
// hypervisor/user_irqchip_vm.h
// A stand-in backend VM over the host's pages alone: BackendVm does the
// bookkeeping and the argument checks, MyVm only the "hypervisor" calls.
class MyVm final : public hv::UserIrqchipVm {
 public:
  MyVm() : UserIrqchipVm("MyHypervisor", 8, uint64_t{1} << 36, HostPageSize()) {}
  bool CheckCapability(VmCap) const override { return false; }
  absl::StatusOr<std::unique_ptr<VcpuX86_64>> CreateVcpuX86_64(uint32_t) override {
    return absl::UnimplementedError("MyVm runs no vCPUs");
  }
  std::vector<MemSlot> mapped;

 protected:
  absl::Status MapSlot(hv::MemSlot slot, hv::GuestAddress guest_address,
                       hv::MemoryRegion& region,
                       const hv::MemoryRegionOptions& options) override {
    if (options.read_only) return absl::UnimplementedError("read-only: no");
    mapped.push_back(slot);
    (void)guest_address;
    (void)region;
    return absl::OkStatus();
  }
  absl::Status UnmapSlot(MemSlot slot, const MemorySlotTable::Entry&) override {
    mapped.erase(std::find(mapped.begin(), mapped.end(), slot));
    return absl::OkStatus();
  }
// hypervisor/fd_mapping.h
  absl::Status ReplacePages(MemSlot slot, MemorySlotTable::Entry& entry,
                            const HostPageChange& change) override {
    return hv::ReplaceHostPages(*sys_, slot, *entry.region, change);
  }

 private:
  hv::IoctlSeam* sys_ = hv::RealSeam<hv::IoctlSeam>();
};

TEST(HypervisorExamples, BackendVm) {
  const uint64_t page = HostPageSize();
  MyVm vm;
  EXPECT_THAT(vm.AddMemoryRegion(0, nullptr, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("region is null")));
  ASSERT_OK_AND_ASSIGN(auto arena, MemoryRegion::CreateArena(4 * page));
  MemoryRegion* arena_region = arena.get();
  ASSERT_THAT(vm.AddMemoryRegion(0, std::move(arena), {}), IsOkAndHolds(0u));
  EXPECT_EQ(vm.mapped, std::vector<MemSlot>{0});
  ASSERT_OK_AND_ASSIGN(auto second, MemoryRegion::CreateArena(page));
  MemoryRegionOptions read_only;
  read_only.read_only = true;
  EXPECT_THAT(vm.AddMemoryRegion(16 * page, std::move(second), read_only),
              StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_EQ(vm.MemoryRegions().size(), 1u);  // the refused one left nothing

  ASSERT_OK_AND_ASSIGN(UniqueFd blob, CreateMemfd("blob", page));
  ASSERT_EQ(pwrite(blob.get(), "hv", 2, 0), 2);
  ASSERT_THAT(vm.AddFdMapping(0, page, page, blob.get(), 0, Protection::ReadWrite()),
              IsOk());
  EXPECT_EQ(std::memcmp(arena_region->data() + page, "hv", 2), 0);
// hypervisor/vm_checks.h
  // FindSlot, then the backend's ReadDirtyLog hook (UNIMPLEMENTED here: MyVm
  // keeps the default).
  EXPECT_THAT(vm.GetDirtyLog(5),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("get dirty log")));
  EXPECT_THAT(vm.GetDirtyLog(0), StatusIs(absl::StatusCode::kUnimplemented));
  ASSERT_OK_AND_ASSIGN(auto removed, vm.RemoveMemoryRegion(0));
  EXPECT_TRUE(vm.mapped.empty());
}

// hypervisor/backend_overrides.h
// Declares every VcpuX86_64 state call (left undefined: never instantiated).
class MyX86Vcpu final : public hv::BackendVcpu<hv::VcpuX86_64> {
 public:
  HV_VCPU_X86_64_STATE_OVERRIDES
};
static_assert(std::is_base_of_v<hv::VcpuX86_64, MyX86Vcpu>);

// hypervisor/backend_vcpu.h
// A stand-in vCPU whose "guest" makes one MMIO exit per Run().
class MyVcpu final : public hv::BackendVcpu<hv::Vcpu> {
 public:
  MyVcpu() : BackendVcpu(0) {}
  absl::StatusOr<hv::VcpuExit> Run() override {
    SetPendingExit(hv::VcpuExitKind::kUnknown);  // nothing waits now
    hv::VcpuExit exit;
    exit.kind = hv::VcpuExitKind::kMmio;  // "enter the guest, decode its exit"
    SetPendingExit(exit.kind);  // a kIo or kMmio exit waits for Handle*
    return exit;
  }
  void SetImmediateExit(bool) override {}
  absl::Status Kick() override { return absl::OkStatus(); }
  int completed = 0;

 protected:
  absl::Status CompleteMmio(absl::FunctionRef<void(IoRequest&)>) override {
    ++completed;
    return absl::OkStatus();
  }
};

TEST(HypervisorExamples, BackendVcpu) {
  MyVcpu vcpu;
  EXPECT_THAT(vcpu.HandleMmio([](IoRequest&) {}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK(vcpu.Run().status());
  EXPECT_THAT(vcpu.HandleIo([](IoRequest&) {}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK(vcpu.HandleMmio([](IoRequest&) {}));
  EXPECT_EQ(vcpu.completed, 1);
  EXPECT_THAT(vcpu.HandleMmio([](IoRequest&) {}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

// hypervisor/kicked_vcpu.h
// A stand-in for a kernel's run ioctl: it returns EINTR when the
// immediate-exit byte is set, fails with `error` when that is not 0, and
// otherwise "runs" the guest to a HLT.
constexpr unsigned long MY_RUN = 1;
struct MyRunSys {
  uint8_t immediate_exit = 0;
  int error = 0;
  int Ioctl(int, unsigned long, uintptr_t) {
    if (immediate_exit != 0 || error != 0) {
      errno = immediate_exit != 0 ? EINTR : error;
      return -1;
    }
    return 0;
  }
};

class MyKickedVcpu final : public hv::KickedVcpu<hv::Vcpu> {
 public:
  explicit MyKickedVcpu(MyRunSys* sys)
      : KickedVcpu(0, &sys->immediate_exit), sys_(sys) {}
  absl::StatusOr<hv::VcpuExit> Run() override;

 private:
  void DecodeExit(hv::VcpuExit& exit) const override {
    exit.kind = hv::VcpuExitKind::kHlt;
  }
  absl::Status CompleteMmio(absl::FunctionRef<void(IoRequest&)>) override {
    return absl::OkStatus();
  }
  MyRunSys* const sys_;
  const int fd_ = 3;
};

  absl::StatusOr<hv::VcpuExit> MyKickedVcpu::Run() {
    SetPendingExit(hv::VcpuExitKind::kUnknown);  // nothing waits now
    return RunCall([&] { return sys_->Ioctl(fd_, MY_RUN, 0); },
                   [] { return std::string("MY_RUN"); });
  }

TEST(HypervisorExamples, KickedVcpu) {
  MyRunSys sys;
  MyKickedVcpu vcpu(&sys);
  ASSERT_OK_AND_ASSIGN(hv::VcpuExit exit, vcpu.Run());
  EXPECT_EQ(exit.kind, hv::VcpuExitKind::kHlt);
  vcpu.SetImmediateExit(true);
  ASSERT_OK_AND_ASSIGN(exit, vcpu.Run());
  EXPECT_EQ(exit.kind, hv::VcpuExitKind::kInterrupted);
  ASSERT_OK(vcpu.Kick());  // no thread inside Run(): a request only
  ASSERT_OK_AND_ASSIGN(exit, vcpu.Run());
  EXPECT_EQ(exit.kind, hv::VcpuExitKind::kInterrupted);
  sys.error = EIO;
  const absl::StatusOr<hv::VcpuExit> failed = vcpu.Run();
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(std::string(failed.status().message()),
              ::testing::StartsWith("MY_RUN: "));
}

// hypervisor/backend_registration.h
// A stand-in for the backend the example registers: its Create() says what
// it was given.
class KvmHypervisor : public Hypervisor {
 public:
  static absl::StatusOr<std::unique_ptr<KvmHypervisor>> Create(
      const std::string& device) {
    return absl::UnavailableError(absl::StrCat("stand-in KVM on ", device));
  }
};

const hv::BackendRegistration kRegisterKvm(
    "kvm", {"device"}, [](const hv::HypervisorSpec& spec) {
      return hv::examples::KvmHypervisor::Create(
          spec.Option("device", "/dev/kvm"));
    });

// hypervisor/hypervisor.h
absl::Status HypervisorExample() {
  ASSIGN_OR_RETURN(std::unique_ptr<hv::Hypervisor> hypervisor,
                   hv::CreateHypervisor("kvm[device=/dev/kvm]"));
  ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, hypervisor->CreateVm());
  return absl::OkStatus();
}

TEST(HypervisorExamples, RegistryAndHypervisor) {
  EXPECT_THAT(HypervisorExample(),
              StatusIs(absl::StatusCode::kUnavailable,
                       "stand-in KVM on /dev/kvm"));
}

// hypervisor/memory.h
absl::StatusOr<MemSlot> MemoryExample(hv::Vm* vm,
                                      std::unique_ptr<MemoryRegion> rom) {
  MemoryRegionOptions options;
  options.read_only = true;
  ASSIGN_OR_RETURN(MemSlot slot,
                   vm->AddMemoryRegion(0xfff00000, std::move(rom), options));
  return slot;
}

TEST(HypervisorExamples, Memory) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeVm> vm, FakeVm::Create());
  ASSERT_OK_AND_ASSIGN(auto rom, MemoryRegion::CreateShared("rom", 1 << 20));
  ASSERT_THAT(MemoryExample(vm.get(), std::move(rom)), IsOkAndHolds(0u));
  EXPECT_TRUE(vm->MemoryRegions()[0].options.read_only);
}

// hypervisor/memory_region.h
absl::StatusOr<MemSlot> MemoryRegionExample(hv::Vm* vm, const uint8_t* code,
                                            size_t code_size) {
  ASSIGN_OR_RETURN(auto ram, hv::MemoryRegion::CreateShared("ram", 2 << 20));
  std::memcpy(ram->data(), code, code_size);
  ASSIGN_OR_RETURN(hv::MemSlot slot, vm->AddMemoryRegion(0, std::move(ram), {}));
  return slot;
}

TEST(HypervisorExamples, MemoryRegion) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeVm> vm, FakeVm::Create());
  const uint8_t hlt = 0xf4;
  ASSERT_THAT(MemoryRegionExample(vm.get(), &hlt, 1), IsOkAndHolds(0u));
  EXPECT_THAT(vm->ReadGuest(0, 1), IsOkAndHolds(std::vector<uint8_t>{0xf4}));
}

// hypervisor/vcpu.h
absl::Status VcpuExample(hv::Vcpu* vcpu) {
  for (;;) {
    ASSIGN_OR_RETURN(hv::VcpuExit exit, vcpu->Run());
    if (exit.kind == hv::VcpuExitKind::kIo) {
      RETURN_IF_ERROR(vcpu->HandleIo([&](hv::IoRequest& io) {
        if (io.is_write && io.address == 0x3f8) putchar(io.data[0]);
      }));
    } else if (exit.kind == hv::VcpuExitKind::kHlt) {
      break;
    }
  }
  return absl::OkStatus();
}

TEST(HypervisorExamples, Vcpu) {
  ScriptedVcpu vcpu;
  vcpu.QueueIo(0x3f8, /*is_write=*/true, 'h');
  vcpu.QueueIo(0x3f8, /*is_write=*/true, '\n');
  vcpu.QueueHlt();
  EXPECT_THAT(VcpuExample(&vcpu), IsOk());
  // Nothing queued after the halt: the loop stopped there.
  EXPECT_THAT(vcpu.Run().status(), StatusIs(absl::StatusCode::kOutOfRange));
}

// hypervisor/vcpu_exit.h
absl::Status VcpuExitExample(hv::Vcpu* vcpu) {
  ASSIGN_OR_RETURN(hv::VcpuExit exit, vcpu->Run());
  switch (exit.kind) {
    case hv::VcpuExitKind::kIo:
      RETURN_IF_ERROR(vcpu->HandleIo([&](hv::IoRequest& io) { io.data[0] = 0x5a; }));
      break;
    case hv::VcpuExitKind::kHlt: return absl::OkStatus();
    default:
      return absl::UnimplementedError("unexpected exit");
  }
  return absl::OkStatus();
}

TEST(HypervisorExamples, VcpuExit) {
  ScriptedVcpu vcpu;
  vcpu.QueueIo(0x60, /*is_write=*/false, 0);
  vcpu.QueueHlt();
  EXPECT_THAT(VcpuExitExample(&vcpu), IsOk());
  EXPECT_EQ(vcpu.reads(), std::vector<uint8_t>{0x5a});
  EXPECT_THAT(VcpuExitExample(&vcpu), IsOk());
}

// hypervisor/vm.h
absl::Status VmExample(hv::Vm* vm) {
  ASSIGN_OR_RETURN(auto ram, hv::MemoryRegion::CreateShared("ram", 1 << 21));
  ASSIGN_OR_RETURN(hv::MemSlot slot, vm->AddMemoryRegion(0, std::move(ram), {}));
  ASSIGN_OR_RETURN(std::unique_ptr<hv::Vcpu> vcpu, vm->CreateVcpu(0));
  (void)slot;
  return absl::OkStatus();
}

TEST(HypervisorExamples, Vm) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeVm> vm, FakeVm::Create());
  // FakeVm runs no guest code: the region is added, the vCPU refused.
  EXPECT_THAT(VmExample(vm.get()), StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_EQ(vm->MemoryRegions().size(), 1u);
}

#if defined(__x86_64__)
// hypervisor/x86_64/boot.h
// Compiled, not run: it needs an x86_64 vCPU (boot_test.cc runs it on a
// recording one).
absl::Status BootExample(hv::VcpuX86_64* vcpu, absl::Span<uint8_t> ram_span) {
  hv::X86BootOptions boot;
  boot.mode = hv::X86Mode::kLong;
  boot.entry = 0x100000;
  boot.tables = 0x1000;                      // six pages of guest RAM
  RETURN_IF_ERROR(hv::SetupX86Boot(*vcpu, ram_span, /*ram_base=*/0, boot));
  return absl::OkStatus();
}

TEST(HypervisorExamples, Boot) { EXPECT_NE(&BootExample, nullptr); }
#endif

// hypervisor/x86_64/arch_bits.h
TEST(HypervisorExamples, ArchBits) {
  hv::Sregs sregs;
  sregs.cr0 = hv::x86::kCr0Pe | hv::x86::kCr0Et | hv::x86::kCr0Pg;
  sregs.cr4 = hv::x86::kCr4Pae;
  sregs.efer = hv::x86::kEferLme | hv::x86::kEferLma;
  uint64_t pde = 0x200000 | hv::x86::kPtePresent | hv::x86::kPteWritable |
                 hv::x86::kPdeLargePage;
// (end of the example)
  EXPECT_EQ(sregs.cr0, 0x80000011u);
  EXPECT_EQ(sregs.cr4, 0x20u);
  EXPECT_EQ(sregs.efer, 0x500u);
  EXPECT_EQ(pde, 0x200083u);
}

// hypervisor/x86_64/vcpu_x86_64.h
// Compiled, not run: it needs an x86_64 vCPU.
absl::Status VcpuX86_64Example(hv::Vcpu* vcpu) {
  hv::VcpuX86_64* cpu = vcpu->AsX86_64();
  ASSIGN_OR_RETURN(hv::Regs regs, cpu->GetRegs());
  regs.rip = 0x1000;
  RETURN_IF_ERROR(cpu->SetRegs(regs));
  return absl::OkStatus();
}

// hypervisor/x86_64/vm_x86_64.h
// Compiled, not run: it needs an x86_64 VM.
absl::Status VmX86_64Example(hv::Vm* vm) {
  hv::VmX86_64* vm86 = vm->AsX86_64();
  RETURN_IF_ERROR(vm86->CreateIrqChip(hv::IrqChipKind::kKernel));
  ASSIGN_OR_RETURN(auto vcpu, vm86->CreateVcpuX86_64(0));
  return absl::OkStatus();
}

TEST(HypervisorExamples, X86_64) {
  EXPECT_NE(&VcpuX86_64Example, nullptr);
  EXPECT_NE(&VmX86_64Example, nullptr);
}


// A hypervisor's own segment state for the state_fields.h example: the
// names Sregs uses, its own segment and table types.
struct MySegment {
  uint64_t base = 0;
  uint16_t selector = 0;
};
struct MyTable {
  uint64_t base = 0;
};
struct MySregs {
  MySegment cs, ds, es, fs, gs, ss, tr, ldt;
  MyTable gdt, idt;
  uint64_t cr0 = 0, cr2 = 0, cr3 = 0, cr4 = 0;
};
Segment SegmentFromMine(const MySegment& s) {
  Segment out;
  out.base = s.base;
  out.selector = s.selector;
  return out;
}
MySegment SegmentToMine(const Segment& s) { return {s.base, s.selector}; }
DescriptorTable TableFromMine(const MyTable& t) { return {t.base, 0}; }
MyTable TableToMine(const DescriptorTable& t) { return {t.base}; }

TEST(HypervisorExamples, StateFields) {
  MySregs mine;
  mine.tr.selector = 0x28;
  mine.idt.base = 0x1000;
  mine.cr3 = 0x9000;
  const uint64_t gprs[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
// hypervisor/x86_64/state_fields.h
  hv::Sregs sregs;
  hv::CopySregsFields(mine, sregs, SegmentFromMine, TableFromMine);  // Get
  hv::CopySregsFields(sregs, mine, SegmentToMine, TableToMine);      // Set
  hv::Regs regs;
  for (int i = 0; i < 16; ++i) regs.*hv::kGprsByNumber[i] = gprs[i];
// (end of the example)
  EXPECT_EQ(sregs.tr.selector, 0x28);
  EXPECT_EQ(sregs.idt.base, 0x1000u);
  EXPECT_EQ(sregs.cr3, 0x9000u);
  EXPECT_EQ(mine.cr3, 0x9000u);
  EXPECT_EQ(regs.rcx, 2u);  // register number 1
  EXPECT_EQ(regs.rsp, 5u);  // register number 4
  EXPECT_EQ(regs.r15, 16u);
}

}  // namespace
}  // namespace hv::examples
