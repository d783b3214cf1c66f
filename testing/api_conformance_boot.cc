// ApiConformance: the aarch64 boot step, VmAArch64::InitArch. Its checks are
// the same on every backend and leave the VM as it was; a good call
// succeeds and may be repeated until the VM runs.

#include <memory>

#include "gmock/gmock.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/memory_region.h"
#include "testing/api_conformance.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::HasSubstr;

constexpr GuestAddress kRam = 0x40000000;
constexpr uint64_t kRamSize = 1 << 20;

TEST_P(ApiConformance, InitArchChecksTheDevicetreeAndEntry) {
  VmAArch64* arm = vm_->AsAArch64();
  if (arm == nullptr) GTEST_SKIP() << "InitArch is the aarch64 VM's";
  // No memory yet: nothing can hold the devicetree.
  EXPECT_THAT(arm->InitArch(kRam, kRam, 0x1000),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not inside one added memory region")));
  ASSERT_OK_AND_ASSIGN(auto ram, MemoryRegion::CreateShared("ram", kRamSize));
  ASSERT_OK(vm_->AddMemoryRegion(kRam, std::move(ram), {}).status());
  const struct {
    GuestAddress entry, fdt;
    uint64_t size;
    const char* why;
  } kBad[] = {
      {kRam, kRam, 0, "size 0"},
      {kRam, kRam, VmAArch64::kFdtMaxSize + 8, "size 0x200008"},
      {kRam, kRam + 4, 0x1000, "not 8-byte aligned"},
      {kRam, kRam + kRamSize - 0x800, 0x1000, "not inside one added"},
      {kRam, ~uint64_t{7}, 0x1000, "not inside one added"},
      {kRam + 2, kRam, 0x1000, "entry 0x40000002 is not 4-byte aligned"},
      {kRam + kRamSize, kRam, 0x1000, "not inside an added memory region"},
  };
  for (const auto& bad : kBad) {
    SCOPED_TRACE(bad.why);
    EXPECT_THAT(arm->InitArch(bad.entry, bad.fdt, bad.size),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         ::testing::AllOf(HasSubstr("init arch: "),
                                          HasSubstr(bad.why))));
  }
  EXPECT_OK(arm->InitArch(kRam + 0x1000, kRam + kRamSize - 0x1000, 0x1000));
  // Again, before any vCPU runs: the last call counts.
  EXPECT_OK(arm->InitArch(kRam, kRam, VmAArch64::kFdtMaxSize / 2));
  EXPECT_EQ(vm_->MemoryRegions().size(), 1u);
}

}  // namespace
}  // namespace hv::testing
