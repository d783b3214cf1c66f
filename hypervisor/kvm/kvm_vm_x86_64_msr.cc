// KvmVmX86_64::SetUserSpaceMsrs: the MSRs a VMM answers itself. KVM hands
// an rdmsr/wrmsr to user space when an MSR filter denies it and user-space
// MSR exits are on for filter denials (api.rst: KVM_CAP_X86_USER_SPACE_MSR,
// KVM_X86_SET_MSR_FILTER). So hv's ranges become filter ranges whose
// bitmaps deny every MSR in them, under a filter that allows the rest.
#include <cstdint>
#include <vector>

#include "absl/strings/str_format.h"
#include "hypervisor/kvm/kvm_abi_x86_64.h"
#include "hypervisor/kvm/kvm_ioctl.h"
#include "hypervisor/kvm/kvm_vm_x86_64.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vm_checks.h"

namespace hv {

absl::Status KvmVmX86_64::SetUserSpaceMsrs(absl::Span<const MsrRange> ranges) {
  if (!CheckCapability(VmCap::kUserSpaceMsrs)) {
    return VmX86_64::SetUserSpaceMsrs(ranges);  // UNIMPLEMENTED
  }
  RETURN_IF_ERROR(CheckUserSpaceMsrRanges(ranges));
  // A clear bit denies the MSR; the kernel copies BITS_TO_LONGS(nmsrs)
  // longs, so each bitmap is whole 64-bit words of zeros.
  std::vector<std::vector<uint64_t>> bitmaps;
  bitmaps.reserve(ranges.size());
  kvm_msr_filter filter = {};
  filter.flags = KVM_MSR_FILTER_DEFAULT_ALLOW;
  for (size_t i = 0; i < ranges.size(); ++i) {
    bitmaps.emplace_back((ranges[i].count + 63) / 64, 0);
    kvm_msr_filter_range& range = filter.ranges[i];
    range.flags = (ranges[i].reads ? KVM_MSR_FILTER_READ : 0) |
                  (ranges[i].writes ? KVM_MSR_FILTER_WRITE : 0);
    range.nmsrs = ranges[i].count;
    range.base = ranges[i].first;
    range.bitmap = reinterpret_cast<uint8_t*>(bitmaps.back().data());
  }
  // Denied accesses exit to user space instead of raising #GP. Enabling it
  // again is harmless, and alone (with the old filter) changes nothing.
  kvm_enable_cap enable = {};
  enable.cap = KVM_CAP_X86_USER_SPACE_MSR;
  enable.args[0] = KVM_MSR_EXIT_REASON_FILTER;
  RETURN_IF_ERROR(KvmIoctl(
      sys_, vm_fd_.get(), KVM_ENABLE_CAP, &enable,
      "set user-space MSRs: KVM_ENABLE_CAP (KVM_CAP_X86_USER_SPACE_MSR)"));
  // The kernel builds the new filter aside and swaps it in, so on failure
  // the previous one stays.
  return KvmIoctl(sys_, vm_fd_.get(), KVM_X86_SET_MSR_FILTER, &filter,
                  absl::StrFormat("set user-space MSRs: KVM_X86_SET_MSR_FILTER "
                                  "(%u ranges)",
                                  ranges.size()));
}

}  // namespace hv
