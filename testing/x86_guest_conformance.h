// X86GuestConformance: the guest-code conformance suite for x86_64 --
// parameterised tests, written against hv::Hypervisor / hv::Vm / hv::Vcpu
// only, that run real x86 guest programs (testing/guest/*.S through
// GuestFixture) on every backend that can run guest code. A test of a
// capability the backend lacks asserts the documented error instead. The
// suite without guest code is ApiConformance (api_conformance.h); both take
// a BackendUnderTest (backend_under_test.h).
//
// The tests live in x86_guest_conformance_*.cc of the
// `x86_guest_conformance` library (alwayslink, so the linker keeps them); a
// backend's test binary only instantiates them.
//
// Example (a backend's test file):
//   INSTANTIATE_TEST_SUITE_P(
//       Kvm, X86GuestConformance,
//       ::testing::Values(hv::testing::RegisteredBackend(
//           "kvm", "kvm", "HV_ALLOW_MISSING_KVM")),
//       hv::testing::BackendName);
#ifndef HV_TESTING_X86_GUEST_CONFORMANCE_H_
#define HV_TESTING_X86_GUEST_CONFORMANCE_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/vm.h"
#include "testing/backend_under_test.h"
#include "testing/guest_fixture.h"

namespace hv::testing {

// Both 64-bit modes: CPL0 (emulated on nested-PVM KVM) and CPL3 (native).
inline constexpr GuestMode kLongModes[] = {GuestMode::kLong,
                                           GuestMode::kLongUser};

// LowBytes(): the `n` low bytes of `value`, least significant first.
std::vector<uint8_t> LowBytes(uint64_t value, size_t n);

// Pattern(): `n` test bytes; byte i is (seed + 0x11 * (i + 1)) mod 256, so
// neighbouring bytes differ and patterns of different seeds differ at every
// position.
std::vector<uint8_t> Pattern(uint8_t seed, size_t n);

// Le64(): the 8 bytes at `p` as a little-endian integer.
uint64_t Le64(const uint8_t* p);

// LegacyRoutes(): the default routes of KVM's full irqchip for GSIs 0-23
// (PIC pins for 0-15 but 2, I/O APIC pins for all; GSI 0 to I/O APIC pin
// 2), so that a table that adds MSI routes keeps the legacy lines working.
std::vector<IrqRoute> LegacyRoutes();

// OffersAvx(): whether `cpuid` (a hypervisor's supported CPUID) offers AVX
// with XSAVE-managed state: CPUID.1:ECX.AVX[28] and CPUID.(0xd,0):EAX bit 2
// (Intel SDM Vol. 1, Section 13.2).
bool OffersAvx(const std::vector<CpuidEntry>& cpuid);

// EnableAvx(): gives a loaded vCPU `cpuid`, XCR0 with x87, SSE and AVX
// (Vol. 1, Section 13.3) and CR4.OSXSAVE (Vol. 3, Section 2.5), so its
// guest code may use AVX. Needs HypervisorCap::kXcrs and OffersAvx(cpuid).
absl::Status EnableAvx(VcpuX86_64& vcpu, const std::vector<CpuidEntry>& cpuid);

// X86GuestConformance: each test gets a new hypervisor, an x86_64 VM without
// an irqchip and a GuestFixture on it (guest_); tests that need an irqchip
// make their own VM with NewVm().
class X86GuestConformance : public BackendTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  // X86GuestConformance::NewVm(): another VM of the same hypervisor.
  absl::StatusOr<std::unique_ptr<Vm>> NewVm();
  // X86GuestConformance::NewVmWithKernelIrqChip(): NewVm() with the
  // kernel's interrupt controllers (CreateIrqChip(kKernel)); an x86_64 VM
  // or an error. Where the hypervisor has none (HypervisorCap::kIrqChip),
  // checks that creating them is UNIMPLEMENTED and returns nullptr.
  absl::StatusOr<std::unique_ptr<Vm>> NewVmWithKernelIrqChip();

  std::unique_ptr<Vm> vm_;
  std::unique_ptr<GuestFixture> guest_;
};

}  // namespace hv::testing

#endif  // HV_TESTING_X86_GUEST_CONFORMANCE_H_
