// X86GuestConformance: the vCPU state a snapshot carries beyond registers,
// shown with guests: AVX registers that live only in the XSAVE image reach
// another vCPU; an NMI and an exception set through vCPU events are taken
// by the guest; MP state, the TSC frequency and the MSR lists.

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "testing/status_matchers.h"
#include "testing/x86_guest_conformance.h"

namespace hv::testing {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// Guest RAM the AVX programs read and write (user pages, away from code,
// tables and stack).
constexpr uint64_t kAvxData = 0x100000;
constexpr uint64_t kAvxOut = 0x100100;
// Loads `program` at CPL3 with %rdi = `rdi` and AVX enabled (EnableAvx).
absl::Status LoadAvxProgram(GuestFixture& guest, const GuestProgram& program,
                            uint64_t rdi, const std::vector<CpuidEntry>& cpuid) {
  RETURN_IF_ERROR(guest.Load(program, GuestMode::kLongUser,
                             [&](Regs& regs) { regs.rdi = rdi; }));
  return EnableAvx(guest.vcpu(), cpuid);
}

TEST_P(X86GuestConformance, XsaveCarriesAvxRegistersToAnotherVcpu) {
  VcpuX86_64& source = guest_->vcpu();
  if (!hypervisor_->CheckCapability(HypervisorCap::kXsave)) {
    EXPECT_THAT(source.GetXsave(), StatusIs(absl::StatusCode::kUnimplemented));
    EXPECT_THAT(source.SetXsave(std::vector<uint8_t>(4096)),
                StatusIs(absl::StatusCode::kUnimplemented));
    EXPECT_EQ(source.XsaveSize(), 0u);
    return;
  }
  if (!hypervisor_->CheckCapability(HypervisorCap::kXcrs)) {
    GTEST_SKIP() << GetParam().name
                 << ": the guest cannot be given XCR0 with AVX (kXcrs is "
                    "false), so no guest code can put state in the YMM "
                    "registers";
  }
  ASSERT_OK_AND_ASSIGN(std::vector<CpuidEntry> cpuid,
                       vm_->AsX86_64()->GetSupportedCpuid());
  if (!OffersAvx(cpuid)) {
    GTEST_SKIP() << GetParam().name << ": this CPU offers guests no AVX";
  }
  uint8_t pattern[64];
  for (int i = 0; i < 64; ++i) pattern[i] = static_cast<uint8_t>(0xa1 + 7 * i);
  std::memcpy(guest_->ram().data() + kAvxData, pattern, sizeof(pattern));
  ASSERT_OK(LoadAvxProgram(*guest_, guest::AvxLoad(), kAvxData, cpuid));
  ASSERT_OK(guest_->Run().status());
  ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> image, source.GetXsave());
  ASSERT_EQ(image.size(), source.XsaveSize());
  ASSERT_GE(image.size(), 4096u);
  // XSTATE_BV (the XSAVE header at byte 512, Vol. 1, Section 13.4.2) says
  // the AVX component is in the image.
  EXPECT_EQ(image[512] & 0x4, 0x4) << "XSTATE_BV lacks AVX";

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm2, NewVm());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<GuestFixture> target,
                       GuestFixture::Create(*vm2));
  ASSERT_OK(LoadAvxProgram(*target, guest::AvxStore(), kAvxOut, cpuid));
  // Bad images change nothing.
  EXPECT_THAT(target->vcpu().SetXsave(absl::MakeSpan(image).subspan(1)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("set xsave")));
  EXPECT_THAT(target->vcpu().SetXsave({}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK(target->vcpu().SetXsave(image));
  ASSERT_OK(target->Run().status());
  EXPECT_EQ(std::memcmp(target->ram().data() + kAvxOut, pattern, sizeof(pattern)),
            0)
      << "ymm0/ymm15 did not arrive in the other vCPU";
}

// Runs the event_handlers program of `guest` to its signal and completes
// the signal's port write, so that the guest's IDT is in place.
absl::Status RunToHandlersInstalled(GuestFixture& guest) {
  RETURN_IF_ERROR(guest.Load(guest::EventHandlers(), GuestMode::kLong));
  GuestRunOptions options;
  options.until = VcpuExitKind::kIo;
  ASSIGN_OR_RETURN(GuestRunResult run, guest.Run(options));
  if (run.exit.io.port != HV_GUEST_SIGNAL_PORT) {
    return absl::InternalError("event_handlers: expected its signal first");
  }
  return guest.vcpu().HandleIo([](IoRequest&) {});
}

TEST_P(X86GuestConformance, VcpuEventsCarryAnNmiAndAnException) {
  VcpuX86_64& vcpu = guest_->vcpu();
  if (!hypervisor_->CheckCapability(HypervisorCap::kVcpuEvents)) {
    EXPECT_THAT(vcpu.GetVcpuEvents(), StatusIs(absl::StatusCode::kUnimplemented));
    EXPECT_THAT(vcpu.SetVcpuEvents({}), StatusIs(absl::StatusCode::kUnimplemented));
    return;
  }
  ASSERT_OK(RunToHandlersInstalled(*guest_));
  ASSERT_OK_AND_ASSIGN(VcpuEvents quiet, vcpu.GetVcpuEvents());
  EXPECT_FALSE(quiet.nmi.pending);
  EXPECT_FALSE(quiet.exception.injected);
  ASSERT_OK(vcpu.InjectNmi());
  ASSERT_OK_AND_ASSIGN(VcpuEvents with_nmi, vcpu.GetVcpuEvents());
  ASSERT_TRUE(with_nmi.nmi.pending || with_nmi.nmi.injected);
  // Clear it, then put it back through the events alone.
  ASSERT_OK(vcpu.SetVcpuEvents(quiet));
  ASSERT_OK_AND_ASSIGN(VcpuEvents cleared, vcpu.GetVcpuEvents());
  EXPECT_FALSE(cleared.nmi.pending || cleared.nmi.injected);
  // Bad events are refused and change nothing.
  VcpuEvents bad = with_nmi;
  bad.interrupt.shadow = 4;
  EXPECT_THAT(vcpu.SetVcpuEvents(bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("shadow")));
  bad = with_nmi;
  bad.exception.injected = true;
  bad.exception.vector = 40;
  EXPECT_THAT(vcpu.SetVcpuEvents(bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("vector 40")));
  ASSERT_OK_AND_ASSIGN(VcpuEvents unchanged, vcpu.GetVcpuEvents());
  EXPECT_FALSE(unchanged.nmi.pending || unchanged.nmi.injected);
  ASSERT_OK(vcpu.SetVcpuEvents(with_nmi));
  ASSERT_OK_AND_ASSIGN(GuestRunResult nmi_run, guest_->Run());
  EXPECT_THAT(nmi_run.reports, ElementsAre(2)) << "the guest took no NMI";

  // An exception with an error code, set as being delivered.
  ASSERT_OK(RunToHandlersInstalled(*guest_));
  ASSERT_OK_AND_ASSIGN(VcpuEvents events, vcpu.GetVcpuEvents());
  events.exception.injected = true;
  events.exception.vector = 13;
  events.exception.has_error_code = true;
  events.exception.error_code = 0x18;
  ASSERT_OK(vcpu.SetVcpuEvents(events));
  ASSERT_OK_AND_ASSIGN(VcpuEvents back, vcpu.GetVcpuEvents());
  EXPECT_TRUE(back.exception.injected);
  EXPECT_EQ(back.exception.vector, 13);
  EXPECT_EQ(back.exception.error_code, 0x18u);
  ASSERT_OK_AND_ASSIGN(GuestRunResult gp_run, guest_->Run());
  EXPECT_THAT(gp_run.reports, ElementsAre(13, 0x18));
}

TEST_P(X86GuestConformance, MpStateRoundTrips) {
  VcpuX86_64& bare = guest_->vcpu();
  if (!hypervisor_->CheckCapability(HypervisorCap::kMpState)) {
    EXPECT_THAT(bare.GetMpState(), StatusIs(absl::StatusCode::kUnimplemented));
    EXPECT_THAT(bare.SetMpState(MpState::kHalted),
                StatusIs(absl::StatusCode::kUnimplemented));
    return;
  }
  EXPECT_THAT(bare.GetMpState(), IsOkAndHolds(MpState::kRunnable));
  EXPECT_THAT(bare.SetMpState(MpState::kStopped),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("x86_64")));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, NewVmWithKernelIrqChip());
  if (vm == nullptr) return;  // no irqchip: the APIC states have no meaning
  VmX86_64* vm86 = vm->AsX86_64();
  ASSERT_OK_AND_ASSIGN(auto bsp, vm86->CreateVcpuX86_64(0));
  ASSERT_OK_AND_ASSIGN(auto ap, vm86->CreateVcpuX86_64(1));
  EXPECT_THAT(bsp->GetMpState(), IsOkAndHolds(MpState::kRunnable));
  // An AP waits for INIT (Intel SDM Vol. 3, Section 9.4).
  EXPECT_THAT(ap->GetMpState(), IsOkAndHolds(MpState::kUninitialized));
  ASSERT_OK(bsp->SetMpState(MpState::kHalted));
  EXPECT_THAT(bsp->GetMpState(), IsOkAndHolds(MpState::kHalted));
  ASSERT_OK(ap->SetMpState(MpState::kRunnable));
  EXPECT_THAT(ap->GetMpState(), IsOkAndHolds(MpState::kRunnable));
  EXPECT_THAT(ap->SetMpState(MpState::kSuspended),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ap->GetMpState(), IsOkAndHolds(MpState::kRunnable));
}

TEST_P(X86GuestConformance, TscFrequencyIsSetAndReported) {
  VcpuX86_64& vcpu = guest_->vcpu();
  ASSERT_OK_AND_ASSIGN(uint32_t khz, vcpu.GetTscKhz());
  EXPECT_GT(khz, 0u);
  if (!hypervisor_->CheckCapability(HypervisorCap::kTscKhz)) {
    EXPECT_THAT(vcpu.SetTscKhz(khz), StatusIs(absl::StatusCode::kUnimplemented));
    return;
  }
  EXPECT_THAT(vcpu.SetTscKhz(0), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK(vcpu.SetTscKhz(khz));
  EXPECT_THAT(vcpu.GetTscKhz(), IsOkAndHolds(khz));
}

TEST_P(X86GuestConformance, MsrIndexListIsReadableOnAVcpu) {
  VmX86_64* vm86 = vm_->AsX86_64();
  if (!hypervisor_->CheckCapability(HypervisorCap::kMsrList)) {
    EXPECT_THAT(vm86->GetMsrIndexList(),
                StatusIs(absl::StatusCode::kUnimplemented));
    return;
  }
  ASSERT_OK_AND_ASSIGN(std::vector<uint32_t> list, vm86->GetMsrIndexList());
  // IA32_SYSENTER_CS and IA32_LSTAR (Vol. 4, Table 2-2): state every x86
  // hypervisor keeps.
  EXPECT_THAT(list, Contains(0x174u));
  EXPECT_THAT(list, Contains(0xc0000082u));
  // What saving a vCPU does: read every listed MSR.
  ASSERT_OK_AND_ASSIGN(std::vector<CpuidEntry> cpuid, vm86->GetSupportedCpuid());
  ASSERT_OK(guest_->vcpu().SetCpuid(cpuid));
  ASSERT_OK_AND_ASSIGN(std::vector<MsrEntry> values, guest_->vcpu().GetMsrs(list));
  EXPECT_EQ(values.size(), list.size());
  if (!hypervisor_->CheckCapability(HypervisorCap::kFeatureMsrs)) {
    EXPECT_THAT(vm86->GetFeatureMsrs(), StatusIs(absl::StatusCode::kUnimplemented));
    return;
  }
  ASSERT_OK_AND_ASSIGN(std::vector<MsrEntry> features, vm86->GetFeatureMsrs());
  EXPECT_THAT(features, Not(IsEmpty()));
}

TEST_P(X86GuestConformance, PauseNoticeNeedsTheGuestsKvmclock) {
  // This guest never enables a paravirtual clock.
  absl::Status status = guest_->vcpu().NotifyGuestPaused();
  EXPECT_TRUE(status.code() == absl::StatusCode::kFailedPrecondition ||
              status.code() == absl::StatusCode::kUnimplemented)
      << status;
}

// A guest programs the PIC and the PIT in one VM; their state, moved to a
// second VM whose guest programs neither, makes its timer tick there
// (without it, none does). The IOAPIC's state round-trips.
TEST_P(X86GuestConformance, PicAndPitStateCarryATickingTimerToAnotherVm) {
  VmX86_64* bare = vm_->AsX86_64();
  if (!hypervisor_->CheckCapability(HypervisorCap::kIrqChipState)) {
    EXPECT_THAT(bare->GetPicState(VmX86_64::Pic::kPrimary),
                StatusIs(absl::StatusCode::kUnimplemented));
    EXPECT_THAT(bare->GetIoapicState(), StatusIs(absl::StatusCode::kUnimplemented));
    EXPECT_THAT(bare->SetPitState({}), StatusIs(absl::StatusCode::kUnimplemented));
    return;
  }
  // vm_ has no in-kernel irqchip.
  EXPECT_THAT(bare->GetPitState(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(bare->SetPicState(VmX86_64::Pic::kPrimary, {}),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> source_vm, NewVmWithKernelIrqChip());
  ASSERT_NE(source_vm, nullptr);
  VmX86_64* source = source_vm->AsX86_64();
  ASSERT_OK_AND_ASSIGN(auto programmer, GuestFixture::Create(*source_vm));
  ASSERT_OK(programmer->Load(guest::PitProgram(), GuestMode::kLong));
  ASSERT_OK(programmer->Run().status());
  ASSERT_OK_AND_ASSIGN(PicState primary, source->GetPicState(VmX86_64::Pic::kPrimary));
  EXPECT_EQ(primary.imr, 0xfe);
  EXPECT_EQ(primary.irq_base, HV_GUEST_PIC_VECTOR_BASE);
  ASSERT_OK_AND_ASSIGN(PicState secondary,
                       source->GetPicState(VmX86_64::Pic::kSecondary));
  ASSERT_OK_AND_ASSIGN(PitState pit, source->GetPitState());
  EXPECT_EQ(pit.channels[0].count, 1193u);
  EXPECT_EQ(pit.channels[0].mode, 2);
  ASSERT_OK_AND_ASSIGN(IoapicState ioapic, source->GetIoapicState());
  ioapic.redirection[5] = 0x10035;  // masked, fixed, vector 0x35
  ASSERT_OK(source->SetIoapicState(ioapic));
  ASSERT_OK_AND_ASSIGN(IoapicState ioapic_back, source->GetIoapicState());
  EXPECT_EQ(ioapic_back.redirection, ioapic.redirection);
  EXPECT_EQ(ioapic_back.base_address, ioapic.base_address);

  // Without the state, the second guest's timer never ticks.
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, NewVmWithKernelIrqChip());
    ASSERT_OK_AND_ASSIGN(auto idle, GuestFixture::Create(*vm));
    ASSERT_OK(idle->Load(guest::PitTicks(), GuestMode::kLong));
    GuestRunOptions options;
    options.timeout = absl::Milliseconds(300);
    EXPECT_THAT(idle->Run(options), StatusIs(absl::StatusCode::kDeadlineExceeded));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> target_vm, NewVmWithKernelIrqChip());
  VmX86_64* target = target_vm->AsX86_64();
  ASSERT_OK_AND_ASSIGN(auto ticker, GuestFixture::Create(*target_vm));
  ASSERT_OK(ticker->Load(guest::PitTicks(), GuestMode::kLong));
  ASSERT_OK(target->SetPicState(VmX86_64::Pic::kPrimary, primary));
  ASSERT_OK(target->SetPicState(VmX86_64::Pic::kSecondary, secondary));
  ASSERT_OK(target->SetIoapicState(ioapic));
  ASSERT_OK(target->SetPitState(pit));
  ASSERT_OK_AND_ASSIGN(PicState primary_back, target->GetPicState(VmX86_64::Pic::kPrimary));
  EXPECT_EQ(primary_back.imr, primary.imr);
  ASSERT_OK_AND_ASSIGN(GuestRunResult run, ticker->Run());
  // At least three: KVM re-injects ticks the vCPU missed while it was not
  // running, so a slow host may deliver several before the guest checks.
  EXPECT_THAT(run.reports, ElementsAre(::testing::Ge(3u)));
}

// MSRs the VMM takes reach it as exits it answers (a value, a recorded
// write, a #GP); the MSRs it leaves stay with the hypervisor. IA32_MISC_ENABLE
// (0x1a0) is the taken one: the hypervisor implements it, so the answers
// show the VMM overriding it. IA32_SYSENTER_CS (0x174; Intel SDM Vol. 4,
// Table 2-2) is left alone.
TEST_P(X86GuestConformance, UserSpaceMsrsAreAnsweredByTheVmm) {
  constexpr uint32_t kTaken = 0x1a0;
  constexpr uint32_t kLeft = 0x174;
  constexpr uint64_t kAnswer = 0x0123456789abcdefull;
  VmX86_64* vm86 = vm_->AsX86_64();
  VcpuX86_64& vcpu = guest_->vcpu();
  const MsrRange taken{kTaken, 1, true, true};
  EXPECT_THAT(vcpu.HandleMsr([](MsrRequest&) { ADD_FAILURE(); }),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("kRdMsr or kWrMsr")));
  HV_UNIMPLEMENTED_WITHOUT(*vm_, VmCap::kUserSpaceMsrs,
                           vm86->SetUserSpaceMsrs({taken}));
  ASSERT_OK_AND_ASSIGN(std::vector<CpuidEntry> cpuid, vm86->GetSupportedCpuid());
  ASSERT_OK(vcpu.SetCpuid(cpuid));
  ASSERT_OK(vm86->SetUserSpaceMsrs({taken}));
  auto load = [&] {
    return guest_->Load(guest::MsrAccess(), GuestMode::kLong, [&](Regs& regs) {
      regs.rdi = kTaken;
      regs.rsi = kLeft;
    });
  };
  ASSERT_OK(load());
  GuestRunOptions options;
  int reads = 0;
  options.on_msr = [&](MsrRequest& request) {
    if (!request.is_write && ++reads == 2) {
      request.fault = true;  // the second read: #GP
    } else if (!request.is_write) {
      request.data = kAnswer;
    }
  };
  ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest_->Run(options));
  // (A 64-bit report arrives as one value; the #GP handler's 13 comes
  // before the faulted read's 0.)
  EXPECT_THAT(run.reports, ElementsAre(kAnswer, 0xa5, 13, 0));
  ASSERT_EQ(run.msrs.size(), 3u);
  EXPECT_FALSE(run.msrs[0].is_write);
  EXPECT_EQ(run.msrs[0].index, kTaken);
  EXPECT_TRUE(run.msrs[1].is_write);
  EXPECT_EQ(run.msrs[1].index, kTaken);
  EXPECT_EQ(run.msrs[1].data, 0x1122334455667788u);
  EXPECT_FALSE(run.msrs[2].is_write);
  // The write the VMM took never reached the hypervisor's MSR; the one it
  // left did.
  ASSERT_OK_AND_ASSIGN(std::vector<MsrEntry> kept,
                       vcpu.GetMsrs({kTaken, kLeft}));
  EXPECT_NE(kept[0].value, 0x1122334455667788u);
  EXPECT_EQ(kept[1].value, 0xa5u);

  // Bad sets are refused and keep the previous one.
  EXPECT_THAT(vm86->SetUserSpaceMsrs({taken, MsrRange{kTaken - 4, 8, true, false}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("overlaps")));
  EXPECT_THAT(vm86->SetUserSpaceMsrs({MsrRange{kTaken, 0, true, true}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(vm86->SetUserSpaceMsrs({MsrRange{0x800, 16, true, true}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("x2APIC")));
  ASSERT_OK(load());
  reads = 0;
  ASSERT_OK_AND_ASSIGN(run, guest_->Run(options));
  EXPECT_EQ(run.msrs.size(), 3u) << "the refused sets replaced the filter";

  // Writes only: the reads go back to the hypervisor.
  ASSERT_OK(vm86->SetUserSpaceMsrs({MsrRange{kTaken, 1, false, true}}));
  ASSERT_OK(load());
  ASSERT_OK_AND_ASSIGN(run, guest_->Run(options));
  ASSERT_EQ(run.msrs.size(), 1u);
  EXPECT_TRUE(run.msrs[0].is_write);
  EXPECT_THAT(run.reports, ElementsAre(kept[0].value, 0xa5, kept[0].value));

  // None: every access is the hypervisor's again, no exit reaches the VMM.
  ASSERT_OK(vm86->SetUserSpaceMsrs({}));
  ASSERT_OK(guest_->Load(guest::MsrAccess(), GuestMode::kLong, [&](Regs& regs) {
    regs.rdi = kLeft;
    regs.rsi = kLeft;
  }));
  ASSERT_OK_AND_ASSIGN(run, guest_->Run(options));
  EXPECT_THAT(run.msrs, IsEmpty());
  // (The write of 0xa5 comes after the one of 0x1122334455667788.)
  EXPECT_THAT(run.reports, ElementsAre(0xa5, 0xa5, 0xa5));
}

// Single-stepping stops after every instruction, at the next one's
// address; a hardware breakpoint stops at its address before the
// instruction runs; with debugging off the program runs to its end.
TEST_P(X86GuestConformance, SingleStepAndHardwareBreakpoint) {
  VcpuX86_64& vcpu = guest_->vcpu();
  if (!hypervisor_->CheckCapability(HypervisorCap::kGuestDebug)) {
    Vcpu::GuestDebug debug;
    debug.enable = true;
    EXPECT_THAT(vcpu.SetGuestDebug(debug), StatusIs(absl::StatusCode::kUnimplemented));
    return;
  }
  Vcpu::GuestDebug bad;
  bad.enable = true;
  bad.hw_breakpoints = {1, 2, 3, 4, 5};
  EXPECT_THAT(vcpu.SetGuestDebug(bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("DR0-DR3")));
  bad.hw_breakpoints = {0x0000800000000000ull};
  EXPECT_THAT(vcpu.SetGuestDebug(bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("canonical")));

  ASSERT_OK(guest_->Load(guest::DebugSteps(), GuestMode::kLong));
  Vcpu::GuestDebug step;
  step.enable = true;
  step.single_step = true;
  ASSERT_OK(vcpu.SetGuestDebug(step));
  std::vector<uint64_t> stops;
  for (int i = 0; i < 4; ++i) {
    ASSERT_OK_AND_ASSIGN(VcpuExit exit, vcpu.Run());
    ASSERT_EQ(exit.kind, VcpuExitKind::kDebug) << VcpuExitKindName(exit.kind);
    EXPECT_EQ(exit.debug.exception, 1u);
    EXPECT_NE(exit.debug.dr6 & (1u << 14), 0u) << "DR6.BS (single step)";
    ASSERT_OK_AND_ASSIGN(Regs regs, vcpu.GetRegs());
    EXPECT_EQ(regs.rip, exit.debug.address);
    stops.push_back(exit.debug.address - HV_GUEST_CODE);
  }
  EXPECT_THAT(stops, ElementsAre(1, 2, 3, 8));
  ASSERT_OK(vcpu.SetGuestDebug({}));
  ASSERT_OK_AND_ASSIGN(GuestRunResult rest, guest_->Run());
  EXPECT_THAT(rest.reports, ElementsAre(0x1234));

  ASSERT_OK(guest_->Load(guest::DebugSteps(), GuestMode::kLong));
  Vcpu::GuestDebug breakpoint;
  breakpoint.enable = true;
  breakpoint.hw_breakpoints = {HV_GUEST_CODE + 3};
  ASSERT_OK(vcpu.SetGuestDebug(breakpoint));
  ASSERT_OK_AND_ASSIGN(VcpuExit hit, vcpu.Run());
  if (hit.kind == VcpuExitKind::kIo && hit.io.port == HV_GUEST_REPORT_PORT) {
    // KVM took the breakpoint (DR0 and DR7 are in the vCPU's state) but the
    // CPU ran past it. Seen on the SVM KVM inside QEMU's TCG, whose nested
    // SVM does not arm DR0-DR3 breakpoints at VMRUN; single-stepping above
    // works there. Not a result about KVM, so say so instead of passing.
    GTEST_SKIP() << GetParam().name
                 << ": this machine's CPU did not raise the hardware "
                    "breakpoint KVM set (an emulated nested CPU?)";
  }
  ASSERT_EQ(hit.kind, VcpuExitKind::kDebug) << VcpuExitKindName(hit.kind);
  EXPECT_EQ(hit.debug.address, HV_GUEST_CODE + 3);
  EXPECT_EQ(hit.debug.exception, 1u);
  EXPECT_NE(hit.debug.dr6 & 1, 0u) << "DR6.B0 (breakpoint 0)";
  ASSERT_OK(vcpu.SetGuestDebug({}));
  ASSERT_OK_AND_ASSIGN(GuestRunResult after, guest_->Run());
  EXPECT_THAT(after.reports, ElementsAre(0x1234));
}

}  // namespace
}  // namespace hv::testing
