// kvm_caps: prints every non-zero KVM_CHECK_EXTENSION answer of a KVM device,
// so two kernels' KVMs can be compared line by line.
//
// Example (this machine's KVM, then the standard SVM KVM inside the VM):
//   tools/bazel run //tools/vmtest:kvm_caps
//   tools/bazel run --config=x86-svm-kvm //tools/vmtest:kvm_caps
//   tools/bazel run //tools/vmtest:kvm_caps -- /dev/kvm
#include <cstdio>
#include <string>

#include "tools/vmtest/kvm_caps.h"

int main(int argc, char** argv) {
  const std::string device = argc > 1 ? argv[1] : "/dev/kvm";
  auto caps = hv_vmtest::QueryKvmCaps(device);
  if (!caps.ok()) {
    std::fprintf(stderr, "kvm_caps: %s\n", caps.status().ToString().c_str());
    return 1;
  }
  std::printf("# KVM_CHECK_EXTENSION on %s: number name value [vm=value if the VM fd differs]\n",
              device.c_str());
  std::fputs(hv_vmtest::FormatKvmCaps(*caps).c_str(), stdout);
  return 0;
}
