// The Example block of each header in tools/vmtest, pasted as it stands
// there under a line naming the header (tools/examples_check.sh) and run, so
// an example that no longer matches the code stops the build.
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/vmtest/kvm_caps.h"

namespace hv_vmtest {
namespace {

// tools/vmtest/kvm_caps.h
std::string KvmCapsExample() {
  std::ostringstream printed;
  std::streambuf* cout_buffer = std::cout.rdbuf(printed.rdbuf());
  absl::StatusOr<std::vector<hv_vmtest::KvmCap>> caps =
      hv_vmtest::QueryKvmCaps("/dev/kvm");
  if (caps.ok()) std::cout << hv_vmtest::FormatKvmCaps(*caps);
  std::cout.rdbuf(cout_buffer);
  return printed.str();
}

TEST(VmtestExamples, KvmCaps) {
  // Without a usable /dev/kvm here it prints nothing; with one, the
  // capability every KVM has.
  const std::string printed = KvmCapsExample();
  if (!printed.empty()) {
    EXPECT_THAT(printed, ::testing::HasSubstr("KVM_CAP_USER_MEMORY"));
  }
  EXPECT_EQ(FormatKvmCaps({}), "");
}

}  // namespace
}  // namespace hv_vmtest
