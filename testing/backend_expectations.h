// What every backend's own tests check the same way: the capabilities its
// hypervisor and VMs report, and its entry in the registry. Each returns an
// AssertionResult naming every answer that differs:
//
//   EXPECT_TRUE(HasCapabilities(*hypervisor,
//                               {HypervisorCap::kUserMemory},
//                               {HypervisorCap::kDirtyLog}));
//   EXPECT_TRUE(IsLinkedBackend("kvm", {"device"}));
#ifndef HV_TESTING_BACKEND_EXPECTATIONS_H_
#define HV_TESTING_BACKEND_EXPECTATIONS_H_

#include <initializer_list>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "hypervisor/caps.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/registry.h"
#include "hypervisor/vm.h"

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

}  // namespace hv::testing

#endif  // HV_TESTING_BACKEND_EXPECTATIONS_H_
