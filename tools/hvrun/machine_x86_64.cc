// The x86_64 part of hvrun's Machine (machine.h): RAM at 0, vCPUs started
// in real, protected or long mode by hv's boot-state helper, COM1 and the
// debug-exit port.
#include <cstdint>
#include <memory>

#include "absl/strings/str_format.h"
#include "hypervisor/os/status_macros.h"
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
constexpr uint64_t kRealModeStackTop = 0x8000;
constexpr uint64_t kStackPerVcpu = 0x10000;

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

}  // namespace

const MachineLayout& MachineLayoutForTarget() { return kLayout; }

namespace machine_internal {

absl::Status CheckArchOptions(const MachineOptions& o, GuestAddress load) {
  ASSIGN_OR_RETURN(X86Mode mode, ModeOf(o));
  if (mode != X86Mode::kReal && load < kBootTables + kX86BootTablesSize &&
      load + o.payload.size() > kBootTables) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "machine: payload at %#x overlaps hv's boot tables at [%#x, %#x)", load,
        kBootTables, kBootTables + kX86BootTablesSize));
  }
  return absl::OkStatus();
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
  boot.stack = mode == X86Mode::kReal ? kRealModeStackTop - index * 0x400
                                      : ram.size() - index * kStackPerVcpu;
  RETURN_IF_ERROR(SetupX86Boot(*vcpu, ram, kLayout.ram_base, boot));
  ASSIGN_OR_RETURN(Regs regs, vcpu->GetRegs());
  regs.rdi = index;
  RETURN_IF_ERROR(vcpu->SetRegs(regs));
  return std::unique_ptr<Vcpu>(std::move(vcpu));
}

}  // namespace machine_internal
}  // namespace hv
