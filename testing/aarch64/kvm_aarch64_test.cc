// The KVM backend on a real aarch64 /dev/kvm, running the guest image of
// guest_image.S: MMIO, PSCI system events, read-only memory, region
// removal, dirty logging, fd mappings into an arena, SPIs through the vGICv3
// (KVM_IRQ_LINE and irqfd), ONE_REG round trips checked by the guest, two
// vCPUs at once, kicks, and the error paths of the aarch64 API.
#include <linux/kvm.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "absl/numeric/int128.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/kvm/kvm_hypervisor.h"
#include "hypervisor/kvm/kvm_test_env.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/mmap_region.h"
#include "testing/aarch64/guest_fixture.h"
#include "testing/kvm_fault_injection.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using a64::Routine;

std::unique_ptr<Hypervisor> OpenKvm() {
  auto kvm = CreateHypervisor("kvm");
  EXPECT_OK(kvm.status());
  return kvm.ok() ? std::move(kvm).value() : nullptr;
}

std::unique_ptr<AArch64Guest> MakeGuest(Hypervisor& kvm,
                                        const AArch64GuestOptions& options = {}) {
  auto guest = AArch64Guest::Create(kvm, options);
  EXPECT_OK(guest.status());
  return guest.ok() ? std::move(guest).value() : nullptr;
}

#define HV_SETUP_GUEST(guest, ...)                 \
  HV_REQUIRE_KVM();                                \
  auto kvm = OpenKvm();                            \
  ASSERT_NE(kvm, nullptr);                         \
  auto guest = MakeGuest(*kvm, ##__VA_ARGS__);     \
  ASSERT_NE(guest, nullptr)

uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

void Store64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }

void Answer(IoRequest& io, uint64_t value) {
  std::memcpy(io.data.data(), &value, io.data.size());
}

TEST(KvmAArch64Mmio, WriteReadWriteBackWithData) {
  HV_SETUP_GUEST(guest);
  ASSERT_OK(guest->Start(0, Routine::kMmioRoundTrip,
                         {{0, 0x1122334455667788}, {1, HV_A64_DATA}}));
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0, [](IoRequest& io) {
    if (!io.is_write && io.address == HV_A64_DATA) Answer(io, 0xcafe0000f00d);
  }));
  EXPECT_EQ(run.end, GuestRun::End::kDone);
  ASSERT_THAT(run.mmio, SizeIs(3));
  EXPECT_EQ(run.mmio[0].address, HV_A64_DATA);
  EXPECT_TRUE(run.mmio[0].is_write);
  EXPECT_EQ(run.mmio[0].size, 8);
  EXPECT_EQ(run.mmio[0].value, 0x1122334455667788u);
  EXPECT_FALSE(run.mmio[1].is_write);
  EXPECT_EQ(run.mmio[1].value, 0xcafe0000f00du);
  EXPECT_TRUE(run.mmio[2].is_write);
  EXPECT_EQ(run.mmio[2].value, 0xcafe0000f00eu);
  // The guest's x2 holds what it read plus one, as the host reads it back.
  ASSERT_OK_AND_ASSIGN(uint64_t x2, guest->vcpu(0).GetOneReg(AArch64Reg::X(2)));
  EXPECT_EQ(x2, 0xcafe0000f00eu);
}

TEST(KvmAArch64Psci, SystemOffIsShutdownEvent) {
  HV_SETUP_GUEST(guest);
  ASSERT_OK(guest->Start(0, Routine::kPsciCall, {{0, HV_A64_PSCI_SYSTEM_OFF}}));
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0));
  ASSERT_EQ(run.end, GuestRun::End::kSystemEvent);
  EXPECT_EQ(run.last_exit.kind, VcpuExitKind::kSystemEvent);
  EXPECT_EQ(run.last_exit.raw_reason, static_cast<uint32_t>(KVM_EXIT_SYSTEM_EVENT));
  EXPECT_EQ(run.last_exit.system_event.kind, SystemEventKind::kShutdown);
  EXPECT_THAT(run.reports, ::testing::IsEmpty());
}

TEST(KvmAArch64Psci, SystemResetIsResetEvent) {
  HV_SETUP_GUEST(guest);
  ASSERT_OK(guest->Start(0, Routine::kPsciCall, {{0, HV_A64_PSCI_SYSTEM_RESET}}));
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0));
  ASSERT_EQ(run.end, GuestRun::End::kSystemEvent);
  EXPECT_EQ(run.last_exit.system_event.kind, SystemEventKind::kReset);
}

TEST(KvmAArch64Psci, UnknownFunctionReturnsNotSupported) {
  HV_SETUP_GUEST(guest);
  // A PSCI id past the ones KVM implements comes back as NOT_SUPPORTED (-1).
  ASSERT_OK(guest->Start(0, Routine::kPsciCall, {{0, 0x8400001f}}));
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0));
  EXPECT_EQ(run.end, GuestRun::End::kDone);
  EXPECT_THAT(run.reports, ElementsAre(~0ull));
}

TEST(KvmAArch64Memory, ReadOnlyRegionStoreIsMmioAndLoadReadsRom) {
  HV_SETUP_GUEST(guest);
  ASSERT_TRUE(guest->vm().CheckCapability(VmCap::kReadOnlyMemoryRegion));
  ASSERT_OK_AND_ASSIGN(auto rom, MemoryRegion::CreateShared("rom", 0x10000));
  uint8_t* rom_bytes = rom->data();
  Store64(rom_bytes + 0x100, 0x0badc0de0badc0de);
  MemoryRegionOptions options;
  options.read_only = true;
  ASSERT_OK(guest->vm().AddMemoryRegion(HV_A64_EXTRA_BASE, std::move(rom), options)
                .status());
  ASSERT_OK(guest->Start(0, Routine::kStoreLoad,
                         {{1, HV_A64_EXTRA_BASE + 0x100}, {2, 0x1111222233334444}}));
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0));
  EXPECT_EQ(run.end, GuestRun::End::kDone);
  ASSERT_THAT(run.mmio, SizeIs(1));
  EXPECT_EQ(run.mmio[0].address, HV_A64_EXTRA_BASE + 0x100);
  EXPECT_TRUE(run.mmio[0].is_write);
  EXPECT_EQ(run.mmio[0].value, 0x1111222233334444u);
  EXPECT_THAT(run.reports, ElementsAre(0x0badc0de0badc0deu));
  EXPECT_EQ(Load64(rom_bytes + 0x100), 0x0badc0de0badc0deu);
}

TEST(KvmAArch64Memory, RemovedRegionBecomesMmio) {
  HV_SETUP_GUEST(guest);
  ASSERT_OK_AND_ASSIGN(auto extra, MemoryRegion::CreateShared("extra", 0x10000));
  Store64(extra->data() + 0x40, 0x5555aaaa5555aaaa);
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       guest->vm().AddMemoryRegion(HV_A64_EXTRA_BASE, std::move(extra), {}));
  ASSERT_OK(guest->Start(0, Routine::kLoadReport, {{1, HV_A64_EXTRA_BASE + 0x40}}));
  ASSERT_OK_AND_ASSIGN(GuestRun before, guest->Run(0));
  EXPECT_THAT(before.reports, ElementsAre(0x5555aaaa5555aaaau));
  EXPECT_THAT(before.mmio, ::testing::IsEmpty());

  ASSERT_OK_AND_ASSIGN(auto region, guest->vm().RemoveMemoryRegion(slot));
  EXPECT_EQ(Load64(region->data() + 0x40), 0x5555aaaa5555aaaau);
  ASSERT_OK(guest->Start(0, Routine::kLoadReport, {{1, HV_A64_EXTRA_BASE + 0x40}}));
  ASSERT_OK_AND_ASSIGN(GuestRun after, guest->Run(0, [](IoRequest& io) {
    if (!io.is_write && io.address == HV_A64_EXTRA_BASE + 0x40) Answer(io, 0x77);
  }));
  ASSERT_THAT(after.mmio, SizeIs(1));
  EXPECT_FALSE(after.mmio[0].is_write);
  EXPECT_EQ(after.mmio[0].address, HV_A64_EXTRA_BASE + 0x40);
  EXPECT_THAT(after.reports, ElementsAre(0x77u));
}

TEST(KvmAArch64Memory, DirtyLogNamesExactlyTheWrittenPages) {
  HV_SETUP_GUEST(guest);
  const uint64_t page = HostPageSize();
  ASSERT_OK_AND_ASSIGN(auto logged, MemoryRegion::CreateShared("logged", 64 * page));
  uint8_t* bytes = logged->data();
  MemoryRegionOptions options;
  options.log_dirty_pages = true;
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       guest->vm().AddMemoryRegion(HV_A64_EXTRA_BASE, std::move(logged), options));
  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> initial, guest->vm().GetDirtyLog(slot));
  ASSERT_THAT(initial, SizeIs(1));
  EXPECT_EQ(initial[0], 0u);

  // The guest writes at 4 KiB strides; with larger host pages several
  // guest pages share a bit.
  auto expected_bits = [&](uint64_t mask) {
    uint64_t bits = 0;
    for (int i = 0; i < 64; ++i) {
      if (mask & (1ull << i)) bits |= 1ull << ((i * 4096ull) / page);
    }
    return bits;
  };
  const uint64_t first = (1 << 1) | (1 << 3) | (1 << 7) | (1ull << 40);
  ASSERT_OK(guest->Start(0, Routine::kTouchPages, {{1, HV_A64_EXTRA_BASE}, {2, first}}));
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0));
  EXPECT_EQ(run.end, GuestRun::End::kDone);
  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> log, guest->vm().GetDirtyLog(slot));
  ASSERT_THAT(log, SizeIs(1));
  EXPECT_EQ(log[0], expected_bits(first));
  EXPECT_EQ(Load64(bytes + 3 * 4096), 4u);
  EXPECT_EQ(Load64(bytes + 40 * 4096), 41u);

  const uint64_t second = (1 << 0) | (1 << 14);
  ASSERT_OK(guest->Start(0, Routine::kTouchPages, {{1, HV_A64_EXTRA_BASE}, {2, second}}));
  ASSERT_OK(guest->Run(0).status());
  ASSERT_OK_AND_ASSIGN(log, guest->vm().GetDirtyLog(slot));
  EXPECT_EQ(log[0], expected_bits(second));
}

TEST(KvmAArch64Memory, FdMappingIntoArenaAndRemoval) {
  HV_SETUP_GUEST(guest);
  const uint64_t page = HostPageSize();
  ASSERT_OK_AND_ASSIGN(auto arena, MemoryRegion::CreateArena(16 * page));
  ASSERT_OK_AND_ASSIGN(MemSlot slot,
                       guest->vm().AddMemoryRegion(HV_A64_EXTRA_BASE, std::move(arena), {}));
  ASSERT_OK_AND_ASSIGN(UniqueFd blob, CreateMemfd("blob", page));
  const uint64_t value = 0x0123456789abcdef;
  ASSERT_EQ(::pwrite(blob.get(), &value, sizeof(value), 8), 8);
  ASSERT_OK(guest->vm().AddFdMapping(slot, 2 * page, page, blob.get(), 0,
                                     Protection::Read()));
  const uint64_t address = HV_A64_EXTRA_BASE + 2 * page + 8;
  ASSERT_OK(guest->Start(0, Routine::kLoadReport, {{1, address}}));
  ASSERT_OK_AND_ASSIGN(GuestRun mapped, guest->Run(0));
  EXPECT_THAT(mapped.reports, ElementsAre(value));
  EXPECT_THAT(mapped.mmio, ::testing::IsEmpty());

  ASSERT_OK(guest->vm().RemoveMapping(slot, 2 * page, page));
  ASSERT_OK(guest->Start(0, Routine::kLoadReport, {{1, address}}));
  ASSERT_OK_AND_ASSIGN(GuestRun removed, guest->Run(0));
  EXPECT_THAT(removed.reports, ElementsAre(0u));
  EXPECT_THAT(removed.mmio, ::testing::IsEmpty());
}

AArch64GuestOptions WithGic() {
  AArch64GuestOptions options;
  options.gic = true;
  return options;
}

TEST(KvmAArch64Irq, SpiFromSetIrqLineIsAcknowledgedAndEnded) {
  HV_SETUP_GUEST(guest, WithGic());
  constexpr uint32_t kSpi = 5;
  ASSERT_OK(guest->Start(0, Routine::kGicSpi,
                         {{1, kSpi + 32}, {2, 0}, {3, HV_A64_GICD_BASE}}));
  absl::Status raise = absl::UnknownError("never signalled");
  absl::Status lower = absl::UnknownError("never acknowledged");
  size_t reports = 0;
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0, [&](IoRequest& io) {
    if (io.is_write && io.address == HV_A64_SIGNAL) {
      raise = guest->vm().SetIrqLine(kSpi, true);
    } else if (io.is_write && io.address == HV_A64_REPORT && reports++ == 0) {
      // Level-triggered: lower the line once the guest acknowledged it, so
      // the second acknowledge sees nothing pending.
      lower = guest->vm().SetIrqLine(kSpi, false);
    }
  }));
  EXPECT_OK(raise);
  EXPECT_OK(lower);
  EXPECT_EQ(run.end, GuestRun::End::kDone);
  EXPECT_THAT(run.reports, ElementsAre(kSpi + 32, 1023u));
}

TEST(KvmAArch64Irq, SpiFromIrqfdIsAcknowledgedAndEnded) {
  HV_SETUP_GUEST(guest, WithGic());
  constexpr uint32_t kSpi = 6;
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  ASSERT_OK(guest->vm().RegisterIrqfd(event, kSpi));
  ASSERT_OK(guest->Start(0, Routine::kGicSpi,
                         {{1, kSpi + 32}, {2, 1}, {3, HV_A64_GICD_BASE}}));
  absl::Status fire = absl::UnknownError("never signalled");
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0, [&](IoRequest& io) {
    if (io.is_write && io.address == HV_A64_SIGNAL) fire = event.Write(1);
  }));
  EXPECT_OK(fire);
  EXPECT_EQ(run.end, GuestRun::End::kDone);
  EXPECT_THAT(run.reports, ElementsAre(kSpi + 32, 1023u));
  EXPECT_OK(guest->vm().UnregisterIrqfd(event, kSpi));
}

TEST(KvmAArch64Irq, SpiErrors) {
  HV_REQUIRE_KVM();
  auto kvm = OpenKvm();
  ASSERT_NE(kvm, nullptr);
  auto plain = MakeGuest(*kvm);
  ASSERT_NE(plain, nullptr);
  EXPECT_THAT(plain->vm().SetIrqLine(1, true),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("GIC")));
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  EXPECT_THAT(plain->vm().RegisterIrqfd(event, 1),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  auto with_gic = MakeGuest(*kvm, WithGic());
  ASSERT_NE(with_gic, nullptr);
  // 96 interrupts: SPIs 0..63.
  EXPECT_OK(with_gic->vm().SetIrqLine(63, false));
  EXPECT_THAT(with_gic->vm().SetIrqLine(64, true),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("SPI 64")));
}

TEST(KvmAArch64Regs, OneRegRoundTripsSeenByTheGuest) {
  HV_SETUP_GUEST(guest);
  VcpuAArch64& cpu = guest->vcpu(0);
  for (uint32_t n = 0; n <= 30; ++n) {
    const uint64_t value = 0x0101010101010101ull * n + 0x1000 + n;
    ASSERT_OK(cpu.SetOneReg(AArch64Reg::X(n), value));
  }
  for (uint32_t n = 0; n <= 30; ++n) {
    ASSERT_OK_AND_ASSIGN(uint64_t value, cpu.GetOneReg(AArch64Reg::X(n)));
    EXPECT_EQ(value, 0x0101010101010101ull * n + 0x1000 + n) << "x" << n;
  }
  ASSERT_OK(cpu.SetOneReg(AArch64Reg::Pc(), HV_A64_CODE + 0x40));
  ASSERT_OK_AND_ASSIGN(uint64_t pc, cpu.GetOneReg(AArch64Reg::Pc()));
  EXPECT_EQ(pc, HV_A64_CODE + 0x40u);
  ASSERT_OK(cpu.SetOneReg(AArch64Reg::Pstate(), 0x3c5));
  ASSERT_OK_AND_ASSIGN(uint64_t pstate, cpu.GetOneReg(AArch64Reg::Pstate()));
  EXPECT_EQ(pstate, 0x3c5u);
  ASSERT_OK(cpu.SetOneReg(AArch64Reg::SpEl1(), HV_A64_RAM_BASE + 0x8000));
  ASSERT_OK_AND_ASSIGN(uint64_t sp_el1, cpu.GetOneReg(AArch64Reg::SpEl1()));
  EXPECT_EQ(sp_el1, HV_A64_RAM_BASE + 0x8000u);

  const uint64_t tpidr = 0xfeedfacecafebeef;
  const absl::uint128 v0 = absl::MakeUint128(0x0f0e0d0c0b0a0908, 0x0706050403020100);
  const uint64_t fpcr = 0x03c00000;  // DN, FZ, RMode = toward zero
  const uint64_t fpsr = 0x08000011;  // QC, IXC, IOC
  ASSERT_OK(cpu.SetOneReg(aarch64_sys::kTpidrEl1, tpidr));
  ASSERT_OK(cpu.SetVectorReg(0, v0));
  ASSERT_OK(cpu.SetOneReg(AArch64Reg::Fpcr(), fpcr));
  ASSERT_OK(cpu.SetOneReg(AArch64Reg::Fpsr(), fpsr));
  ASSERT_OK_AND_ASSIGN(uint64_t tpidr_back, cpu.GetOneReg(aarch64_sys::kTpidrEl1));
  EXPECT_EQ(tpidr_back, tpidr);
  ASSERT_OK_AND_ASSIGN(absl::uint128 v0_back, cpu.GetVectorReg(0));
  EXPECT_EQ(v0_back, v0);
  ASSERT_OK_AND_ASSIGN(uint64_t fpcr_back, cpu.GetOneReg(AArch64Reg::Fpcr()));
  EXPECT_EQ(fpcr_back, fpcr);
  ASSERT_OK_AND_ASSIGN(uint64_t fpsr_back, cpu.GetOneReg(AArch64Reg::Fpsr()));
  EXPECT_EQ(fpsr_back, fpsr);

  // The guest sees what the host set, and the host sees what it computed.
  const uint64_t x6 = 0x00000000a5a5a5a5;
  ASSERT_OK(guest->Start(0, Routine::kRegisters, {{6, x6}}));
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0));
  EXPECT_EQ(run.end, GuestRun::End::kDone);
  EXPECT_THAT(run.reports,
              ElementsAre(tpidr, absl::Uint128Low64(v0), absl::Uint128High64(v0),
                          fpcr, fpsr));
  ASSERT_OK_AND_ASSIGN(uint64_t x7, cpu.GetOneReg(AArch64Reg::X(7)));
  EXPECT_EQ(x7, 2 * x6);
  ASSERT_OK_AND_ASSIGN(absl::uint128 v1, cpu.GetVectorReg(1));
  EXPECT_EQ(v1, absl::MakeUint128(~x6, x6));
}

TEST(KvmAArch64Regs, VectorRegistersWithSveAreZSlices) {
  HV_REQUIRE_KVM();
  auto kvm = OpenKvm();
  ASSERT_NE(kvm, nullptr);
  {
    ASSERT_OK_AND_ASSIGN(auto vm, kvm->CreateVm());
    ASSERT_OK_AND_ASSIGN(auto probe, vm->AsAArch64()->CreateVcpuAArch64(0));
    if (!probe->SupportsFeature(VcpuFeature::kSve)) {
      EXPECT_THAT(probe->Init({VcpuFeature::kSve}),
                  StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("sve")));
      GTEST_SKIP() << "this KVM offers no SVE";
    }
  }
  AArch64GuestOptions options;
  options.features = {VcpuFeature::kPsci0_2, VcpuFeature::kSve};
  auto guest = MakeGuest(*kvm, options);
  ASSERT_NE(guest, nullptr);
  VcpuAArch64& cpu = guest->vcpu(0);
  const absl::uint128 v0 = absl::MakeUint128(0x8899aabbccddeeff, 0x0011223344556677);
  ASSERT_OK(cpu.SetVectorReg(0, v0));
  ASSERT_OK_AND_ASSIGN(absl::uint128 back, cpu.GetVectorReg(0));
  EXPECT_EQ(back, v0);
  const uint64_t x6 = 0x5a5a5a5a;
  ASSERT_OK(guest->Start(0, Routine::kRegisters, {{6, x6}}));
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0));
  ASSERT_THAT(run.reports, SizeIs(5));
  EXPECT_EQ(run.reports[1], absl::Uint128Low64(v0));
  EXPECT_EQ(run.reports[2], absl::Uint128High64(v0));
  ASSERT_OK_AND_ASSIGN(absl::uint128 v1, cpu.GetVectorReg(1));
  EXPECT_EQ(v1, absl::MakeUint128(~x6, x6));
}

TEST(KvmAArch64Errors, PointerAuthComesAsAPair) {
  HV_REQUIRE_KVM();
  auto kvm = OpenKvm();
  ASSERT_NE(kvm, nullptr);
  ASSERT_OK_AND_ASSIGN(auto vm, kvm->CreateVm());
  ASSERT_OK_AND_ASSIGN(auto vcpu, vm->AsAArch64()->CreateVcpuAArch64(0));
  if (!vcpu->SupportsFeature(VcpuFeature::kPtrAuthAddress) ||
      !vcpu->SupportsFeature(VcpuFeature::kPtrAuthGeneric)) {
    GTEST_SKIP() << "this KVM offers no pointer authentication";
  }
  EXPECT_THAT(vcpu->Init({VcpuFeature::kPtrAuthAddress}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("together")));
  EXPECT_THAT(vcpu->Run(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_OK(vcpu->Init({VcpuFeature::kPtrAuthAddress, VcpuFeature::kPtrAuthGeneric}));
}

TEST(KvmAArch64Regs, VirtualTimerRegistersByArchitecturalEncoding) {
  HV_SETUP_GUEST(guest);
  VcpuAArch64& cpu = guest->vcpu(0);
  // KVM's uapi swaps the ids of CNTV_CVAL_EL0 and CNTVCT_EL0; hv's ids are
  // the architectural encodings, which the guest's MRS confirms.
  const uint64_t cval = 0x0000001234567890;
  ASSERT_OK(cpu.SetOneReg(aarch64_sys::kCntvCvalEl0, cval));
  ASSERT_OK_AND_ASSIGN(uint64_t cval_back, cpu.GetOneReg(aarch64_sys::kCntvCvalEl0));
  EXPECT_EQ(cval_back, cval);
  ASSERT_OK_AND_ASSIGN(uint64_t count_before, cpu.GetOneReg(aarch64_sys::kCntvctEl0));
  ASSERT_OK(guest->Start(0, Routine::kTimerRegs, {}));
  ASSERT_OK_AND_ASSIGN(GuestRun run, guest->Run(0));
  ASSERT_THAT(run.reports, SizeIs(2));
  EXPECT_EQ(run.reports[0], cval);
  EXPECT_GE(run.reports[1], count_before);
  ASSERT_OK_AND_ASSIGN(uint64_t count_after, cpu.GetOneReg(aarch64_sys::kCntvctEl0));
  EXPECT_GE(count_after, run.reports[1]);
  // GetSystemRegs names them the same way.
  ASSERT_OK_AND_ASSIGN(auto sysregs, cpu.GetSystemRegs());
  bool found = false;
  for (const auto& [reg, value] : sysregs) {
    if (reg == aarch64_sys::kCntvCvalEl0) {
      found = true;
      EXPECT_EQ(value, cval);
    }
  }
  EXPECT_TRUE(found);
}

TEST(KvmAArch64Regs, MpidrPsciVersionAndSystemRegs) {
  AArch64GuestOptions options;
  options.vcpus = 2;
  HV_SETUP_GUEST(guest, options);
  ASSERT_OK_AND_ASSIGN(uint64_t mpidr0, guest->vcpu(0).GetMpidr());
  ASSERT_OK_AND_ASSIGN(uint64_t mpidr1, guest->vcpu(1).GetMpidr());
  EXPECT_EQ(mpidr0 & 0xff00ffffffull, 0u);
  EXPECT_EQ(mpidr1 & 0xff00ffffffull, 1u);
  EXPECT_NE(mpidr0 & (1ull << 31), 0u);  // RES1

  ASSERT_OK_AND_ASSIGN(PsciVersion psci, guest->vcpu(0).GetPsciVersion());
  EXPECT_TRUE(psci.major >= 1 || (psci.major == 0 && psci.minor >= 2))
      << psci.major << "." << psci.minor;

  ASSERT_OK_AND_ASSIGN(auto sysregs, guest->vcpu(1).GetSystemRegs());
  EXPECT_GT(sysregs.size(), 20u);
  bool found = false;
  for (const auto& [reg, value] : sysregs) {
    if (reg == aarch64_sys::kMpidrEl1) {
      found = true;
      EXPECT_EQ(value, mpidr1);
    }
  }
  EXPECT_TRUE(found) << "MPIDR_EL1 not among " << sysregs.size() << " registers";
}

TEST(KvmAArch64Regs, PsciVersionWithoutPsci02IsZeroPointOne) {
  AArch64GuestOptions options;
  options.features = {};
  HV_SETUP_GUEST(guest, options);
  ASSERT_OK_AND_ASSIGN(PsciVersion psci, guest->vcpu(0).GetPsciVersion());
  EXPECT_EQ(psci.major, 0);
  EXPECT_EQ(psci.minor, 1);
}

TEST(KvmAArch64Vcpu, TwoVcpusRunConcurrently) {
  AArch64GuestOptions options;
  options.vcpus = 2;
  HV_SETUP_GUEST(guest, options);
  std::memset(guest->ram() + (HV_A64_SCRATCH - HV_A64_RAM_BASE), 0, 16);
  ASSERT_OK(guest->Start(0, Routine::kWaitForPeer,
                         {{1, HV_A64_SCRATCH}, {2, HV_A64_SCRATCH + 8}}));
  ASSERT_OK(guest->Start(1, Routine::kWaitForPeer,
                         {{1, HV_A64_SCRATCH + 8}, {2, HV_A64_SCRATCH}}));
  absl::StatusOr<GuestRun> runs[2] = {absl::UnknownError("not run"),
                                      absl::UnknownError("not run")};
  std::thread second([&] { runs[1] = guest->Run(1); });
  runs[0] = guest->Run(0);
  second.join();
  for (uint32_t i = 0; i < 2; ++i) {
    ASSERT_OK(runs[i].status()) << "vCPU " << i;
    EXPECT_EQ(runs[i]->end, GuestRun::End::kDone);
    ASSERT_OK_AND_ASSIGN(uint64_t mpidr, guest->vcpu(i).GetMpidr());
    EXPECT_THAT(runs[i]->reports, ElementsAre(mpidr)) << "vCPU " << i;
  }
  EXPECT_NE(runs[0]->reports, runs[1]->reports);
}

TEST(KvmAArch64Vcpu, KickAndImmediateExitInterrupt) {
  HV_SETUP_GUEST(guest);
  VcpuAArch64& cpu = guest->vcpu(0);
  ASSERT_OK(guest->Start(0, Routine::kSpin, {}));
  cpu.SetImmediateExit(true);
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, cpu.Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kInterrupted);
  ASSERT_OK_AND_ASSIGN(uint64_t pc, cpu.GetOneReg(AArch64Reg::Pc()));
  EXPECT_EQ(pc, HV_A64_CODE + a64::Offset(Routine::kSpin));

  // A kick from another thread ends a run spinning in the guest.
  std::atomic<bool> stop{false};
  std::thread kicker([&] {
    while (!stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      EXPECT_OK(cpu.Kick());
    }
  });
  ASSERT_OK_AND_ASSIGN(exit, cpu.Run());
  stop = true;
  kicker.join();
  EXPECT_EQ(exit.kind, VcpuExitKind::kInterrupted);
  // It ran: the PC moved past the prologue into the spin loop.
  ASSERT_OK_AND_ASSIGN(pc, cpu.GetOneReg(AArch64Reg::Pc()));
  EXPECT_GT(pc, HV_A64_CODE + a64::Offset(Routine::kSpin));

  // A kick with no run in progress interrupts the next one.
  ASSERT_OK(cpu.Kick());
  ASSERT_OK_AND_ASSIGN(exit, cpu.Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kInterrupted);
}

TEST(KvmAArch64Errors, BadRegisterIsInvalidArgumentNamingIt) {
  HV_SETUP_GUEST(guest);
  VcpuAArch64& cpu = guest->vcpu(0);
  EXPECT_THAT(cpu.GetOneReg(AArch64Reg{AArch64Reg::Kind::kCore, 99}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("core(99)")));
  EXPECT_THAT(cpu.SetOneReg(AArch64Reg::Sys(1, 0, 7, 5, 0), 0),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("sys(1,0,7,5,0)")));
  EXPECT_THAT(cpu.GetOneReg(AArch64Reg{AArch64Reg::Kind::kFpSimd, 3}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fpsimd(3)")));
  EXPECT_THAT(cpu.SetOneReg(AArch64Reg::Fpsr(), 1ull << 40),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fpsr")));
  EXPECT_THAT(cpu.GetVectorReg(32),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("v32")));
  // A well-formed encoding KVM does not expose: NOT_FOUND from the kernel.
  EXPECT_THAT(cpu.GetOneReg(AArch64Reg::Sys(3, 7, 15, 15, 7)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("KVM_GET_ONE_REG")));
}

TEST(KvmAArch64Errors, RunAndRegistersBeforeInitAreFailedPrecondition) {
  HV_REQUIRE_KVM();
  auto kvm = OpenKvm();
  ASSERT_NE(kvm, nullptr);
  ASSERT_OK_AND_ASSIGN(auto vm, kvm->CreateVm());
  ASSERT_NE(vm->AsAArch64(), nullptr);
  ASSERT_OK_AND_ASSIGN(auto vcpu, vm->AsAArch64()->CreateVcpuAArch64(0));
  EXPECT_THAT(vcpu->Run(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("Init")));
  EXPECT_THAT(vcpu->GetOneReg(AArch64Reg::Pc()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(vcpu->GetSystemRegs(), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK(vcpu->Init({VcpuFeature::kPsci0_2}));
  EXPECT_OK(vcpu->GetOneReg(AArch64Reg::Pc()).status());
  // A reset keeps the features; asking for others is refused.
  EXPECT_OK(vcpu->Init({VcpuFeature::kPsci0_2}));
  EXPECT_THAT(vcpu->Init({}), StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(KvmAArch64Errors, GicOrderAndVersion) {
  HV_REQUIRE_KVM();
  auto kvm = OpenKvm();
  ASSERT_NE(kvm, nullptr);
  GicConfig v3;
  v3.distributor_base = HV_A64_GICD_BASE;
  v3.redistributor_or_cpu_base = HV_A64_GICR_BASE;
  {
    ASSERT_OK_AND_ASSIGN(auto vm, kvm->CreateVm());
    VmAArch64* arm = vm->AsAArch64();
    ASSERT_TRUE(arm->SupportsGic(GicConfig::Version::kV3));
    EXPECT_THAT(arm->FinalizeGic(), StatusIs(absl::StatusCode::kFailedPrecondition));
    ASSERT_OK_AND_ASSIGN(auto vcpu, arm->CreateVcpuAArch64(0));
    EXPECT_THAT(arm->CreateGic(v3),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("vCPU")));
  }
  {
    ASSERT_OK_AND_ASSIGN(auto vm, kvm->CreateVm());
    VmAArch64* arm = vm->AsAArch64();
    GicConfig bad = v3;
    bad.num_irqs = 100;
    EXPECT_THAT(arm->CreateGic(bad), StatusIs(absl::StatusCode::kInvalidArgument));
    bad = v3;
    bad.distributor_base = HV_A64_GICD_BASE + 0x1000;
    EXPECT_THAT(arm->CreateGic(bad), StatusIs(absl::StatusCode::kInvalidArgument));
    ASSERT_OK(arm->CreateGic(v3));
    EXPECT_THAT(arm->CreateGic(v3),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("already")));
  }
  // A version this KVM lacks: v2 on a GICv3 host without the v2 CPU
  // interface, where there is one.
  for (GicConfig::Version version : {GicConfig::Version::kV2, GicConfig::Version::kV3}) {
    ASSERT_OK_AND_ASSIGN(auto vm, kvm->CreateVm());
    VmAArch64* arm = vm->AsAArch64();
    if (arm->SupportsGic(version)) continue;
    GicConfig config = v3;
    config.version = version;
    EXPECT_THAT(arm->CreateGic(config), StatusIs(absl::StatusCode::kUnimplemented));
  }
}

TEST(KvmAArch64Errors, UnsupportedGicVersionLeavesVmUnchanged) {
  HV_REQUIRE_KVM();
  FaultInjectingKvmSys sys;
  ASSERT_OK_AND_ASSIGN(auto kvm, KvmHypervisor::Create("/dev/kvm", &sys));
  ASSERT_OK_AND_ASSIGN(auto vm, kvm->CreateVm());
  VmAArch64* arm = vm->AsAArch64();
  GicConfig v3;
  v3.distributor_base = HV_A64_GICD_BASE;
  v3.redistributor_or_cpu_base = HV_A64_GICR_BASE;
  // The kernel's answer for a device type it does not build in: ENODEV.
  sys.FailIoctl(KVM_CREATE_DEVICE, ENODEV);
  EXPECT_THAT(arm->CreateGic(v3),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("vGICv3")));
  // Nothing was recorded: the real GIC can still be created.
  EXPECT_OK(arm->CreateGic(v3));
}

TEST(KvmAArch64Errors, FailedIoctlsNameThemselvesAndChangeNothing) {
  HV_REQUIRE_KVM();
  FaultInjectingKvmSys sys;
  ASSERT_OK_AND_ASSIGN(auto kvm, KvmHypervisor::Create("/dev/kvm", &sys));
  ASSERT_OK_AND_ASSIGN(auto vm, kvm->CreateVm());
  ASSERT_OK_AND_ASSIGN(auto vcpu, vm->AsAArch64()->CreateVcpuAArch64(0));
  sys.FailIoctl(KVM_ARM_VCPU_INIT, EINVAL);
  EXPECT_THAT(vcpu->Init({VcpuFeature::kPsci0_2}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("KVM_ARM_VCPU_INIT")));
  // Still not initialised.
  EXPECT_THAT(vcpu->Run(), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK(vcpu->Init({VcpuFeature::kPsci0_2}));
  ASSERT_OK(vcpu->SetOneReg(AArch64Reg::X(4), 44));
  sys.FailIoctl(KVM_SET_ONE_REG, EIO);
  EXPECT_THAT(vcpu->SetOneReg(AArch64Reg::X(4), 55),
              StatusIs(absl::ErrnoToStatusCode(EIO),
                       HasSubstr("KVM_SET_ONE_REG (set register x4")));
  ASSERT_OK_AND_ASSIGN(uint64_t x4, vcpu->GetOneReg(AArch64Reg::X(4)));
  EXPECT_EQ(x4, 44u);
  sys.FailIoctl(KVM_ARM_PREFERRED_TARGET, EIO);
  EXPECT_THAT(vm->AsAArch64()->CreateVcpuAArch64(1).status(),
              StatusIs(absl::ErrnoToStatusCode(EIO), HasSubstr("KVM_ARM_PREFERRED_TARGET")));
  // The failed creation left no vCPU behind: the id is still free.
  EXPECT_OK(vm->AsAArch64()->CreateVcpuAArch64(1).status());
}

TEST(KvmAArch64Vcpu, Pvtime) {
  HV_SETUP_GUEST(guest);
  VcpuAArch64& cpu = guest->vcpu(0);
  if (!cpu.HasPvtime()) {
    EXPECT_THAT(cpu.InitPvtime(HV_A64_SCRATCH),
                StatusIs(absl::StatusCode::kUnimplemented));
    return;
  }
  EXPECT_THAT(cpu.InitPvtime(HV_A64_SCRATCH + 8),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("64-byte")));
  EXPECT_OK(cpu.InitPvtime(HV_A64_SCRATCH + 0x1000));
}

TEST(KvmAArch64Vm, AddressLimitCountersAndFeatures) {
  HV_SETUP_GUEST(guest);
  const uint64_t limit = guest->vm().GuestAddressLimit();
  EXPECT_GE(limit, 1ull << 32);
  ASSERT_OK_AND_ASSIGN(auto region, MemoryRegion::CreateShared("high", 0x10000));
  EXPECT_THAT(guest->vm().AddMemoryRegion(limit, std::move(region), {}),
              StatusIs(absl::StatusCode::kOutOfRange));
  // The highest page below the limit is usable.
  ASSERT_OK_AND_ASSIGN(region, MemoryRegion::CreateShared("top", 0x10000));
  EXPECT_OK(guest->vm().AddMemoryRegion(limit - 0x10000, std::move(region), {}).status());
  // Debian 12's kernel (6.1) predates KVM_ARM_SET_COUNTER_OFFSET (6.4).
  const absl::Status offset = guest->vm().SetCounterOffset(0x1000);
  EXPECT_TRUE(offset.ok() || absl::IsUnimplemented(offset)) << offset;
  EXPECT_TRUE(guest->vcpu(0).SupportsFeature(VcpuFeature::kPsci0_2));
  EXPECT_TRUE(guest->vcpu(0).SupportsFeature(VcpuFeature::kPowerOff));
}

TEST(KvmAArch64Vcpu, PmuNeedsFeatureAndFinalizedGic) {
  AArch64GuestOptions options;
  options.gic = true;
  HV_REQUIRE_KVM();
  auto kvm = OpenKvm();
  ASSERT_NE(kvm, nullptr);
  {
    auto plain = MakeGuest(*kvm, options);
    ASSERT_NE(plain, nullptr);
    EXPECT_THAT(plain->vcpu(0).InitPmu(23),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("pmu-v3")));
  }
  ASSERT_OK_AND_ASSIGN(auto vm, kvm->CreateVm());
  VmAArch64* arm = vm->AsAArch64();
  ASSERT_OK_AND_ASSIGN(auto probe, arm->CreateVcpuAArch64(0));
  if (!probe->SupportsFeature(VcpuFeature::kPmuV3)) {
    GTEST_SKIP() << "this KVM offers no PMUv3";
  }
  options.features = {VcpuFeature::kPsci0_2, VcpuFeature::kPmuV3};
  auto guest = MakeGuest(*kvm, options);
  ASSERT_NE(guest, nullptr);
  EXPECT_THAT(guest->vcpu(0).InitPmu(40), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_OK(guest->vcpu(0).InitPmu(23));
}

}  // namespace
}  // namespace hv::testing
