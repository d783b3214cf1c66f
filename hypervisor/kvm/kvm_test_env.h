// Test helper: tests that need /dev/kvm fail loudly where it is missing,
// unless the environment variable HV_ALLOW_MISSING_KVM=1 (never set by CI)
// asks them to skip.
//
// Example:
//   TEST(KvmVm, AddsRegion) {
//     HV_REQUIRE_KVM();
//     ...
//   }
#ifndef HV_HYPERVISOR_KVM_KVM_TEST_ENV_H_
#define HV_HYPERVISOR_KVM_KVM_TEST_ENV_H_

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "gtest/gtest.h"

namespace hv::testing {

// KvmAvailable(): /dev/kvm can be opened read-write.
inline bool KvmAvailable() {
  int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

inline bool MissingKvmAllowed() {
  const char* allow = std::getenv("HV_ALLOW_MISSING_KVM");
  return allow != nullptr && std::strcmp(allow, "1") == 0;
}

}  // namespace hv::testing

// HV_REQUIRE_KVM(): FAILs the test without /dev/kvm, or skips it when
// HV_ALLOW_MISSING_KVM=1.
#define HV_REQUIRE_KVM()                                                   \
  do {                                                                     \
    if (!::hv::testing::KvmAvailable()) {                                  \
      if (::hv::testing::MissingKvmAllowed()) {                            \
        GTEST_SKIP() << "/dev/kvm is missing (HV_ALLOW_MISSING_KVM=1)";    \
      }                                                                    \
      FAIL() << "/dev/kvm cannot be opened; this test needs real KVM "     \
                "(set HV_ALLOW_MISSING_KVM=1 to skip instead)";            \
    }                                                                      \
  } while (false)

#endif  // HV_HYPERVISOR_KVM_KVM_TEST_ENV_H_
