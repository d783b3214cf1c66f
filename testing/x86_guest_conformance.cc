#include "testing/x86_guest_conformance.h"

#include <utility>

#include "hypervisor/os/status_macros.h"
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

absl::StatusOr<std::unique_ptr<Vm>> X86GuestConformance::NewVm() {
  ASSIGN_OR_RETURN(std::unique_ptr<Vm> vm, hypervisor_->CreateVm());
  if (GetParam().prepare_to_run) {
    RETURN_IF_ERROR(GetParam().prepare_to_run(*vm));
  }
  return vm;
}

void X86GuestConformance::SetUp() {
  ASSERT_NO_FATAL_FAILURE(BackendTest::SetUp());
  if (IsSkipped()) return;
  ASSERT_OK_AND_ASSIGN(vm_, NewVm());
  ASSERT_OK_AND_ASSIGN(guest_, GuestFixture::Create(*vm_));
}

void X86GuestConformance::TearDown() {
  // The fixture's vCPU before its VM, the VM before its hypervisor.
  guest_.reset();
  vm_.reset();
  BackendTest::TearDown();
}

}  // namespace hv::testing
