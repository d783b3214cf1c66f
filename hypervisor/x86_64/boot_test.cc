#include "hypervisor/x86_64/boot.h"

#include <cstring>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::IsOk;
using ::hv::testing::IsOkAndHolds;
using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

// Records the state SetupX86Boot gives it; everything else is unsupported.
class RecordingVcpu : public VcpuX86_64 {
 public:
  uint32_t id() const override { return 0; }
  absl::StatusOr<VcpuExit> Run() override { return Unsupported(); }
  absl::Status HandleIo(absl::FunctionRef<void(IoRequest&)>) override { return Unsupported(); }
  absl::Status HandleMmio(absl::FunctionRef<void(IoRequest&)>) override { return Unsupported(); }
  void SetImmediateExit(bool) override {}
  absl::Status Kick() override { return Unsupported(); }
  absl::StatusOr<Regs> GetRegs() override { return regs; }
  absl::Status SetRegs(const Regs& r) override { regs = r; ++sets; return absl::OkStatus(); }
  absl::StatusOr<Sregs> GetSregs() override { return sregs; }
  absl::Status SetSregs(const Sregs& s) override { sregs = s; ++sets; return absl::OkStatus(); }
  absl::StatusOr<Fpu> GetFpu() override { return Unsupported(); }
  absl::Status SetFpu(const Fpu&) override { return Unsupported(); }
  absl::StatusOr<DebugRegs> GetDebugRegs() override { return Unsupported(); }
  absl::Status SetDebugRegs(const DebugRegs&) override { return Unsupported(); }
  absl::StatusOr<std::vector<Xcr>> GetXcrs() override { return Unsupported(); }
  absl::Status SetXcrs(absl::Span<const Xcr>) override { return Unsupported(); }
  absl::StatusOr<std::vector<MsrEntry>> GetMsrs(absl::Span<const uint32_t>) override { return Unsupported(); }
  absl::Status SetMsrs(absl::Span<const MsrEntry>) override { return Unsupported(); }
  absl::Status SetCpuid(absl::Span<const CpuidEntry>) override { return Unsupported(); }
  absl::StatusOr<LapicState> GetLapic() override { return Unsupported(); }
  absl::Status SetLapic(const LapicState&) override { return Unsupported(); }
  absl::Status InjectInterrupt(uint8_t) override { return Unsupported(); }
  absl::Status InjectNmi() override { return Unsupported(); }
  bool ReadyForInterrupt() const override { return false; }
  void SetInterruptWindowRequested(bool) override {}
  absl::Status SetTscOffset(uint64_t) override { return Unsupported(); }
  absl::StatusOr<uint64_t> GetTscOffset() override { return Unsupported(); }
  absl::StatusOr<uint32_t> GetTscKhz() override { return Unsupported(); }

  Regs regs;
  Sregs sregs;
  int sets = 0;

 private:
  static absl::Status Unsupported() { return absl::UnimplementedError("recording vCPU"); }
};

X86BootOptions Boot(X86Mode mode, GuestAddress entry, GuestAddress tables,
                    bool user_mode = false) {
  X86BootOptions options;
  options.mode = mode;
  options.entry = entry;
  options.tables = tables;
  options.user_mode = user_mode;
  return options;
}

uint64_t Get64(const std::vector<uint8_t>& ram, uint64_t at) {
  uint64_t value;
  std::memcpy(&value, ram.data() + at, 8);
  return value;
}

TEST(SetupX86Boot, RealModeSplitsEntryIntoSegmentAndOffset) {
  RecordingVcpu vcpu;
  std::vector<uint8_t> ram(0x10000);
  X86BootOptions options;
  options.entry = 0x12345;
  ASSERT_THAT(SetupX86Boot(vcpu, absl::MakeSpan(ram), 0, options), IsOk());
  EXPECT_EQ(vcpu.sregs.cs.base, 0x10000u);
  EXPECT_EQ(vcpu.sregs.cs.selector, 0x1000u);
  EXPECT_EQ(vcpu.regs.rip, 0x2345u);
  EXPECT_EQ(vcpu.sregs.cr0 & 1, 0u);
}

TEST(SetupX86Boot, ProtectedModeIsFlat32Bit) {
  RecordingVcpu vcpu;
  std::vector<uint8_t> ram(0x10000);
  ASSERT_THAT(SetupX86Boot(vcpu, absl::MakeSpan(ram), 0,
                           Boot(X86Mode::kProtected, 0x8000, 0x1000)),
              IsOk());
  EXPECT_EQ(vcpu.sregs.cr0 & 1, 1u);
  EXPECT_TRUE(vcpu.sregs.cs.db);
  EXPECT_EQ(vcpu.sregs.cs.limit, 0xffffffffu);
  EXPECT_EQ(vcpu.sregs.gdt.base, 0x1000u);
  // The code descriptor in the GDT: base 0, limit 0xfffff pages, type 0xb,
  // present, 32-bit, granular (Intel SDM Vol. 3, 3.4.5).
  EXPECT_EQ(Get64(ram, 0x1000 + 8 * 1), 0x00cf9b000000ffffull);
  EXPECT_EQ(vcpu.regs.rip, 0x8000u);
}

TEST(SetupX86Boot, LongModeIdentityMapsFourGiB) {
  RecordingVcpu vcpu;
  std::vector<uint8_t> ram(0x20000);
  ASSERT_THAT(SetupX86Boot(vcpu, absl::MakeSpan(ram), 0,
                           Boot(X86Mode::kLong, 0x10000, 0x2000)),
              IsOk());
  EXPECT_EQ(vcpu.sregs.cr3, 0x3000u);
  EXPECT_EQ(vcpu.sregs.efer & 0x500, 0x500u);
  EXPECT_TRUE(vcpu.sregs.cs.l);
  EXPECT_EQ(Get64(ram, 0x3000), 0x4000u | 0x3);             // PML4[0] -> PDPT
  EXPECT_EQ(Get64(ram, 0x4000 + 8 * 3), 0x8000u | 0x3);     // PDPT[3] -> PD 3
  EXPECT_EQ(Get64(ram, 0x8000 + 8 * 511), 0xffe00000u | 0x83);  // last 2 MiB
  EXPECT_EQ(vcpu.regs.rflags & (3 << 12), 0u);
}

TEST(SetupX86Boot, UserModeUsesCpl3SegmentsUserPagesAndIopl3) {
  RecordingVcpu vcpu;
  std::vector<uint8_t> ram(0x20000);
  ASSERT_THAT(SetupX86Boot(vcpu, absl::MakeSpan(ram), 0,
                           Boot(X86Mode::kLong, 0x10000, 0x2000, /*user_mode=*/true)),
              IsOk());
  EXPECT_EQ(vcpu.sregs.cs.dpl, 3);
  EXPECT_EQ(vcpu.sregs.cs.selector & 3, 3);
  EXPECT_EQ(vcpu.sregs.ss.dpl, 3);
  EXPECT_EQ(Get64(ram, 0x3000) & 0x4, 0x4u);
  EXPECT_EQ(vcpu.regs.rflags & (3 << 12), 3u << 12);
}

TEST(SetupX86Boot, RejectsTablesOutsideRamAndTouchesNothing) {
  RecordingVcpu vcpu;
  std::vector<uint8_t> ram(0x4000, 0xaa);
  X86BootOptions options;
  options.mode = X86Mode::kLong;
  options.tables = 0x1000;  // needs seven pages, only three are left
  EXPECT_THAT(SetupX86Boot(vcpu, absl::MakeSpan(ram), 0, options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tables")));
  options.tables = 0x1800;
  EXPECT_THAT(SetupX86Boot(vcpu, absl::MakeSpan(ram), 0, options),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(vcpu.sets, 0);
  EXPECT_EQ(ram[0x1000], 0xaa);
}

// The last page directory (for [3 GiB, 4 GiB)) is the seventh page: tables
// that end exactly at the end of RAM fit, one page less does not, and no
// byte past kX86BootTablesSize is written.
TEST(SetupX86Boot, LongModeTablesTakeExactlyTheirSize) {
  RecordingVcpu vcpu;
  std::vector<uint8_t> ram(0x1000 + kX86BootTablesSize + 0x1000, 0xaa);
  X86BootOptions options;
  options.mode = X86Mode::kLong;
  options.tables = 0x1000;
  ASSERT_TRUE(SetupX86Boot(vcpu, absl::MakeSpan(ram), 0, options).ok());
  // PD 3's last entry maps 0xffe00000 and sits at the end of the 7th page.
  EXPECT_EQ(Get64(ram, 0x1000 + kX86BootTablesSize - 8) & ~0xfffull, 0xffe00000u);
  EXPECT_EQ(ram[0x1000 + kX86BootTablesSize], 0xaa);
  std::vector<uint8_t> short_ram(0x1000 + kX86BootTablesSize - 0x1000, 0xaa);
  EXPECT_THAT(SetupX86Boot(vcpu, absl::MakeSpan(short_ram), 0, options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tables")));
}

TEST(SetupX86Boot, RejectsUnreachableEntries) {
  RecordingVcpu vcpu;
  std::vector<uint8_t> ram(0x10000);
  X86BootOptions options;
  options.entry = 0x100000;
  EXPECT_THAT(SetupX86Boot(vcpu, absl::MakeSpan(ram), 0, options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("above 1 MiB")));
  options.mode = X86Mode::kProtected;
  options.entry = 0x100000000ull;
  EXPECT_THAT(SetupX86Boot(vcpu, absl::MakeSpan(ram), 0, options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("above 4 GiB")));
  EXPECT_EQ(vcpu.sets, 0);
}

TEST(ParseX86Mode, NamesRoundTripAndBadNamesFail) {
  for (X86Mode mode : {X86Mode::kReal, X86Mode::kProtected, X86Mode::kLong}) {
    EXPECT_THAT(ParseX86Mode(X86ModeName(mode)), IsOkAndHolds(mode));
  }
  EXPECT_THAT(ParseX86Mode("virtual8086"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected real, protected or long")));
}

}  // namespace
}  // namespace hv
