// tools/vmtest/kvm_caps.h: every KVM_CHECK_EXTENSION answer of a /dev/kvm,
// asked of the system fd and of a VM fd, with the capability's name from the
// build machine's <linux/kvm.h>. Used by kvm_caps (prints the table) and by
// kvm_smoke_test (prints it into the VM test's log).
//
// Example:
//   absl::StatusOr<std::vector<hv_vmtest::KvmCap>> caps =
//       hv_vmtest::QueryKvmCaps("/dev/kvm");
//   if (caps.ok()) std::cout << hv_vmtest::FormatKvmCaps(*caps);
#ifndef HV_TOOLS_VMTEST_KVM_CAPS_H_
#define HV_TOOLS_VMTEST_KVM_CAPS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace hv_vmtest {

// One capability number and what KVM_CHECK_EXTENSION returned for it.
struct KvmCap {
  int number;
  std::string name;  // "KVM_CAP_..." or "" when the header has no name for it
  int system_value;  // on the /dev/kvm fd
  int vm_value;      // on a fresh VM fd (KVM_CAP_CHECK_EXTENSION_VM); -1 if not asked
};

// Highest capability number asked (upstream's highest is in the 240s).
inline constexpr int kMaxKvmCap = 260;

// QueryKvmCaps(device): asks every number 0..kMaxKvmCap of `device` and of a
// VM created on it. Fails when the device cannot be opened or a VM created.
absl::StatusOr<std::vector<KvmCap>> QueryKvmCaps(const std::string& device);

// KvmCapName(number): the <linux/kvm.h> name of a capability number, or "".
std::string KvmCapName(int number);

// FormatKvmCaps(caps): one line per non-zero capability,
// "<number> <name> <system value>[ vm=<vm value> when it differs]".
std::string FormatKvmCaps(const std::vector<KvmCap>& caps);

}  // namespace hv_vmtest

#endif  // HV_TOOLS_VMTEST_KVM_CAPS_H_
