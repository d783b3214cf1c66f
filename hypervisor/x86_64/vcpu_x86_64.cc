// VcpuX86_64's and VmX86_64's defaults for the state calls a hypervisor
// may lack: UNIMPLEMENTED, naming the call and the capability.
#include "hypervisor/x86_64/vcpu_x86_64.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hypervisor/x86_64/vm_x86_64.h"

namespace hv {
namespace {

absl::Status NotOffered(absl::string_view operation, absl::string_view cap) {
  return absl::UnimplementedError(absl::StrCat(
      operation, ": this hypervisor does not offer it (HypervisorCap::", cap,
      " is false)"));
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> VcpuX86_64::GetXsave() {
  return NotOffered("get xsave", "kXsave");
}

absl::Status VcpuX86_64::SetXsave(absl::Span<const uint8_t> image) {
  return NotOffered(absl::StrFormat("set xsave (%u bytes)", image.size()),
                    "kXsave");
}

size_t VcpuX86_64::XsaveSize() const { return 0; }

absl::StatusOr<VcpuEvents> VcpuX86_64::GetVcpuEvents() {
  return NotOffered("get vCPU events", "kVcpuEvents");
}

absl::Status VcpuX86_64::SetVcpuEvents(const VcpuEvents& /*events*/) {
  return NotOffered("set vCPU events", "kVcpuEvents");
}

absl::Status VcpuX86_64::SetTscKhz(uint32_t khz) {
  return NotOffered(absl::StrFormat("set TSC frequency %u kHz", khz),
                    "kTscKhz");
}

absl::Status VcpuX86_64::NotifyGuestPaused() {
  return absl::UnimplementedError(
      "notify guest paused: this hypervisor has no paravirtual-clock pause "
      "notification");
}

absl::Status VcpuX86_64::HandleMsr(
    absl::FunctionRef<void(MsrRequest&)> /*handler*/) {
  // Without VmCap::kUserSpaceMsrs no Run() returns kRdMsr or kWrMsr.
  return absl::FailedPreconditionError(
      "HandleMsr: the last Run() did not return an unhandled kRdMsr or kWrMsr "
      "exit (this hypervisor hands no MSR access to user space)");
}

absl::Status VmX86_64::SetUserSpaceMsrs(absl::Span<const MsrRange> ranges) {
  return absl::UnimplementedError(absl::StrFormat(
      "set user-space MSRs (%u ranges): this hypervisor does not hand MSR "
      "accesses to user space (VmCap::kUserSpaceMsrs is false)",
      ranges.size()));
}

absl::StatusOr<std::vector<uint32_t>> VmX86_64::GetMsrIndexList() {
  return NotOffered("get MSR index list", "kMsrList");
}

absl::StatusOr<std::vector<MsrEntry>> VmX86_64::GetFeatureMsrs() {
  return NotOffered("get feature MSRs", "kFeatureMsrs");
}

absl::StatusOr<PicState> VmX86_64::GetPicState(Pic /*pic*/) {
  return NotOffered("get PIC state", "kIrqChipState");
}

absl::Status VmX86_64::SetPicState(Pic /*pic*/, const PicState& /*state*/) {
  return NotOffered("set PIC state", "kIrqChipState");
}

absl::StatusOr<IoapicState> VmX86_64::GetIoapicState() {
  return NotOffered("get IOAPIC state", "kIrqChipState");
}

absl::Status VmX86_64::SetIoapicState(const IoapicState& /*state*/) {
  return NotOffered("set IOAPIC state", "kIrqChipState");
}

absl::StatusOr<PitState> VmX86_64::GetPitState() {
  return NotOffered("get PIT state", "kIrqChipState");
}

absl::Status VmX86_64::SetPitState(const PitState& /*state*/) {
  return NotOffered("set PIT state", "kIrqChipState");
}

}  // namespace hv
