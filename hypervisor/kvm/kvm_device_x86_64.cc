// The x86_64 part of KvmDevice: the supported CPUID and, from it, the
// guest-physical address width. The probes of what this KVM honours are in
// kvm_device_probes_x86_64.cc.
#include <cerrno>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "hypervisor/kvm/kvm_abi_x86_64.h"
#include "hypervisor/kvm/kvm_device.h"
#include "hypervisor/kvm/kvm_ioctl.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/status_macros.h"

namespace hv {
namespace {

// Intel SDM Vol. 3A, Section 4.1.4: without CPUID leaf 0x80000008,
// MAXPHYADDR is 36.
constexpr uint32_t kDefaultPhysAddressBits = 36;

CpuidEntry FromKvm(const kvm_cpuid_entry2& e) {
  CpuidEntry entry;
  entry.function = e.function;
  entry.index = e.index;
  entry.significant_index = (e.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) != 0;
  entry.eax = e.eax;
  entry.ebx = e.ebx;
  entry.ecx = e.ecx;
  entry.edx = e.edx;
  return entry;
}

kvm_cpuid_entry2 ToKvm(const CpuidEntry& entry) {
  kvm_cpuid_entry2 e = {};
  e.function = entry.function;
  e.index = entry.index;
  e.flags = entry.significant_index ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
  e.eax = entry.eax;
  e.ebx = entry.ebx;
  e.ecx = entry.ecx;
  e.edx = entry.edx;
  return e;
}

}  // namespace

absl::Status SetCpuid2(KvmSys* sys, int vcpu_fd,
                       absl::Span<const CpuidEntry> entries) {
  if (entries.size() > kvm_abi::kMaxCpuidEntries) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "set cpuid: %d entries, at most %d", entries.size(),
        kvm_abi::kMaxCpuidEntries));
  }
  kvm_abi::FlexBuffer<kvm_abi::Cpuid2Header, kvm_cpuid_entry2> buffer(
      entries.size());
  buffer.header()->nent = static_cast<uint32_t>(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    buffer.entries()[i] = ToKvm(entries[i]);
  }
  if (sys->IoctlPtr(vcpu_fd, kvm_abi::kSetCpuid2, buffer.data()) < 0) {
    return ErrnoStatus("KVM_SET_CPUID2");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<MsrEntry>> GetKvmMsrs(
    KvmSys* sys, int fd, absl::Span<const uint32_t> indices,
    absl::string_view operation) {
  kvm_abi::FlexBuffer<kvm_abi::MsrsHeader, kvm_msr_entry> buffer(
      indices.size());
  buffer.header()->nmsrs = static_cast<uint32_t>(indices.size());
  kvm_msr_entry* msrs = buffer.entries();
  for (size_t i = 0; i < indices.size(); ++i) msrs[i].index = indices[i];
  ASSIGN_OR_RETURN(int read, KvmIoctlValue(sys, fd, kvm_abi::kGetMsrs,
                                           reinterpret_cast<uintptr_t>(buffer.data()),
                                           operation));
  std::vector<MsrEntry> result;
  result.reserve(read);
  for (int i = 0; i < read && static_cast<size_t>(i) < indices.size(); ++i) {
    result.push_back(MsrEntry{msrs[i].index, msrs[i].data});
  }
  return result;
}

absl::Status KvmDevice::QueryArch(KvmDevice& device) {
  ASSIGN_OR_RETURN(std::vector<CpuidEntry> cpuid, device.GetSupportedCpuid());
  uint32_t phys_bits = kDefaultPhysAddressBits;
  for (const CpuidEntry& entry : cpuid) {
    if (entry.function == 0x80000008 && (entry.eax & 0xff) != 0) {
      phys_bits = entry.eax & 0xff;
    }
  }
  device.guest_address_limit = phys_bits >= 64 ? ~0ull : 1ull << phys_bits;
  device.caps.msr_index_list = 1;
  device.caps.irqchip_state =
      device.caps.irqchip > 0 && device.caps.pit2 > 0 ? 1 : 0;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<CpuidEntry>> KvmDevice::GetSupportedCpuid() const {
  for (uint32_t capacity = kvm_abi::kInitialCpuidEntries;
       capacity <= kvm_abi::kMaxCpuidEntries; capacity *= 2) {
    kvm_abi::FlexBuffer<kvm_abi::Cpuid2Header, kvm_cpuid_entry2> buffer(
        capacity);
    buffer.header()->nent = capacity;
    if (sys->IoctlPtr(fd.get(), kvm_abi::kGetSupportedCpuid, buffer.data()) < 0) {
      if (errno == E2BIG) continue;
      return ErrnoStatus("KVM_GET_SUPPORTED_CPUID");
    }
    const uint32_t count = buffer.header()->nent;
    std::vector<CpuidEntry> result;
    result.reserve(count);
    for (uint32_t i = 0; i < count && i < capacity; ++i) {
      result.push_back(FromKvm(buffer.entries()[i]));
    }
    return result;
  }
  return absl::ResourceExhaustedError(absl::StrFormat(
      "KVM_GET_SUPPORTED_CPUID: more than %d entries", kvm_abi::kMaxCpuidEntries));
}

}  // namespace hv
