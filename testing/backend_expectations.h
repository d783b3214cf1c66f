// What every backend's tests check the same way: the capabilities its
// hypervisor and VMs report, its entry in the registry (each an
// AssertionResult naming every answer that differs), the fd-mapping
// argument checks, a run ended by a kick from another thread, and the
// memory a VM test adds (NewTestRegion):
//
//   EXPECT_TRUE(HasCapabilities(*hypervisor,
//                               {HypervisorCap::kUserMemory},
//                               {HypervisorCap::kDirtyLog}));
//   EXPECT_TRUE(IsLinkedBackend("kvm", {"device"}));
#ifndef HV_TESTING_BACKEND_EXPECTATIONS_H_
#define HV_TESTING_BACKEND_EXPECTATIONS_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/caps.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/registry.h"
#include "hypervisor/vcpu.h"
#include "hypervisor/vcpu_exit.h"
#include "hypervisor/vm.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace internal {

inline const char* CapName(HypervisorCap cap) { return HypervisorCapName(cap); }
inline const char* CapName(VmCap cap) { return VmCapName(cap); }

template <typename Subject, typename Cap>
::testing::AssertionResult CapabilitiesAre(const Subject& subject,
                                           std::initializer_list<Cap> offered,
                                           std::initializer_list<Cap> lacking) {
  std::vector<std::string> wrong;
  for (Cap cap : offered) {
    if (!subject.CheckCapability(cap)) {
      wrong.push_back(std::string(CapName(cap)) + " is not reported");
    }
  }
  for (Cap cap : lacking) {
    if (subject.CheckCapability(cap)) {
      wrong.push_back(std::string(CapName(cap)) + " is reported");
    }
  }
  if (wrong.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << absl::StrJoin(wrong, "; ");
}

}  // namespace internal

// NewTestRegion(): `size` bytes of shared memory (MemoryRegion::CreateShared)
// for a test to add to a VM; where they cannot be made, a failure of the
// test and null (which Vm::AddMemoryRegion refuses).
inline std::unique_ptr<MemoryRegion> NewTestRegion(uint64_t size) {
  absl::StatusOr<std::unique_ptr<MemoryRegion>> region =
      MemoryRegion::CreateShared("test-region", size);
  EXPECT_OK(region.status());
  return region.ok() ? *std::move(region) : nullptr;
}

// HasCapabilities(): `hypervisor` (or `vm`) reports every capability of
// `offered` and none of `lacking`.
inline ::testing::AssertionResult HasCapabilities(
    const Hypervisor& hypervisor, std::initializer_list<HypervisorCap> offered,
    std::initializer_list<HypervisorCap> lacking) {
  return internal::CapabilitiesAre(hypervisor, offered, lacking);
}
inline ::testing::AssertionResult HasCapabilities(
    const Vm& vm, std::initializer_list<VmCap> offered,
    std::initializer_list<VmCap> lacking) {
  return internal::CapabilitiesAre(vm, offered, lacking);
}

// IsLinkedBackend(): LinkedBackends() lists `kind`, accepting exactly the
// option keys `options`, in that order.
inline ::testing::AssertionResult IsLinkedBackend(
    const std::string& kind, const std::vector<std::string>& options) {
  for (const BackendInfo& info : LinkedBackends()) {
    if (info.kind != kind) continue;
    if (info.options == options) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << kind << " accepts [" << absl::StrJoin(info.options, ", ")
           << "], not [" << absl::StrJoin(options, ", ") << "]";
  }
  std::vector<std::string> kinds;
  for (const BackendInfo& info : LinkedBackends()) kinds.push_back(info.kind);
  return ::testing::AssertionFailure()
         << kind << " is not linked in; linked: " << absl::StrJoin(kinds, ", ");
}

// ExpectFdMappingArgumentsRefused(): Vm::AddFdMapping of `page` bytes of
// `fd` into `slot` of `vm` (a region of `region_size` bytes) is refused for
// an unknown slot (`unknown_slot`: NOT_FOUND), an unaligned offset
// (INVALID_ARGUMENT), an offset at the region's end (OUT_OF_RANGE) and fd
// -1 (INVALID_ARGUMENT): the checks every backend makes, whether or not it
// has fd mappings.
inline void ExpectFdMappingArgumentsRefused(Vm& vm, MemSlot slot,
                                            MemSlot unknown_slot,
                                            uint64_t region_size, int fd,
                                            uint64_t page) {
  EXPECT_THAT(vm.AddFdMapping(unknown_slot, 0, page, fd, 0, Protection::Read()),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(vm.AddFdMapping(slot, 1, page, fd, 0, Protection::Read()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      vm.AddFdMapping(slot, region_size, page, fd, 0, Protection::Read()),
      StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(vm.AddFdMapping(slot, 0, page, -1, 0, Protection::Read()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// RunKickedAfter(): vcpu.Run(), with vcpu.Kick() made from another thread
// `delay` after the run starts (the Kick itself expected to succeed); what
// Run() returned. A backend whose kick works returns kInterrupted.
inline absl::StatusOr<VcpuExit> RunKickedAfter(Vcpu& vcpu,
                                               absl::Duration delay) {
  std::thread kicker([&vcpu, delay] {
    absl::SleepFor(delay);
    EXPECT_OK(vcpu.Kick());
  });
  absl::StatusOr<VcpuExit> exit = vcpu.Run();
  kicker.join();
  return exit;
}

}  // namespace hv::testing

#endif  // HV_TESTING_BACKEND_EXPECTATIONS_H_
