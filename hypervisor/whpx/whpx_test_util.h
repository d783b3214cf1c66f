// Shared by the WHPX backend tests: a fake WHPX (testing/fakes/whpx_fake.h)
// and a hypervisor and VM on it.
//
// Example:
//   hv::WhpxTestBed bed;
//   ASSERT_OK(bed.Init());
//   ASSERT_OK_AND_ASSIGN(auto vcpu, bed.vm->CreateVcpuX86_64(0));
#ifndef HV_HYPERVISOR_WHPX_WHPX_TEST_UTIL_H_
#define HV_HYPERVISOR_WHPX_WHPX_TEST_UTIL_H_

#include <memory>

#include "absl/status/status.h"
#include "hypervisor/whpx/whpx_hypervisor.h"
#include "hypervisor/whpx/whpx_vm.h"
#include "testing/fakes/whpx_fake.h"

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

}  // namespace hv

#endif  // HV_HYPERVISOR_WHPX_WHPX_TEST_UTIL_H_
