// Interrupt requests on WHPX: the MSI -> WHV_INTERRUPT_CONTROL decoding
// (every field, every refusal), CreateIrqChip(kSplit) choosing the local
// APIC emulation before the partition is set up (and refused after),
// SignalMsi's exact WHvRequestInterrupt, and the local APIC state round
// trip -- all against the fake.
#include <cstring>
#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/whpx/whpx_msi.h"
#include "hypervisor/whpx/whpx_test_util.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace whpx_abi;  // NOLINT

constexpr uint64_t TypeModes(uint64_t type, uint64_t destination_mode,
                             uint64_t trigger_mode) {
  return type | (destination_mode << 8) | (trigger_mode << 12);
}

struct MsiCase {
  const char* what;
  uint64_t address;
  uint32_t data;
  uint64_t type_modes;
  uint32_t destination;
  uint32_t vector;
};

TEST(WhpxMsi, DecodesEveryField) {
  const MsiCase cases[] = {
      {"fixed, physical, edge, APIC 0", 0xfee00000, 0x40,
       TypeModes(WHvX64InterruptTypeFixed,
                 WHvX64InterruptDestinationModePhysical,
                 WHvX64InterruptTriggerModeEdge),
       0, 0x40},
      {"destination id bits 19:12", 0xfeeab000, 0x31,
       TypeModes(WHvX64InterruptTypeFixed,
                 WHvX64InterruptDestinationModePhysical,
                 WHvX64InterruptTriggerModeEdge),
       0xab, 0x31},
      {"broadcast destination", 0xfeeff000, 0xff,
       TypeModes(WHvX64InterruptTypeFixed,
                 WHvX64InterruptDestinationModePhysical,
                 WHvX64InterruptTriggerModeEdge),
       0xff, 0xff},
      {"DM (bit 2): logical", 0xfee03004, 0x50,
       TypeModes(WHvX64InterruptTypeFixed,
                 WHvX64InterruptDestinationModeLogical,
                 WHvX64InterruptTriggerModeEdge),
       3, 0x50},
      {"RH (bit 3): fixed becomes lowest priority", 0xfee0300c, 0x50,
       TypeModes(WHvX64InterruptTypeLowestPriority,
                 WHvX64InterruptDestinationModeLogical,
                 WHvX64InterruptTriggerModeEdge),
       3, 0x50},
      {"delivery mode 001: lowest priority", 0xfee01000, 0x161,
       TypeModes(WHvX64InterruptTypeLowestPriority,
                 WHvX64InterruptDestinationModePhysical,
                 WHvX64InterruptTriggerModeEdge),
       1, 0x61},
      {"delivery mode 100: NMI", 0xfee02000, 0x400,
       TypeModes(WHvX64InterruptTypeNmi,
                 WHvX64InterruptDestinationModePhysical,
                 WHvX64InterruptTriggerModeEdge),
       2, 0},
      {"delivery mode 101: INIT", 0xfee02000, 0x500,
       TypeModes(WHvX64InterruptTypeInit,
                 WHvX64InterruptDestinationModePhysical,
                 WHvX64InterruptTriggerModeEdge),
       2, 0},
      {"trigger mode (bit 15) level, asserted (bit 14)", 0xfee01000, 0xc042,
       TypeModes(WHvX64InterruptTypeFixed,
                 WHvX64InterruptDestinationModePhysical,
                 WHvX64InterruptTriggerModeLevel),
       1, 0x42},
      {"bit 14 alone (edge) is ignored", 0xfee01000, 0x4042,
       TypeModes(WHvX64InterruptTypeFixed,
                 WHvX64InterruptDestinationModePhysical,
                 WHvX64InterruptTriggerModeEdge),
       1, 0x42},
  };
  for (const MsiCase& c : cases) {
    SCOPED_TRACE(c.what);
    ASSERT_OK_AND_ASSIGN(WHV_INTERRUPT_CONTROL control,
                         WhpxMsiInterrupt(c.address, c.data));
    EXPECT_EQ(control.TypeModes, c.type_modes);
    EXPECT_EQ(control.Destination, c.destination);
    EXPECT_EQ(control.Vector, c.vector);
  }
}

TEST(WhpxMsi, RefusesWhatWhpxCannotExpress) {
  struct Refusal {
    uint64_t address;
    uint32_t data;
    const char* message;
  } refusals[] = {
      {0xfee00000, 0x240, "delivery mode 2 (SMI)"},
      {0xfee00000, 0x340, "delivery mode 3 (reserved)"},
      {0xfee00000, 0x640, "delivery mode 6 (reserved)"},
      {0xfee00000, 0x740, "delivery mode 7 (ExtINT)"},
      {0xfec00000, 0x40, "not a message to the local APICs"},
      {0x1fee00000, 0x40, "bits 63:32 clear"},
      {0xfee00000, 0x10040, "reserved data bits 0x10000"},
      {0xfee00000, 0x0800, "reserved data bits 0x800"},
      {0xfee00000, 0x8040, "level-triggered deassert"},
  };
  for (const Refusal& r : refusals) {
    SCOPED_TRACE(r.message);
    EXPECT_THAT(WhpxMsiInterrupt(r.address, r.data),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(r.message)));
  }
}

MsiMessage Msi(uint64_t address, uint32_t data) {
  MsiMessage msi;
  msi.address = address;
  msi.data = data;
  return msi;
}

TEST(WhpxIrq, SplitIrqchipChoosesXapicEmulationBeforeSetup) {
  WhpxTestBed bed;
  ASSERT_OK(bed.Init());
  EXPECT_TRUE(bed.hypervisor->CheckCapability(HypervisorCap::kSplitIrqChip));
  EXPECT_FALSE(bed.hypervisor->CheckCapability(HypervisorCap::kIrqChip));
  EXPECT_TRUE(bed.vm->CheckCapability(VmCap::kSignalMsi));
  bed.fake->ClearCalls();
  ASSERT_OK(bed.vm->CreateIrqChip(IrqChipKind::kSplit));
  EXPECT_THAT(bed.fake->CallNames(), ElementsAre("WHvSetPartitionProperty"));
  EXPECT_THAT(bed.fake->calls()[0].args, HasSubstr("code 0x1005, value 0x1"));
  EXPECT_EQ(bed.fake->LocalApicEmulationMode(),
            WHvX64LocalApicEmulationModeXApic);
  EXPECT_FALSE(bed.fake->IsSetUp());
  // Asked twice: refused, no call.
  bed.fake->ClearCalls();
  EXPECT_THAT(bed.vm->CreateIrqChip(IrqChipKind::kSplit),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("already emulates")));
  EXPECT_THAT(bed.fake->calls(), IsEmpty());
}

TEST(WhpxIrq, IrqchipOrderingErrors) {
  WhpxTestBed bed;
  ASSERT_OK(bed.Init());
  // No PIC or IOAPIC in WHPX.
  EXPECT_THAT(bed.vm->CreateIrqChip(IrqChipKind::kKernel),
              StatusIs(absl::StatusCode::kUnimplemented));
  // SignalMsi needs the irqchip.
  bed.fake->ClearCalls();
  EXPECT_THAT(bed.vm->SignalMsi(Msi(0xfee00000, 0x40)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("irqchip")));
  EXPECT_THAT(bed.fake->calls(), IsEmpty());
  // After the first vCPU the partition is set up: too late.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, bed.vm->CreateVcpu(0));
  bed.fake->ClearCalls();
  EXPECT_THAT(bed.vm->CreateIrqChip(IrqChipKind::kSplit),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("already set up")));
  EXPECT_THAT(bed.fake->calls(), IsEmpty());
  EXPECT_EQ(bed.fake->LocalApicEmulationMode(), 0u);
  EXPECT_THAT(vcpu->AsX86_64()->GetLapic(),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(WhpxIrq, TheFakeRefusesWhatWhpxRefuses) {
  WhpxTestBed bed;
  ASSERT_OK(bed.Init());
  const WhpxApi& api = *bed.fake->api();
  WHV_PARTITION_HANDLE handle = bed.vm->partition()->handle();
  WHV_INTERRUPT_CONTROL control = {};
  control.Vector = 0x40;
  // No APIC emulation: nothing to request of.
  ASSERT_OK(bed.vm->partition()->EnsureSetUp());
  EXPECT_EQ(api.WHvRequestInterrupt(handle, &control, sizeof(control)),
            kWhvEInvalidPartitionConfig);
  // The emulation mode once set up.
  WHV_PARTITION_PROPERTY property = {};
  property.LocalApicEmulationMode = WHvX64LocalApicEmulationModeXApic;
  EXPECT_EQ(api.WHvSetPartitionProperty(
                handle, WHvPartitionPropertyCodeLocalApicEmulationMode,
                &property, sizeof(property)),
            kWhvEInvalidPartitionConfig);
  uint8_t page[kLapicStateSize];
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, bed.vm->CreateVcpu(0));
  EXPECT_EQ(api.WHvGetVirtualProcessorInterruptControllerState2(
                handle, 0, page, sizeof(page), nullptr),
            kWhvEInvalidPartitionConfig);
}

TEST(WhpxIrq, SignalMsiRequestsTheDecodedInterrupt) {
  WhpxTestBed bed;
  ASSERT_OK(bed.Init());
  ASSERT_OK(bed.vm->CreateIrqChip(IrqChipKind::kSplit));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, bed.vm->CreateVcpu(0));
  bed.fake->ClearCalls();
  // Logical destination 2, level-triggered asserted fixed vector 0x41.
  ASSERT_OK_AND_ASSIGN(bool delivered,
                       bed.vm->SignalMsi(Msi(0xfee02004, 0xc041)));
  EXPECT_TRUE(delivered);
  EXPECT_THAT(bed.fake->CallNames(), ElementsAre("WHvRequestInterrupt"));
  EXPECT_THAT(bed.fake->calls()[0].args, HasSubstr("size 16"));
  const std::vector<WHV_INTERRUPT_CONTROL> requested =
      bed.fake->RequestedInterrupts();
  ASSERT_EQ(requested.size(), 1u);
  EXPECT_EQ(requested[0].TypeModes,
            TypeModes(WHvX64InterruptTypeFixed,
                      WHvX64InterruptDestinationModeLogical,
                      WHvX64InterruptTriggerModeLevel));
  EXPECT_EQ(requested[0].Destination, 2u);
  EXPECT_EQ(requested[0].Vector, 0x41u);
  EXPECT_EQ(bed.fake->InterruptsDelivered(0x41), 1u);

  // Refused messages make no call.
  bed.fake->ClearCalls();
  EXPECT_THAT(bed.vm->SignalMsi(Msi(0xfee00000, 0x740)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("ExtINT")));
  MsiMessage with_id = Msi(0xfee00000, 0x40);
  with_id.device_id = 7;
  EXPECT_THAT(bed.vm->SignalMsi(with_id),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("device id 7")));
  EXPECT_THAT(bed.fake->calls(), IsEmpty());

  // WHPX's refusal names the call, the message and the HRESULT.
  bed.fake->FailNext("WHvRequestInterrupt", kEInvalidArg);
  EXPECT_THAT(bed.vm->SignalMsi(Msi(0xfee00000, 0x40)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("WHvRequestInterrupt (MSI address 0xfee00000, "
                                 "data 0x40): E_INVALIDARG")));
}

TEST(WhpxIrq, SignalMsiBeforeAnyVcpuSetsThePartitionUp) {
  WhpxTestBed bed;
  ASSERT_OK(bed.Init());
  ASSERT_OK(bed.vm->CreateIrqChip(IrqChipKind::kSplit));
  bed.fake->ClearCalls();
  ASSERT_OK(bed.vm->SignalMsi(Msi(0xfee00000, 0x40)));
  EXPECT_THAT(bed.fake->CallNames(),
              ElementsAre("WHvSetupPartition", "WHvRequestInterrupt"));
}

TEST(WhpxIrq, WithoutApicEmulationEverythingIsUnimplemented) {
  testing::WhpxFake::Options options;
  options.features &= ~kFeatureLocalApicEmulation;
  WhpxTestBed bed(options);
  ASSERT_OK(bed.Init());
  EXPECT_FALSE(bed.hypervisor->CheckCapability(HypervisorCap::kSplitIrqChip));
  EXPECT_FALSE(bed.vm->CheckCapability(VmCap::kSignalMsi));
  bed.fake->ClearCalls();
  EXPECT_THAT(bed.vm->CreateIrqChip(IrqChipKind::kSplit),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("LocalApicEmulation")));
  EXPECT_THAT(bed.vm->SignalMsi(Msi(0xfee00000, 0x40)),
              StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(bed.fake->calls(), IsEmpty());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, bed.vm->CreateVcpu(0));
  EXPECT_THAT(vcpu->AsX86_64()->GetLapic(),
              StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(vcpu->AsX86_64()->SetLapic(LapicState()),
              StatusIs(absl::StatusCode::kUnimplemented));
}

TEST(WhpxIrq, LapicStateCallsMissingFromTheDllAreUnimplemented) {
  testing::WhpxFake::Options options;
  options.interrupt_controller_state_calls = false;
  WhpxTestBed bed(options);
  ASSERT_OK(bed.Init());
  ASSERT_OK(bed.vm->CreateIrqChip(IrqChipKind::kSplit));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, bed.vm->CreateVcpu(0));
  EXPECT_THAT(vcpu->AsX86_64()->GetLapic(),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("InterruptControllerState2")));
  // MSIs do not need them.
  EXPECT_OK(bed.vm->SignalMsi(Msi(0xfee00000, 0x40)));
}

uint32_t Reg32(const LapicState& state, size_t offset) {
  uint32_t value;
  std::memcpy(&value, &state.regs[offset], sizeof(value));
  return value;
}

void SetReg32(LapicState& state, size_t offset, uint32_t value) {
  std::memcpy(&state.regs[offset], &value, sizeof(value));
}

TEST(WhpxIrq, LapicStateRoundTripsThroughTheRegisterPage) {
  WhpxTestBed bed;
  ASSERT_OK(bed.Init());
  ASSERT_OK(bed.vm->CreateIrqChip(IrqChipKind::kSplit));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu0, bed.vm->CreateVcpu(0));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, bed.vm->CreateVcpu(1));
  VcpuX86_64* x86 = vcpu->AsX86_64();
  bed.fake->ClearCalls();
  ASSERT_OK_AND_ASSIGN(LapicState state, x86->GetLapic());
  EXPECT_THAT(bed.fake->CallNames(),
              ElementsAre("WHvGetVirtualProcessorInterruptControllerState2"));
  EXPECT_THAT(bed.fake->calls()[0].args, HasSubstr("vp 1, size 4096"));
  // The APIC ID register (offset 0x20, Intel SDM Vol. 3A, Table 11-1):
  // bits 31:24 the id.
  EXPECT_EQ(Reg32(state, 0x20), 1u << 24);
  // TPR (0x80), SVR (0xf0) and LVT LINT0 (0x350) changed.
  SetReg32(state, 0x80, 0x20);
  SetReg32(state, 0xf0, 0x1ff);
  SetReg32(state, 0x350, 0x700);
  bed.fake->ClearCalls();
  ASSERT_OK(x86->SetLapic(state));
  EXPECT_THAT(bed.fake->CallNames(),
              ElementsAre("WHvGetVirtualProcessorInterruptControllerState2",
                          "WHvSetVirtualProcessorInterruptControllerState2"));
  ASSERT_OK_AND_ASSIGN(LapicState back, x86->GetLapic());
  EXPECT_EQ(back.regs, state.regs);
  // WHPX's page holds hv's 1 KiB at its start, the rest as it was.
  ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> page, bed.fake->LapicPage(1));
  ASSERT_EQ(page.size(), kLapicStateSize);
  EXPECT_EQ(std::memcmp(page.data(), state.regs.data(), state.regs.size()), 0);
  EXPECT_EQ(std::vector<uint8_t>(page.begin() + 1024, page.end()),
            std::vector<uint8_t>(kLapicStateSize - 1024, 0));
  // vCPU 0 is untouched.
  ASSERT_OK_AND_ASSIGN(LapicState other, vcpu0->AsX86_64()->GetLapic());
  EXPECT_EQ(Reg32(other, 0x20), 0u);
  EXPECT_EQ(Reg32(other, 0x80), 0u);

  // A refused set leaves the state as it was and names the call.
  LapicState changed = state;
  SetReg32(changed, 0x80, 0x30);
  bed.fake->FailNext("WHvSetVirtualProcessorInterruptControllerState2",
                     kWhvEInvalidVpState);
  EXPECT_THAT(x86->SetLapic(changed),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("WHvSetVirtualProcessorInterruptController"
                                 "State2 (vCPU 1, 4096 bytes)")));
  ASSERT_OK_AND_ASSIGN(back, x86->GetLapic());
  EXPECT_EQ(back.regs, state.regs);
}

}  // namespace
}  // namespace hv
