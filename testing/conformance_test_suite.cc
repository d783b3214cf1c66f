#include "testing/conformance_test_suite.h"

#include <cstdlib>

#include "testing/status_matchers.h"

namespace hv::testing {

std::vector<uint8_t> LowBytes(uint64_t value, size_t n) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<uint8_t>(value >> (8 * i));
  return bytes;
}

std::vector<uint8_t> Pattern(uint8_t seed, size_t n) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; ++i) {
    bytes[i] = static_cast<uint8_t>(seed + 0x11 * (i + 1));
  }
  return bytes;
}

uint64_t Le64(const uint8_t* p) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= static_cast<uint64_t>(p[i]) << (8 * i);
  return value;
}

void PrintTo(const BackendUnderTest& backend, std::ostream* os) {
  *os << backend.name;
}

std::string BackendName(
    const ::testing::TestParamInfo<BackendUnderTest>& info) {
  return info.param.name;
}

void Conformance::SetUp() {
  const BackendUnderTest& backend = GetParam();
  absl::StatusOr<std::unique_ptr<Hypervisor>> hypervisor = backend.create();
  if (!hypervisor.ok()) {
    const char* allow = backend.allow_missing_env.empty()
                            ? nullptr
                            : std::getenv(backend.allow_missing_env.c_str());
    if (allow != nullptr && std::string(allow) == "1") {
      GTEST_SKIP() << backend.name << " is unavailable ("
                   << hypervisor.status() << ") and "
                   << backend.allow_missing_env << "=1 allows skipping";
    }
    FAIL() << "backend " << backend.name << " is unavailable: "
           << hypervisor.status()
           << (backend.allow_missing_env.empty()
                   ? ""
                   : " (set " + backend.allow_missing_env +
                         "=1 to skip instead; CI never does)");
  }
  hypervisor_ = *std::move(hypervisor);
  ASSERT_OK_AND_ASSIGN(vm_, hypervisor_->CreateVm());
  ASSERT_OK_AND_ASSIGN(guest_, GuestFixture::Create(*vm_));
}

void Conformance::TearDown() {
  // The fixture's vCPU before its VM, the VM before its hypervisor.
  guest_.reset();
  vm_.reset();
  hypervisor_.reset();
}

}  // namespace hv::testing
