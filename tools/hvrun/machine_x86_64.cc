// The x86_64 part of hvrun's Machine (machine.h): RAM at 0, vCPUs started
// in real, protected or long mode by hv's boot-state helper, COM1 and the
// debug-exit port.
#include <algorithm>
#include <cstdint>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/arch_bits.h"
#include "hypervisor/x86_64/boot.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "tools/hvrun/machine.h"

namespace hv {
namespace {

constexpr uint16_t kSerialPort = 0x3f8;       // COM1 data
constexpr uint16_t kSerialLineStatus = 0x3fd;  // COM1 + 5
// Line status: transmitter holding register and shift register empty
// (16550 UART, LSR bits 5 and 6).
constexpr uint8_t kLineStatusIdle = 0x60;
constexpr uint16_t kDebugExitPort = 0xf4;
// Where hv's boot helper writes the GDT and page tables.
constexpr GuestAddress kBootTables = 0x1000;
// Real mode: ss = 0, each vCPU's 1 KiB stack below 0x8000, all of them
// above hv's table area (unused in real mode, kept clear all the same).
constexpr uint64_t kRealModeStackTop = 0x8000;
constexpr uint64_t kRealModeStackPerVcpu = 0x400;
constexpr uint64_t kRealModeStackFloor = 0x1000;
// Protected and long mode: 64 KiB per vCPU below the end of RAM or 4 GiB,
// whichever is lower (32-bit code and hv's page tables reach 4 GiB).
constexpr uint64_t kStackPerVcpu = 0x10000;
constexpr uint64_t kReachableTop = 1ull << 32;
// Real mode reaches 1 MiB (plus the HMA, which hvrun does not promise).
constexpr uint64_t kRealModeLimit = 1ull << 20;
constexpr MachineLayout kLayout = {
    "x86_64",                   // arch
    0,                          // ram_base
    0x10000,                    // default_load_address
    "real",                     // default_mode
    "real, protected or long",  // modes
    true,                       // console_is_port
    kSerialPort,                // console_address
    kSerialLineStatus,          // console_status_address
    kLineStatusIdle,            // console_status_value
    8,                          // console_size
    true,                       // debug_exit_is_port
    kDebugExitPort,             // debug_exit_address
    true,                       // debug_exit_ends_run
};

absl::StatusOr<X86Mode> ModeOf(const MachineOptions& o) {
  return ParseX86Mode(o.mode.empty() ? kLayout.default_mode : o.mode);
}

// The stack vCPU `index` starts with: its initial rsp (sp, with ss = 0).
uint64_t StackTop(X86Mode mode, uint64_t ram_size, uint32_t index) {
  if (mode == X86Mode::kReal) return kRealModeStackTop - index * kRealModeStackPerVcpu;
  return std::min(ram_size, kReachableTop) - uint64_t{index} * kStackPerVcpu;
}

bool Overlaps(uint64_t a_start, uint64_t a_end, uint64_t b_start, uint64_t b_end) {
  return a_start < b_end && b_start < a_end;
}

// Every vCPU's stack fits where the mode reaches and clear of hv's tables
// (kept clear in real mode too) and of the payload.
absl::Status CheckStacks(const MachineOptions& o, X86Mode mode, GuestAddress load) {
  const uint64_t per_vcpu = mode == X86Mode::kReal ? kRealModeStackPerVcpu : kStackPerVcpu;
  const uint64_t top = mode == X86Mode::kReal ? kRealModeStackTop
                                              : std::min(o.mem_size, kReachableTop);
  const uint64_t floor = kBootTables + kX86BootTablesSize;
  const uint64_t real_floor = mode == X86Mode::kReal ? kRealModeStackFloor : floor;
  if (top > o.mem_size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "machine: real-mode stacks live below %#x; --mem=%#x does not reach it",
        kRealModeStackTop, o.mem_size));
  }
  if (uint64_t{o.vcpus} > (top - real_floor) / per_vcpu) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "machine: %u vCPUs need %#x bytes of stack (%#x each) in [%#x, %#x), which "
        "holds %u in %s mode",
        o.vcpus, uint64_t{o.vcpus} * per_vcpu, per_vcpu, real_floor, top,
        (top - real_floor) / per_vcpu, X86ModeName(mode)));
  }
  const uint64_t bottom = top - uint64_t{o.vcpus} * per_vcpu;
  if (Overlaps(bottom, top, load, load + o.payload.size())) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "machine: payload [%#x, %#x) overlaps the vCPUs' stacks [%#x, %#x); move it "
        "with --load_addr or change --mem/--vcpus",
        load, load + o.payload.size(), bottom, top));
  }
  return absl::OkStatus();
}

}  // namespace

const MachineLayout& MachineLayoutForTarget() { return kLayout; }

namespace machine_internal {

absl::Status CheckArchOptions(const MachineOptions& o, GuestAddress load,
                              GuestAddress entry) {
  ASSIGN_OR_RETURN(X86Mode mode, ModeOf(o));
  if (mode != X86Mode::kReal &&
      Overlaps(load, load + o.payload.size(), kBootTables, kBootTables + kX86BootTablesSize)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "machine: payload at %#x overlaps hv's boot tables at [%#x, %#x)", load,
        kBootTables, kBootTables + kX86BootTablesSize));
  }
  if (mode == X86Mode::kReal && entry >= kRealModeLimit) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "machine: entry %#x is beyond real mode's 1 MiB; use --mode=protected or long",
        entry));
  }
  if (mode != X86Mode::kReal && entry >= kReachableTop) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "machine: entry %#x is beyond the 4 GiB %s mode reaches", entry,
        X86ModeName(mode)));
  }
  return CheckStacks(o, mode, load);
}

std::string DescribeVcpuRegisters(Vcpu& vcpu) {
  VcpuX86_64* x86 = vcpu.AsX86_64();
  if (x86 == nullptr) return "(not an x86_64 vCPU)";
  absl::StatusOr<Regs> r = x86->GetRegs();
  if (!r.ok()) return absl::StrCat("(cannot read them: ", r.status().message(), ")");
  return absl::StrFormat(
      "rip=%#x rsp=%#x rflags=%#x rax=%#x rbx=%#x rcx=%#x rdx=%#x rsi=%#x rdi=%#x "
      "rbp=%#x r8=%#x r9=%#x r10=%#x r11=%#x r12=%#x r13=%#x r14=%#x r15=%#x",
      r->rip, r->rsp, r->rflags, r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rbp,
      r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15);
}

absl::StatusOr<std::unique_ptr<Vcpu>> CreateArchVcpu(
    Vm& vm, uint32_t index, const MachineOptions& o, GuestAddress entry,
    absl::Span<uint8_t> ram) {
  VmX86_64* vm86 = vm.AsX86_64();
  if (vm86 == nullptr) {
    return absl::UnimplementedError("machine: the hypervisor did not create an x86_64 VM");
  }
  ASSIGN_OR_RETURN(X86Mode mode, ModeOf(o));
  ASSIGN_OR_RETURN(std::unique_ptr<VcpuX86_64> vcpu, vm86->CreateVcpuX86_64(index));
  X86BootOptions boot;
  boot.mode = mode;
  boot.entry = entry;
  boot.tables = kBootTables;
  boot.stack = StackTop(mode, ram.size(), index);
  RETURN_IF_ERROR(SetupX86Boot(*vcpu, ram, kLayout.ram_base, boot));
  if (mode != X86Mode::kReal) {
    ASSIGN_OR_RETURN(Sregs sregs, vcpu->GetSregs());
    // SSE in protected and long mode (Intel SDM Vol. 3A, 13.1.3): CR0.MP
    // set, CR0.EM clear, CR4.OSFXSR and CR4.OSXMMEXCPT set.
    sregs.cr0 = (sregs.cr0 | x86::kCr0Mp) & ~x86::kCr0Em;
    sregs.cr4 |= x86::kCr4Osfxsr | x86::kCr4Osxmmexcpt;
    RETURN_IF_ERROR(vcpu->SetSregs(sregs));
  }
  ASSIGN_OR_RETURN(Regs regs, vcpu->GetRegs());
  regs.rdi = index;
  RETURN_IF_ERROR(vcpu->SetRegs(regs));
  return std::unique_ptr<Vcpu>(std::move(vcpu));
}

}  // namespace machine_internal
}  // namespace hv
