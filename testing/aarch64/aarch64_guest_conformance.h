// AArch64GuestConformance: the guest-code conformance suite for aarch64 --
// parameterised tests, written against hv::Hypervisor / hv::VmAArch64 /
// hv::VcpuAArch64 only, that run the aarch64 guest image (guest_image.S
// through AArch64Guest) on every backend that can run aarch64 guest code:
// MMIO, PSCI system events, read-only memory, region removal, dirty logs,
// fd mappings into an arena, SPIs through a GICv3 (irq line and irqfd),
// register round trips the guest confirms, two vCPUs at once, kicks, and the
// error paths of the aarch64 API. A test of a capability the backend lacks
// asserts the documented error instead. It is x86's X86GuestConformance
// (testing/x86_guest_conformance.h) for aarch64, and takes the same
// BackendUnderTest (testing/backend_under_test.h).
//
// The tests live in aarch64_guest_conformance_*.cc of the
// `aarch64_guest_conformance` library (alwayslink, so the linker keeps
// them); a backend's test binary only instantiates them.
//
// Example (a backend's test file):
//   INSTANTIATE_TEST_SUITE_P(
//       KvmAArch64, AArch64GuestConformance,
//       ::testing::Values(hv::testing::RegisteredBackend(
//           "kvm", "kvm", "HV_ALLOW_MISSING_KVM")),
//       hv::testing::BackendName);
#ifndef HV_TESTING_AARCH64_AARCH64_GUEST_CONFORMANCE_H_
#define HV_TESTING_AARCH64_AARCH64_GUEST_CONFORMANCE_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/vcpu_exit.h"
#include "hypervisor/vm.h"
#include "testing/aarch64/guest_fixture.h"
#include "testing/backend_under_test.h"
#include "testing/scripted_guest.h"

namespace hv::testing {

// AArch64GuestConformance: each test gets a new hypervisor (hypervisor_)
// and makes its own guests (NewGuest(): RAM, the image and InitArch) or
// bare aarch64 VMs (NewVm()).
class AArch64GuestConformance : public BackendTest {
 protected:
  // AArch64GuestConformance::NewGuest(): an AArch64Guest with `options` on
  // a new VM of hypervisor_.
  absl::StatusOr<std::unique_ptr<AArch64Guest>> NewGuest(
      AArch64GuestOptions options = {});
  // AArch64GuestConformance::NewVm(): a new VM of hypervisor_, without RAM,
  // GIC or vCPUs.
  absl::StatusOr<std::unique_ptr<Vm>> NewVm();
  // AArch64GuestConformance::GicV3Offered(): whether this backend's VMs
  // offer a GICv3 (VmAArch64::SupportsGic); where they do not, also checks
  // that creating one is UNIMPLEMENTED, as documented.
  absl::StatusOr<bool> GicV3Offered();
};

// WithGic(): the default guest options plus a GICv3.
AArch64GuestOptions WithGic();

// LayoutGicV3(): a GICv3 at guest_layout.h's addresses, with GicConfig's
// default interrupt count.
GicConfig LayoutGicV3();

// Load64() / Store64(): 8 bytes of host memory, as the guest sees them.
uint64_t Load64(const uint8_t* p);
void Store64(uint8_t* p, uint64_t value);

// Answer(): `value` as the data of an MMIO read (its low io.data.size()
// bytes).
void Answer(IoRequest& io, uint64_t value);

// ItsOffered(): whether `hypervisor`'s VMs offer a GICv3 ITS
// (VmCap::kGicIts), asked of a VM made for the question.
absl::StatusOr<bool> ItsOffered(Hypervisor& hypervisor);

}  // namespace hv::testing

#endif  // HV_TESTING_AARCH64_AARCH64_GUEST_CONFORMANCE_H_
