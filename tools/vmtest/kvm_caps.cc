#include "tools/vmtest/kvm_caps.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/vmtest/fd.h"

namespace hv_vmtest {
namespace {

struct CapName {
  int number;
  const char* name;
};

// Generated from <linux/kvm.h> by the :kvm_cap_names genrule.
constexpr CapName kCapNames[] = {
#include "tools/vmtest/kvm_cap_names.inc"
};

absl::Status ErrnoError(const std::string& what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace

std::string KvmCapName(int number) {
  for (const CapName& cap : kCapNames) {
    if (cap.number == number) return cap.name;
  }
  return "";
}

absl::StatusOr<std::vector<KvmCap>> QueryKvmCaps(const std::string& device) {
  Fd kvm(open(device.c_str(), O_RDWR | O_CLOEXEC));
  if (kvm.get() < 0) return ErrnoError(absl::StrCat("open ", device));
  Fd vm(ioctl(kvm.get(), KVM_CREATE_VM, 0));
  if (vm.get() < 0) return ErrnoError("KVM_CREATE_VM");
  const bool vm_checks =
      ioctl(kvm.get(), KVM_CHECK_EXTENSION, KVM_CAP_CHECK_EXTENSION_VM) > 0;

  std::vector<KvmCap> caps;
  for (int number = 0; number <= kMaxKvmCap; ++number) {
    KvmCap cap{number, KvmCapName(number), 0, -1};
    // Unknown numbers answer 0; a negative answer is an error and counts as 0.
    int value = ioctl(kvm.get(), KVM_CHECK_EXTENSION, number);
    cap.system_value = value > 0 ? value : 0;
    if (vm_checks) {
      value = ioctl(vm.get(), KVM_CHECK_EXTENSION, number);
      cap.vm_value = value > 0 ? value : 0;
    }
    caps.push_back(cap);
  }
  return caps;
}

std::string FormatKvmCaps(const std::vector<KvmCap>& caps) {
  std::string out;
  for (const KvmCap& cap : caps) {
    if (cap.system_value == 0 && cap.vm_value <= 0) continue;
    absl::StrAppendFormat(&out, "%3d %-36s %d", cap.number,
                          cap.name.empty() ? "?" : cap.name, cap.system_value);
    if (cap.vm_value >= 0 && cap.vm_value != cap.system_value) {
      absl::StrAppendFormat(&out, " vm=%d", cap.vm_value);
    }
    out += "\n";
  }
  return out;
}

}  // namespace hv_vmtest
