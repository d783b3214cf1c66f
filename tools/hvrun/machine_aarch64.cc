// The aarch64 part of hvrun's Machine (machine.h): RAM at 0x40000000, vCPUs
// initialised with PSCI 0.2 and started at EL1h with the MMU off, a
// PL011-like console data register and a debug-exit register on MMIO.
// There is no interrupt controller: the payloads hvrun runs poll.
#include <cstdint>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hypervisor/aarch64/regs.h"
#include "hypervisor/aarch64/vcpu_aarch64.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/os/status_macros.h"
#include "tools/hvrun/machine.h"

namespace hv {
namespace {

// The guest-physical map follows QEMU's "virt" board where it can: RAM at
// 1 GiB, a PL011 at 0x09000000.
constexpr GuestAddress kRamBase = 0x40000000;
constexpr uint64_t kConsoleBase = 0x09000000;
// PL011 UARTFR (flag register), offset 0x18: TXFE (bit 7) and RXFE (bit 4).
constexpr uint64_t kConsoleFlags = kConsoleBase + 0x18;
constexpr uint8_t kConsoleFlagsIdle = 0x90;
constexpr uint64_t kConsoleSize = 0x1000;
constexpr uint64_t kDebugExitAddress = 0x09010000;
constexpr uint64_t kStackPerVcpu = 0x10000;
// SPSR-format PSTATE at entry: EL1h (M = 0b0101) with D, A, I and F masked.
constexpr uint64_t kPstateEl1hMasked = 0x3c5;

constexpr MachineLayout kLayout = {
    "aarch64",          // arch
    kRamBase,           // ram_base
    kRamBase,           // default_load_address
    "el1",              // default_mode
    "el1",              // modes
    false,              // console_is_port
    kConsoleBase,       // console_address
    kConsoleFlags,      // console_status_address
    kConsoleFlagsIdle,  // console_status_value
    kConsoleSize,       // console_size
    false,              // debug_exit_is_port
    kDebugExitAddress,  // debug_exit_address
    false,              // debug_exit_ends_run: PSCI SYSTEM_OFF does
};

}  // namespace

const MachineLayout& MachineLayoutForTarget() { return kLayout; }

namespace machine_internal {

absl::Status CheckArchOptions(const MachineOptions& o, GuestAddress load,
                              GuestAddress entry) {
  if (!o.mode.empty() && o.mode != "el1") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "aarch64 mode \"%s\": expected el1 (payloads start at EL1h, MMU off)", o.mode));
  }
  if (load % 4 != 0 || entry % 4 != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "machine: load address %#x and entry %#x must be 4-byte aligned on aarch64",
        load, entry));
  }
  if (uint64_t{o.vcpus} > o.mem_size / kStackPerVcpu) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "machine: %u vCPUs need %#x bytes of stack; RAM is %#x bytes", o.vcpus,
        uint64_t{o.vcpus} * kStackPerVcpu, o.mem_size));
  }
  const uint64_t top = kRamBase + o.mem_size;
  const uint64_t bottom = top - uint64_t{o.vcpus} * kStackPerVcpu;
  if (load < top && bottom < load + o.payload.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "machine: payload [%#x, %#x) overlaps the vCPUs' stacks [%#x, %#x); move it "
        "with --load_addr or change --mem/--vcpus",
        load, load + o.payload.size(), bottom, top));
  }
  return absl::OkStatus();
}

std::string DescribeVcpuRegisters(Vcpu& vcpu) {
  VcpuAArch64* arm = vcpu.AsAArch64();
  if (arm == nullptr) return "(not an aarch64 vCPU)";
  std::string out;
  absl::StatusOr<uint64_t> pc = arm->GetOneReg(AArch64Reg::Pc());
  if (!pc.ok()) return absl::StrCat("(cannot read them: ", pc.status().message(), ")");
  absl::StrAppendFormat(&out, "pc=%#x", *pc);
  for (int i = 0; i < 31; ++i) {
    absl::StatusOr<uint64_t> x = arm->GetOneReg(AArch64Reg::X(i));
    if (x.ok()) absl::StrAppendFormat(&out, " x%d=%#x", i, *x);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Vcpu>> CreateArchVcpu(
    Vm& vm, uint32_t index, const MachineOptions& o, GuestAddress entry,
    absl::Span<uint8_t> ram) {
  VmAArch64* arm = vm.AsAArch64();
  if (arm == nullptr) {
    return absl::UnimplementedError("machine: the hypervisor did not create an aarch64 VM");
  }
  const uint64_t stack_top = kRamBase + ram.size() - uint64_t{index} * kStackPerVcpu;
  ASSIGN_OR_RETURN(std::unique_ptr<VcpuAArch64> vcpu, arm->CreateVcpuAArch64(index));
  // Every vCPU runs from the start (none is powered off waiting for
  // CPU_ON); PSCI 0.2 gives SYSTEM_OFF its own exit.
  RETURN_IF_ERROR(vcpu->Init({VcpuFeature::kPsci0_2}));
  RETURN_IF_ERROR(vcpu->SetOneReg(AArch64Reg::Pstate(), kPstateEl1hMasked));
  RETURN_IF_ERROR(vcpu->SetOneReg(AArch64Reg::SpEl1(), stack_top));
  RETURN_IF_ERROR(vcpu->SetOneReg(AArch64Reg::X(0), index));
  RETURN_IF_ERROR(vcpu->SetOneReg(AArch64Reg::X(1), o.vcpus));
  RETURN_IF_ERROR(vcpu->SetOneReg(AArch64Reg::Pc(), entry));
  return std::unique_ptr<Vcpu>(std::move(vcpu));
}

}  // namespace machine_internal
}  // namespace hv
