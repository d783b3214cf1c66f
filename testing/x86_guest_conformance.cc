#include "testing/x86_guest_conformance.h"

#include <utility>

#include "gmock/gmock.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "testing/status_matchers.h"

namespace hv::testing {

std::vector<uint8_t> LowBytes(uint64_t value, size_t n) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<uint8_t>(value >> (8 * i));
  return bytes;
}

std::vector<uint8_t> Pattern(uint8_t seed, size_t n) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; ++i) {
    bytes[i] = static_cast<uint8_t>(seed + 0x11 * (i + 1));
  }
  return bytes;
}

std::vector<IrqRoute> LegacyRoutes() {
  std::vector<IrqRoute> routes;
  for (uint32_t gsi = 0; gsi < 24; ++gsi) {
    if (gsi < 16 && gsi != 2) {
      routes.push_back(IrqRoute::Pin(gsi, gsi < 8 ? 0 : 1, gsi % 8));
    }
    routes.push_back(IrqRoute::Pin(gsi, 2, gsi == 0 ? 2 : gsi));
  }
  return routes;
}

bool OffersAvx(const std::vector<CpuidEntry>& cpuid) {
  bool avx = false, ymm_state = false;
  for (const CpuidEntry& entry : cpuid) {
    if (entry.function == 1) avx = (entry.ecx >> 28) & 1;
    if (entry.function == 0xd && entry.index == 0) ymm_state = (entry.eax >> 2) & 1;
  }
  return avx && ymm_state;
}

absl::Status EnableAvx(VcpuX86_64& vcpu, const std::vector<CpuidEntry>& cpuid) {
  constexpr uint64_t kXcr0Avx = 0x7;
  RETURN_IF_ERROR(vcpu.SetCpuid(cpuid));
  RETURN_IF_ERROR(vcpu.SetXcrs({Xcr{0, kXcr0Avx}}));
  ASSIGN_OR_RETURN(Sregs sregs, vcpu.GetSregs());
  sregs.cr4 |= uint64_t{1} << 18;  // CR4.OSXSAVE
  return vcpu.SetSregs(sregs);
}

uint64_t Le64(const uint8_t* p) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= static_cast<uint64_t>(p[i]) << (8 * i);
  return value;
}

absl::StatusOr<std::unique_ptr<Vm>> X86GuestConformance::NewVm() {
  return hypervisor_->CreateVm();
}

absl::StatusOr<std::unique_ptr<Vm>>
X86GuestConformance::NewVmWithKernelIrqChip() {
  ASSIGN_OR_RETURN(std::unique_ptr<Vm> vm, NewVm());
  VmX86_64* vm86 = vm->AsX86_64();
  if (vm86 == nullptr) return absl::InternalError("not an x86_64 VM");
  if (!hypervisor_->CheckCapability(HypervisorCap::kIrqChip)) {
    EXPECT_THAT(vm86->CreateIrqChip(IrqChipKind::kKernel),
                StatusIs(absl::StatusCode::kUnimplemented));
    return nullptr;
  }
  RETURN_IF_ERROR(vm86->CreateIrqChip(IrqChipKind::kKernel));
  return vm;
}

void X86GuestConformance::SetUp() {
  ASSERT_NO_FATAL_FAILURE(BackendTest::SetUp());
  if (IsSkipped()) return;
  ASSERT_OK_AND_ASSIGN(vm_, NewVm());
  ASSERT_OK_AND_ASSIGN(guest_, GuestFixture::Create(*vm_));
}

void X86GuestConformance::TearDown() {
  // The fixture's vCPU before its VM, the VM before its hypervisor.
  guest_.reset();
  vm_.reset();
  BackendTest::TearDown();
}

}  // namespace hv::testing
