// WhpxHypervisor: hv::Hypervisor over the Windows Hypervisor Platform.
//
// Create() asks WHPX, once, whether the hypervisor is present and what it
// offers (WHvGetCapability); later queries are answered from that snapshot.
// Every WHPX call goes through a WhpxApi table (whpx_api.h): the DLLs'
// functions on Windows (LoadWhpxApi()), a fake in tests. Registered as kind
// "whpx" with option "max_vcpus" (the partition's processor count, default
// 64); on hosts other than Windows CreateHypervisor("whpx") is UNAVAILABLE.
//
// Example:
//   ASSIGN_OR_RETURN(const hv::WhpxApi* api, hv::LoadWhpxApi());
//   ASSIGN_OR_RETURN(auto whpx, hv::WhpxHypervisor::Create(api));
//   ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, whpx->CreateVm());
#ifndef HV_HYPERVISOR_WHPX_WHPX_HYPERVISOR_H_
#define HV_HYPERVISOR_WHPX_WHPX_HYPERVISOR_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/whpx/whpx_api.h"
#include "hypervisor/whpx/whpx_partition.h"

namespace hv {

class WhpxHypervisor final : public Hypervisor {
 public:
  static constexpr uint32_t kDefaultMaxVcpus = 64;

  // WhpxHypervisor::Create(): `api` must outlive the hypervisor and all it
  // creates. UNAVAILABLE when WHPX reports no hypervisor; INVALID_ARGUMENT
  // for a null `api` or `max_vcpus` 0.
  static absl::StatusOr<std::unique_ptr<WhpxHypervisor>> Create(
      const WhpxApi* api, uint32_t max_vcpus = kDefaultMaxVcpus);

  WhpxHypervisor(const WhpxHypervisor&) = delete;
  WhpxHypervisor& operator=(const WhpxHypervisor&) = delete;

  absl::string_view kind() const override { return "whpx"; }
  bool CheckCapability(HypervisorCap cap) const override;
  uint32_t MaxVcpus() const override { return max_vcpus_; }
  absl::StatusOr<std::unique_ptr<Vm>> CreateVm() override;

  const WhpxCaps& caps() const { return caps_; }

 private:
  WhpxHypervisor(const WhpxApi* api, WhpxCaps caps, uint32_t max_vcpus)
      : api_(api), caps_(caps), max_vcpus_(max_vcpus) {}

  const WhpxApi* const api_;
  const WhpxCaps caps_;
  const uint32_t max_vcpus_;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_WHPX_WHPX_HYPERVISOR_H_
