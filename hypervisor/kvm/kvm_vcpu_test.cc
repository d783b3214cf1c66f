// The KVM vCPU (KvmVcpuCore, KvmVcpuX86_64) against the real /dev/kvm: a
// few real-mode instructions prove Run/HandleIo/HandleMmio/HLT, kicks and
// immediate exit; then the x86 state round trips. Guest-code coverage proper
// is the job of the guest-code conformance suite
// (testing/x86_guest_conformance.h), which uses assembled fixtures; these
// bytes are the only hand-written guest code in hv.
#include "hypervisor/kvm/kvm_vcpu.h"

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/kvm/kvm_hypervisor.h"
#include "hypervisor/kvm/kvm_test_env.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

constexpr GuestAddress kCode = 0x1000;
constexpr uint64_t kMmioAddress = 0x3000;  // above the two RAM pages

class KvmVcpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HV_REQUIRE_KVM();
    ASSERT_OK_AND_ASSIGN(kvm_, KvmHypervisor::Create("/dev/kvm"));
    ASSERT_OK_AND_ASSIGN(vm_, kvm_->CreateVm());
    ASSERT_OK_AND_ASSIGN(auto ram, MemoryRegion::CreateShared("ram", 0x2000));
    ram_ = ram->data();
    ASSERT_OK(vm_->AddMemoryRegion(0, std::move(ram), {}));
    ASSERT_OK_AND_ASSIGN(vcpu_, vm_->AsX86_64()->CreateVcpuX86_64(0));
  }

  // Copies `code` to kCode and points the vCPU at it in real mode.
  void Load(std::initializer_list<uint8_t> code) {
    std::copy(code.begin(), code.end(), ram_ + kCode);
    ASSERT_OK_AND_ASSIGN(Sregs sregs, vcpu_->GetSregs());
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    sregs.ds.base = 0;
    sregs.ds.selector = 0;
    ASSERT_OK(vcpu_->SetSregs(sregs));
    Regs regs;
    regs.rip = kCode;
    ASSERT_OK(vcpu_->SetRegs(regs));
  }

  std::unique_ptr<KvmHypervisor> kvm_;
  std::unique_ptr<Vm> vm_;
  uint8_t* ram_ = nullptr;
  std::unique_ptr<VcpuX86_64> vcpu_;
};

TEST_F(KvmVcpuTest, RunsOutThenHlt) {
  Load({0xb0, 0x42,    // mov al, 0x42
        0xe6, 0x10,    // out 0x10, al
        0xf4});        // hlt
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu_->Run());
  ASSERT_EQ(exit.kind, VcpuExitKind::kIo);
  EXPECT_EQ(exit.io.port, 0x10);
  EXPECT_EQ(exit.io.size, 1);
  EXPECT_TRUE(exit.io.is_write);
  EXPECT_EQ(exit.io.count, 1u);
  EXPECT_THAT(vcpu_->HandleMmio([](IoRequest&) {}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  int accesses = 0;
  ASSERT_OK(vcpu_->HandleIo([&](IoRequest& io) {
    ++accesses;
    EXPECT_EQ(io.address, 0x10u);
    ASSERT_EQ(io.data.size(), 1u);
    EXPECT_EQ(io.data[0], 0x42);
  }));
  EXPECT_EQ(accesses, 1);
  ASSERT_OK_AND_ASSIGN(exit, vcpu_->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kHlt);
  EXPECT_THAT(vcpu_->HandleIo([](IoRequest&) {}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("kIo")));
}

TEST_F(KvmVcpuTest, InAndMmioReadsTakeTheHandlersData) {
  Load({0xe4, 0x20,        // in al, 0x20
        0xa2, 0x00, 0x30,  // mov [0x3000], al
        0xa0, 0x00, 0x30,  // mov al, [0x3000]
        0xe6, 0x21,        // out 0x21, al
        0xf4});            // hlt
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu_->Run());
  ASSERT_EQ(exit.kind, VcpuExitKind::kIo);
  EXPECT_FALSE(exit.io.is_write);
  ASSERT_OK(vcpu_->HandleIo([](IoRequest& io) { io.data[0] = 0x5a; }));

  ASSERT_OK_AND_ASSIGN(exit, vcpu_->Run());
  ASSERT_EQ(exit.kind, VcpuExitKind::kMmio);
  EXPECT_EQ(exit.mmio.address, kMmioAddress);
  EXPECT_TRUE(exit.mmio.is_write);
  ASSERT_OK(vcpu_->HandleMmio([](IoRequest& io) {
    ASSERT_EQ(io.data.size(), 1u);
    EXPECT_EQ(io.data[0], 0x5a);
  }));

  ASSERT_OK_AND_ASSIGN(exit, vcpu_->Run());
  ASSERT_EQ(exit.kind, VcpuExitKind::kMmio);
  EXPECT_FALSE(exit.mmio.is_write);
  ASSERT_OK(vcpu_->HandleMmio([](IoRequest& io) { io.data[0] = 0x77; }));

  ASSERT_OK_AND_ASSIGN(exit, vcpu_->Run());
  ASSERT_EQ(exit.kind, VcpuExitKind::kIo);
  EXPECT_EQ(exit.io.port, 0x21);
  uint8_t seen = 0;
  ASSERT_OK(vcpu_->HandleIo([&](IoRequest& io) { seen = io.data[0]; }));
  EXPECT_EQ(seen, 0x77);
  ASSERT_OK_AND_ASSIGN(exit, vcpu_->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kHlt);
}

TEST_F(KvmVcpuTest, KickFromAnotherThreadInterruptsASpinningGuest) {
  Load({0xeb, 0xfe});  // jmp $
  std::atomic<bool> done{false};
  absl::StatusOr<VcpuExit> result;
  std::thread runner([&] {
    result = vcpu_->Run();
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(done.load());
  const auto kicked = std::chrono::steady_clock::now();
  ASSERT_OK(vcpu_->Kick());
  runner.join();
  const auto latency = std::chrono::steady_clock::now() - kicked;
  ASSERT_OK(result);
  EXPECT_EQ(result->kind, VcpuExitKind::kInterrupted);
  EXPECT_LT(latency, std::chrono::seconds(1));
}

TEST_F(KvmVcpuTest, KickBeforeRunInterruptsTheNextRunOnce) {
  Load({0xf4});  // hlt
  ASSERT_OK(vcpu_->Kick());
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu_->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kInterrupted);
  ASSERT_OK_AND_ASSIGN(exit, vcpu_->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kHlt);
}

TEST_F(KvmVcpuTest, ImmediateExit) {
  Load({0xf4});  // hlt
  vcpu_->SetImmediateExit(true);
  ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu_->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kInterrupted);
  ASSERT_OK_AND_ASSIGN(exit, vcpu_->Run());
  EXPECT_EQ(exit.kind, VcpuExitKind::kHlt);
}

TEST_F(KvmVcpuTest, RegisterStateRoundTrips) {
  Regs regs;
  regs.rax = 0x1122334455667788;
  regs.r15 = 42;
  regs.rip = 0x1234;
  ASSERT_OK(vcpu_->SetRegs(regs));
  ASSERT_OK_AND_ASSIGN(Regs got, vcpu_->GetRegs());
  EXPECT_EQ(got.rax, regs.rax);
  EXPECT_EQ(got.r15, regs.r15);
  EXPECT_EQ(got.rip, regs.rip);

  ASSERT_OK_AND_ASSIGN(Sregs sregs, vcpu_->GetSregs());
  sregs.ds.base = 0x5000;
  sregs.ds.selector = 0x500;
  ASSERT_OK(vcpu_->SetSregs(sregs));
  ASSERT_OK_AND_ASSIGN(Sregs got_sregs, vcpu_->GetSregs());
  EXPECT_EQ(got_sregs.ds.base, 0x5000u);
  EXPECT_EQ(got_sregs.ds.selector, 0x500);

  ASSERT_OK_AND_ASSIGN(Fpu fpu, vcpu_->GetFpu());
  fpu.xmm[3][0] = 0xab;
  fpu.mxcsr = 0x1f80;
  ASSERT_OK(vcpu_->SetFpu(fpu));
  ASSERT_OK_AND_ASSIGN(Fpu got_fpu, vcpu_->GetFpu());
  EXPECT_EQ(got_fpu.xmm[3][0], 0xab);

  DebugRegs debug;
  debug.db[1] = 0x4000;
  ASSERT_OK(vcpu_->SetDebugRegs(debug));
  ASSERT_OK_AND_ASSIGN(DebugRegs got_debug, vcpu_->GetDebugRegs());
  EXPECT_EQ(got_debug.db[1], 0x4000u);

  if (kvm_->CheckCapability(HypervisorCap::kXcrs)) {
    ASSERT_OK_AND_ASSIGN(std::vector<Xcr> xcrs, vcpu_->GetXcrs());
    ASSERT_FALSE(xcrs.empty());
    EXPECT_EQ(xcrs[0].index, 0u);
    EXPECT_OK(vcpu_->SetXcrs(xcrs));
  }
}

TEST_F(KvmVcpuTest, MsrsAndCpuid) {
  constexpr uint32_t kSysenterCs = 0x174;
  ASSERT_OK(vcpu_->SetMsrs({{kSysenterCs, 0x10}}));
  ASSERT_OK_AND_ASSIGN(auto msrs, vcpu_->GetMsrs({kSysenterCs}));
  ASSERT_EQ(msrs.size(), 1u);
  EXPECT_EQ(msrs[0].value, 0x10u);
  EXPECT_THAT(vcpu_->GetMsrs({kSysenterCs, 0xdeadbeef}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("0xdeadbeef")));
  ASSERT_OK_AND_ASSIGN(auto cpuid, vm_->AsX86_64()->GetSupportedCpuid());
  EXPECT_OK(vcpu_->SetCpuid(cpuid));
  ASSERT_OK_AND_ASSIGN(uint32_t khz, vcpu_->GetTscKhz());
  EXPECT_GT(khz, 0u);
  if (kvm_->CheckCapability(HypervisorCap::kTscControl)) {
    EXPECT_OK(vcpu_->SetTscOffset(1000));
  }
}

TEST_F(KvmVcpuTest, InterruptInjectionWithoutIrqChip) {
  // Never run: not ready, so the vector is refused rather than queued.
  EXPECT_THAT(vcpu_->InjectInterrupt(0x20),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("interrupt window")));
  EXPECT_OK(vcpu_->InjectNmi());
  vcpu_->SetInterruptWindowRequested(true);
  vcpu_->SetInterruptWindowRequested(false);
  // Not run yet: the kernel has not said the guest can take one.
  EXPECT_FALSE(vcpu_->ReadyForInterrupt());
}

TEST(KvmVcpuLapic, NeedsAndUsesTheInKernelIrqChip) {
  HV_REQUIRE_KVM();
  ASSERT_OK_AND_ASSIGN(auto kvm, KvmHypervisor::Create("/dev/kvm"));
  ASSERT_OK_AND_ASSIGN(auto vm, kvm->CreateVm());
  ASSERT_OK(vm->AsX86_64()->CreateIrqChip(IrqChipKind::kKernel));
  ASSERT_OK_AND_ASSIGN(auto vcpu, vm->AsX86_64()->CreateVcpuX86_64(0));
  ASSERT_OK_AND_ASSIGN(LapicState lapic, vcpu->GetLapic());
  // APIC ID register (offset 0x20), bits 31:24: vCPU 0.
  EXPECT_EQ(lapic.regs[0x23], 0);
  EXPECT_OK(vcpu->SetLapic(lapic));
}

}  // namespace
}  // namespace hv
