// Shared by the WHPX backend tests: a fake WHPX (testing/fakes/whpx_fake.h)
// and a hypervisor and VM on it; WhpxVcpuFixture adds vCPU 0 and the
// checks every vCPU test ends with.
//
// Example:
//   hv::WhpxTestBed bed;
//   ASSERT_OK(bed.Init());
//   ASSERT_OK_AND_ASSIGN(auto vcpu, bed.vm->CreateVcpuX86_64(0));
//
//   class MyTest : public hv::WhpxVcpuFixture {};
//   TEST_F(MyTest, Runs) { ASSERT_OK(vcpu_->Run()); }
#ifndef HV_HYPERVISOR_WHPX_WHPX_TEST_UTIL_H_
#define HV_HYPERVISOR_WHPX_WHPX_TEST_UTIL_H_

#include <memory>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/whpx/whpx_hypervisor.h"
#include "hypervisor/whpx/whpx_vm.h"
#include "testing/fakes/whpx_fake.h"
#include "testing/status_matchers.h"

namespace hv {

struct WhpxTestBed {
  explicit WhpxTestBed(
      const testing::WhpxFake::Options& options = testing::WhpxFake::Options(),
      uint32_t max_vcpus = 4)
      : fake(testing::WhpxFake::Create(options)), max_vcpus(max_vcpus) {}
  ~WhpxTestBed() {
    vm.reset();
    hypervisor.reset();
  }

  absl::Status Init() {
    auto created = WhpxHypervisor::Create(fake->api(), max_vcpus);
    if (!created.ok()) return created.status();
    hypervisor = std::move(created).value();
    auto made = WhpxVm::Create(fake->api(), hypervisor->caps(), max_vcpus);
    if (!made.ok()) return made.status();
    vm = std::move(made).value();
    return absl::OkStatus();
  }

  std::shared_ptr<testing::WhpxFake> fake;
  const uint32_t max_vcpus;
  std::unique_ptr<WhpxHypervisor> hypervisor;
  std::unique_ptr<WhpxVm> vm;
};

// A test with a WhpxTestBed (`bed_`, on a fake made with `options`) and its
// vCPU 0 (`vcpu_`). TearDown deletes both and checks that the partition is
// gone and that the fake saw no misuse.
class WhpxVcpuFixture : public ::testing::Test {
 protected:
  explicit WhpxVcpuFixture(
      const testing::WhpxFake::Options& options = testing::WhpxFake::Options())
      : bed_(options) {}
  void SetUp() override {
    ASSERT_OK(bed_.Init());
    ASSERT_OK_AND_ASSIGN(vcpu_, bed_.vm->CreateVcpuX86_64(0));
  }
  void TearDown() override {
    vcpu_.reset();
    bed_.vm.reset();
    EXPECT_EQ(bed_.fake->LivePartitions(), 0);
    EXPECT_THAT(bed_.fake->violations(), ::testing::IsEmpty());
  }

  WhpxTestBed bed_;
  std::unique_ptr<VcpuX86_64> vcpu_;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_WHPX_WHPX_TEST_UTIL_H_
