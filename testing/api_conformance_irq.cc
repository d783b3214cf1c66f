// ApiConformance: GSI routing, MSIs, the arm64 GICv3 ITS and resample
// irqfds (issue 17). What a
// backend offers it does for real; what it lacks is UNIMPLEMENTED with the
// capability false. Bad tables are refused with INVALID_ARGUMENT before the
// hypervisor is asked. Delivery to a real guest's local APIC is in
// x86_guest_conformance_irq.cc.

#include <cstdint>
#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/os/eventfd.h"
#include "testing/api_conformance.h"
#include "testing/backend_expectations.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::HasSubstr;

// An x86 fixed-delivery MSI to local APIC 0 at `vector` (Intel SDM Vol. 3,
// Section 11.11: address 0xfee00000 | destination << 12, data = vector).
MsiMessage X86Msi(uint8_t vector) {
  MsiMessage msi;
  msi.address = 0xfee00000;
  msi.data = vector;
  return msi;
}

// A pin route the VM's irqchip has: x86 IOAPIC (chip 2) pin `pin`; arm64
// GIC (chip 0) SPI `pin`.
IrqRoute PinRoute(const Vm& vm, uint32_t gsi, uint32_t pin) {
  const bool x86 = const_cast<Vm&>(vm).AsX86_64() != nullptr;
  return IrqRoute::Pin(gsi, x86 ? 2 : 0, pin);
}

TEST_P(ApiConformance, GsiRoutingFollowsTheCapability) {
  const std::vector<IrqRoute> table = {PinRoute(*vm_, 5, 5)};
  if (!vm_->CheckCapability(VmCap::kGsiRouting)) {
    EXPECT_EQ(vm_->MaxGsiRoutes(), 0u);
  }
  HV_UNIMPLEMENTED_WITHOUT(*vm_, VmCap::kGsiRouting,
                           vm_->SetGsiRouting(table));
  const uint32_t max = vm_->MaxGsiRoutes();
  ASSERT_GT(max, 24u) << "a routing table too small for one IOAPIC";
  if (vm_->AsX86_64() != nullptr) {
    // The local APICs that routes end at are the irqchip's.
    EXPECT_THAT(vm_->SetGsiRouting(table),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("irqchip")));
  }
  ASSERT_OK(EnsureIrqChip());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, NewRunnableVcpu(0));
  ASSERT_OK(FinishIrqChip());
  ASSERT_OK(vm_->SetGsiRouting(table));
  // An empty table is a table: every route removed.
  ASSERT_OK(vm_->SetGsiRouting({}));
  ASSERT_OK(vm_->SetGsiRouting(table));
}

TEST_P(ApiConformance, GsiRoutingRefusesBadTables) {
  HV_UNIMPLEMENTED_WITHOUT(*vm_, VmCap::kGsiRouting,
                           vm_->SetGsiRouting({PinRoute(*vm_, 1, 1)}));
  ASSERT_OK(EnsureIrqChip());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, NewRunnableVcpu(0));
  ASSERT_OK(FinishIrqChip());
  const uint32_t max = vm_->MaxGsiRoutes();
  // A GSI past the kernel's last one.
  EXPECT_THAT(vm_->SetGsiRouting({PinRoute(*vm_, max, 1)}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("beyond the last GSI")));
  // More routes than the table holds (each valid on its own).
  std::vector<IrqRoute> too_many;
  for (uint32_t i = 0; i <= max; ++i) {
    too_many.push_back(IrqRoute::Msi(i % max, X86Msi(0x40)));
  }
  EXPECT_THAT(vm_->SetGsiRouting(too_many),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("more than the")));
  // One GSI twice to the same chip.
  EXPECT_THAT(
      vm_->SetGsiRouting({PinRoute(*vm_, 3, 3), PinRoute(*vm_, 3, 4)}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("both route GSI 3")));
  // An MSI shares its GSI with nothing, in either order.
  EXPECT_THAT(vm_->SetGsiRouting(
                  {PinRoute(*vm_, 7, 7), IrqRoute::Msi(7, X86Msi(0x41))}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("only route")));
  EXPECT_THAT(vm_->SetGsiRouting(
                  {IrqRoute::Msi(7, X86Msi(0x41)), PinRoute(*vm_, 7, 7)}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("only route")));
  // Nothing above changed the table: a good one is still accepted.
  ASSERT_OK(vm_->SetGsiRouting({PinRoute(*vm_, 3, 3)}));
}

TEST_P(ApiConformance, SignalMsiFollowsTheCapability) {
  HV_UNIMPLEMENTED_WITHOUT(*vm_, VmCap::kSignalMsi,
                           vm_->SignalMsi(X86Msi(0x40)).status());
  if (vm_->AsX86_64() == nullptr) {
    GTEST_SKIP() << GetParam().name
                 << ": an arm64 MSI needs a GICv3 ITS "
                    "(GicItsFollowsTheCapability)";
  }
  EXPECT_THAT(vm_->SignalMsi(X86Msi(0x40)).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("irqchip")));
  ASSERT_OK(EnsureIrqChip());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, NewRunnableVcpu(0));
  ASSERT_OK(FinishIrqChip());
  // Delivered or blocked (the APIC of a vCPU that never ran is still
  // software-disabled), but accepted.
  EXPECT_OK(vm_->SignalMsi(X86Msi(0x40)).status());
  // x86 has no use for a device id.
  MsiMessage with_id = X86Msi(0x40);
  with_id.device_id = 7;
  EXPECT_THAT(vm_->SignalMsi(with_id).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("device id 7")));
}

// The arm64 ITS: created only where VmCap::kGicIts says so (after a
// GICv3), then MSIs carry device ids; its state reads and writes back.
// Elsewhere every ITS call is UNIMPLEMENTED. LPI delivery to a real guest
// is in aarch64_guest_conformance_irq.cc.
TEST_P(ApiConformance, GicItsFollowsTheCapability) {
  VmAArch64* arm = vm_->AsAArch64();
  if (arm == nullptr) {
    EXPECT_FALSE(vm_->CheckCapability(VmCap::kGicIts)) << "no GIC on x86";
    return;
  }
  constexpr uint64_t kItsBase = 0x08080000;  // QEMU virt's, between the
                                             // suite's GIC frames
  if (!vm_->CheckCapability(VmCap::kGicIts)) {
    EXPECT_THAT(arm->CreateGicIts(kItsBase),
                StatusIs(absl::StatusCode::kUnimplemented));
    EXPECT_THAT(arm->GetGicItsState().status(),
                StatusIs(absl::StatusCode::kUnimplemented));
    EXPECT_THAT(arm->SetGicItsState({}),
                StatusIs(absl::StatusCode::kUnimplemented));
    return;
  }
  EXPECT_THAT(arm->CreateGicIts(kItsBase),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("GICv3")));
  ASSERT_OK(EnsureIrqChip());
  EXPECT_FALSE(vm_->CheckCapability(VmCap::kSignalMsi));
  ASSERT_OK(arm->CreateGicIts(kItsBase));
  EXPECT_TRUE(vm_->CheckCapability(VmCap::kSignalMsi));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, NewRunnableVcpu(0));
  ASSERT_OK(FinishIrqChip());
  MsiMessage msi;
  msi.address = kItsBase + VmAArch64::kGitsTranslaterOffset;
  msi.device_id = 2;
  if (vm_->CheckCapability(VmCap::kGsiRouting)) {
    ASSERT_OK(vm_->SetGsiRouting({IrqRoute::Msi(4, msi)}));
    msi.device_id.reset();
    EXPECT_THAT(vm_->SetGsiRouting({IrqRoute::Msi(4, msi)}),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("device id")));
  }
  ASSERT_OK_AND_ASSIGN(GicItsState state, arm->GetGicItsState());
  EXPECT_OK(arm->SetGicItsState(state));
}

TEST_P(ApiConformance, ResampleIrqfdsFollowTheCapability) {
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  ASSERT_OK_AND_ASSIGN(EventFd resample, EventFd::Create());
  // The same eventfd for both is refused on every backend.
  EXPECT_THAT(vm_->RegisterResampleIrqfd(event, 5, event),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("same eventfd")));
  HV_UNIMPLEMENTED_WITHOUT(*vm_, VmCap::kIrqfdResample,
                           vm_->RegisterResampleIrqfd(event, 5, resample));
  if (vm_->AsX86_64() != nullptr) {
    EXPECT_THAT(vm_->RegisterResampleIrqfd(event, 5, resample),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("irqchip")));
  }
  ASSERT_OK(EnsureIrqChip());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vcpu> vcpu, NewRunnableVcpu(0));
  ASSERT_OK(FinishIrqChip());
  ASSERT_OK(vm_->RegisterResampleIrqfd(event, 5, resample));
  // One irqfd per eventfd: the second registration fails, the first stays.
  EXPECT_FALSE(vm_->RegisterResampleIrqfd(event, 6, resample).ok());
  ASSERT_OK(vm_->UnregisterIrqfd(event, 5));
}

}  // namespace
}  // namespace hv::testing
