// The Example block of each header in hypervisor/whpx, pasted as it stands
// there under a line naming the header (tools/examples_check.sh), so an
// example that no longer matches the API stops the build. Those given an
// API table run on the fake one; those that load the real table run only
// where it is missing (Linux, and wine: LoadWhpxApi() is UNAVAILABLE).
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vcpu_exit.h"
#include "hypervisor/whpx/whpx_abi.h"
#include "hypervisor/whpx/whpx_api.h"
#include "hypervisor/whpx/whpx_hypervisor.h"
#include "hypervisor/whpx/whpx_msi.h"
#include "hypervisor/whpx/whpx_partition.h"
#include "hypervisor/whpx/whpx_status.h"
#include "hypervisor/whpx/whpx_test_util.h"
#include "hypervisor/whpx/whpx_vcpu.h"
#include "hypervisor/whpx/whpx_vm.h"
#include "hypervisor/whpx/whpx_xsave.h"
#include "testing/fakes/whpx_fake.h"
#include "testing/status_matchers.h"

namespace hv::examples {
namespace {

using ::hv::testing::IsOk;
using ::hv::testing::StatusIs;
using ::hv::testing::WhpxFake;

// hypervisor/whpx/whpx_abi.h
hv::whpx_abi::HRESULT WhpxAbiExample(
    const hv::WhpxApi& api, hv::whpx_abi::WHV_PARTITION_HANDLE partition,
    uint64_t* rip) {
  hv::whpx_abi::WHV_REGISTER_NAME name = hv::whpx_abi::WHvX64RegisterRip;
  hv::whpx_abi::WHV_REGISTER_VALUE value = {};
  hv::whpx_abi::HRESULT hr = api.WHvGetVirtualProcessorRegisters(
      partition, 0, &name, 1, &value);
  *rip = value.Reg64;
  return hr;
}

// hypervisor/whpx/whpx_partition.h
absl::StatusOr<std::shared_ptr<hv::WhpxPartition>> WhpxPartitionExample(
    const hv::WhpxApi* api, const hv::WhpxCaps& caps) {
  ASSIGN_OR_RETURN(std::shared_ptr<hv::WhpxPartition> partition,
                   hv::WhpxPartition::Create(api, caps, /*max_vcpus=*/4));
  RETURN_IF_ERROR(partition->EnsureSetUp());
  return partition;
}

TEST(WhpxExamples, PartitionAndAbi) {
  std::shared_ptr<WhpxFake> fake = WhpxFake::Create();
  ASSERT_OK_AND_ASSIGN(auto whpx, hv::WhpxHypervisor::Create(fake->api()));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<hv::WhpxPartition> partition,
                       WhpxPartitionExample(fake->api(), whpx->caps()));
  EXPECT_EQ(partition->max_vcpus(), 4u);
  ASSERT_EQ(fake->api()->WHvCreateVirtualProcessor(partition->handle(), 0, 0), 0);
  uint64_t rip = 1;
  EXPECT_EQ(WhpxAbiExample(*fake->api(), partition->handle(), &rip), 0);
  EXPECT_EQ(rip, 0xfff0u);  // the reset vector's offset in CS
  ASSERT_EQ(fake->api()->WHvDeleteVirtualProcessor(partition->handle(), 0), 0);
}

// hypervisor/whpx/whpx_api.h
absl::Status WhpxApiExample() {
  ASSIGN_OR_RETURN(const hv::WhpxApi* api, hv::LoadWhpxApi());
  hv::whpx_abi::WHV_PARTITION_HANDLE partition = nullptr;
  RETURN_IF_ERROR(hv::HResultStatus("WHvCreatePartition",
                                    api->WHvCreatePartition(&partition)));
  return absl::OkStatus();
}

// hypervisor/whpx/whpx_hypervisor.h
absl::Status WhpxHypervisorExample() {
  ASSIGN_OR_RETURN(const hv::WhpxApi* api, hv::LoadWhpxApi());
  ASSIGN_OR_RETURN(auto whpx, hv::WhpxHypervisor::Create(api));
  ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, whpx->CreateVm());
  return absl::OkStatus();
}

TEST(WhpxExamples, RealApi) {
  if (hv::LoadWhpxApi().ok()) {
    GTEST_SKIP() << "this host has WHPX: the examples would make partitions";
  }
  EXPECT_THAT(WhpxApiExample(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(WhpxHypervisorExample(), StatusIs(absl::StatusCode::kUnavailable));
}

// hypervisor/whpx/whpx_vm.h
absl::StatusOr<std::unique_ptr<hv::WhpxVm>> WhpxVmExample(
    const hv::WhpxApi* api, const hv::WhpxCaps& caps) {
  ASSIGN_OR_RETURN(auto vm, hv::WhpxVm::Create(api, caps, /*max_vcpus=*/1));
  ASSIGN_OR_RETURN(auto ram, hv::MemoryRegion::CreateShared("ram", 1 << 20));
  ASSIGN_OR_RETURN(hv::MemSlot slot, vm->AddMemoryRegion(0, std::move(ram), {}));
  (void)slot;
  return vm;
}

TEST(WhpxExamples, Vm) {
  std::shared_ptr<WhpxFake> fake = WhpxFake::Create();
  ASSERT_OK_AND_ASSIGN(auto whpx, hv::WhpxHypervisor::Create(fake->api()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<hv::WhpxVm> vm,
                       WhpxVmExample(fake->api(), whpx->caps()));
  EXPECT_EQ(vm->MemoryRegions().size(), 1u);
}

// hypervisor/whpx/whpx_vcpu.h
absl::StatusOr<hv::VcpuExit> WhpxVcpuExample(hv::WhpxVm* vm) {
  ASSIGN_OR_RETURN(auto vcpu, vm->CreateVcpuX86_64(0));
  ASSIGN_OR_RETURN(hv::VcpuExit exit, vcpu->Run());
  return exit;
}

TEST(WhpxExamples, Vcpu) {
  hv::WhpxTestBed bed;
  ASSERT_THAT(bed.Init(), IsOk());
  bed.fake->QueueIo(0, 0x3f8, /*is_write=*/true, {'h'});
  ASSERT_OK_AND_ASSIGN(hv::VcpuExit exit, WhpxVcpuExample(bed.vm.get()));
  EXPECT_EQ(exit.kind, hv::VcpuExitKind::kIo);
  EXPECT_EQ(exit.io.port, 0x3f8);
}

// hypervisor/whpx/whpx_xsave.h
absl::StatusOr<std::vector<uint8_t>> XsaveExample(
    absl::Span<const uint8_t> compacted) {
  const hv::XsaveLayout layout = hv::HostXsaveLayout();
  ASSIGN_OR_RETURN(std::vector<uint8_t> standard,
                   hv::CompactedToStandard(layout, compacted, 4096));
  return standard;
}

TEST(WhpxExamples, Xsave) {
  // A standard image with only x87 and SSE in use, compacted as WHPX would
  // hold it, comes back as the same standard image.
  std::vector<uint8_t> standard(4096, 0);
  standard[hv::kXsaveXstateBvOffset] = 0x3;
  ASSERT_OK_AND_ASSIGN(
      std::vector<uint8_t> compacted,
      hv::StandardToCompacted(hv::HostXsaveLayout(), standard, 0x3));
  EXPECT_THAT(XsaveExample(compacted), hv::testing::IsOkAndHolds(standard));
}

// hypervisor/whpx/whpx_msi.h
absl::StatusOr<hv::whpx_abi::WHV_INTERRUPT_CONTROL> MsiExample() {
  using hv::whpx_abi::WHV_INTERRUPT_CONTROL;
  ASSIGN_OR_RETURN(WHV_INTERRUPT_CONTROL control,
                   hv::WhpxMsiInterrupt(0xfee01000, 0x40));
  // fixed, physical, edge, destination 1, vector 0x40
  return control;
}

TEST(WhpxExamples, Msi) {
  ASSERT_OK_AND_ASSIGN(hv::whpx_abi::WHV_INTERRUPT_CONTROL control,
                       MsiExample());
  EXPECT_EQ(control.TypeModes, hv::whpx_abi::WHvX64InterruptTypeFixed);
  EXPECT_EQ(control.Destination, 1u);
  EXPECT_EQ(control.Vector, 0x40u);
}

// hypervisor/whpx/whpx_test_util.h
TEST(WhpxExamples, TestUtil) {
  hv::WhpxTestBed bed;
  ASSERT_OK(bed.Init());
  ASSERT_OK_AND_ASSIGN(auto vcpu, bed.vm->CreateVcpuX86_64(0));
}

}  // namespace
}  // namespace hv::examples
