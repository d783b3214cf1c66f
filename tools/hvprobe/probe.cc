#include "tools/hvprobe/probe.h"

#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/registry.h"
#include "tools/hvprobe/probe_arch.h"

namespace hv {
namespace probe_internal {
namespace {

// Each capability hvprobe asks about, in report order, and the
// architectures on which it means something.
template <typename Cap>
struct CapRow {
  Cap cap;
  bool x86_64;
  bool aarch64;
};

constexpr CapRow<HypervisorCap> kHypervisorCapRows[] = {
    {HypervisorCap::kUserMemory, true, true},
    {HypervisorCap::kImmediateExit, true, true},
    {HypervisorCap::kReadOnlyMemory, true, true},
    {HypervisorCap::kDirtyLog, true, true},
    {HypervisorCap::kIrqfd, true, true},
    {HypervisorCap::kIoEventfd, true, true},
    {HypervisorCap::kIrqChip, true, true},
    {HypervisorCap::kSplitIrqChip, true, false},
    {HypervisorCap::kXcrs, true, false},
    {HypervisorCap::kTscControl, true, false},
    {HypervisorCap::kSyncRegs, true, true},
    {HypervisorCap::kMpState, true, true},
    {HypervisorCap::kXsave, true, false},
    {HypervisorCap::kVcpuEvents, true, false},
    {HypervisorCap::kTscKhz, true, false},
    {HypervisorCap::kMsrList, true, false},
    {HypervisorCap::kFeatureMsrs, true, false},
    {HypervisorCap::kIrqChipState, true, false},
    {HypervisorCap::kGuestDebug, true, false},
};

constexpr CapRow<VmCap> kVmCapRows[] = {
    {VmCap::kDirtyLog, true, true},
    {VmCap::kReadOnlyMemoryRegion, true, true},
    {VmCap::kMemNoncoherentDma, true, true},
    {VmCap::kPvClock, true, false},
    {VmCap::kIrqfd, true, true},
    {VmCap::kIoEventfd, true, true},
    {VmCap::kGsiRouting, true, true},
    {VmCap::kSignalMsi, true, true},
    {VmCap::kIrqfdResample, true, true},
    {VmCap::kUserSpaceMsrs, true, false},
    {VmCap::kDirtyLogSwitch, true, true},
    {VmCap::kDirtyLogManualProtect, true, true},
    {VmCap::kGicIts, false, true},
};

// The rows' capabilities for the target architecture (ArchName()).
template <typename Cap, size_t N>
const std::vector<Cap>& ForThisArch(const CapRow<Cap> (&rows)[N]) {
  static const std::vector<Cap>* const caps = [&rows] {
    const bool x86_64 = absl::string_view(ArchName()) == "x86_64";
    auto* out = new std::vector<Cap>;
    for (const CapRow<Cap>& row : rows) {
      if (x86_64 ? row.x86_64 : row.aarch64) out->push_back(row.cap);
    }
    return out;
  }();
  return *caps;
}

}  // namespace

absl::Span<const HypervisorCap> ArchHypervisorCaps() {
  return ForThisArch(kHypervisorCapRows);
}
absl::Span<const VmCap> ArchVmCaps() { return ForThisArch(kVmCapRows); }

}  // namespace probe_internal

namespace {

BackendReport Probe(const BackendInfo& info) {
  BackendReport report;
  report.kind = info.kind;
  report.arch = probe_internal::ArchName();
  report.options = info.options;
  absl::StatusOr<std::unique_ptr<Hypervisor>> hypervisor =
      CreateHypervisor(info.kind);
  if (!hypervisor.ok()) {
    report.usable = hypervisor.status();
    return report;
  }
  report.max_vcpus = (*hypervisor)->MaxVcpus();
  for (HypervisorCap cap : probe_internal::ArchHypervisorCaps()) {
    report.hypervisor_caps.emplace_back(HypervisorCapName(cap),
                                        (*hypervisor)->CheckCapability(cap));
  }
  absl::StatusOr<std::unique_ptr<Vm>> vm = (*hypervisor)->CreateVm();
  if (!vm.ok()) {
    report.usable = vm.status();
    return report;
  }
  report.memory_slots = (*vm)->MaxMemorySlots();
  report.guest_address_limit = (*vm)->GuestAddressLimit();
  for (VmCap cap : probe_internal::ArchVmCaps()) {
    report.vm_caps.emplace_back(VmCapName(cap), (*vm)->CheckCapability(cap));
  }
  probe_internal::ProbeArch(**vm, report);
  return report;
}

// JSON string literal for `text` (RFC 8259 section 7).
std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string JsonCaps(const std::vector<std::pair<std::string, bool>>& caps) {
  std::vector<std::string> fields;
  for (const auto& [name, offered] : caps) {
    fields.push_back(absl::StrCat(JsonString(name), ": ", offered ? "true" : "false"));
  }
  return absl::StrCat("{", absl::StrJoin(fields, ", "), "}");
}

// "yes"/"no" become JSON booleans, anything else a string.
std::string JsonDetails(const std::vector<std::pair<std::string, std::string>>& details) {
  std::vector<std::string> fields;
  for (const auto& [name, value] : details) {
    std::string json_value = value == "yes" ? "true" : value == "no" ? "false" : JsonString(value);
    fields.push_back(absl::StrCat(JsonString(name), ": ", json_value));
  }
  return absl::StrCat("{", absl::StrJoin(fields, ", "), "}");
}

}  // namespace

std::vector<BackendReport> ProbeBackends() {
  std::vector<BackendReport> reports;
  for (const BackendInfo& info : LinkedBackends()) reports.push_back(Probe(info));
  return reports;
}

bool AnyUsable(const std::vector<BackendReport>& reports) {
  for (const BackendReport& r : reports) {
    if (r.usable.ok()) return true;
  }
  return false;
}

std::string FormatReportsText(const std::vector<BackendReport>& reports) {
  if (reports.empty()) return "no hypervisor backend is linked into this build\n";
  std::string out;
  for (const BackendReport& r : reports) {
    absl::StrAppend(&out, r.kind, " [options: ",
                    r.options.empty() ? "none" : absl::StrJoin(r.options, ", "),
                    "]\n");
    if (!r.usable.ok()) {
      absl::StrAppend(&out, "  not usable here: ", r.usable.message(), "\n");
      if (r.hypervisor_caps.empty()) continue;
    } else {
      absl::StrAppend(&out, "  usable\n");
    }
    absl::StrAppend(&out, "  hypervisor (asked of the backend):\n");
    absl::StrAppendFormat(&out, "    max vcpus: %u\n", r.max_vcpus);
    for (const auto& [name, offered] : r.hypervisor_caps) {
      absl::StrAppendFormat(&out, "    %-24s %s\n", name, offered ? "yes" : "no");
    }
    if (!r.usable.ok()) continue;  // no VM to ask
    absl::StrAppend(&out, "  vm (asked of a probe VM):\n");
    absl::StrAppendFormat(&out, "    memory slots: %u\n", r.memory_slots);
    absl::StrAppendFormat(&out, "    guest address limit: %#x\n", r.guest_address_limit);
    for (const auto& [name, offered] : r.vm_caps) {
      absl::StrAppendFormat(&out, "    %-24s %s\n", name, offered ? "yes" : "no");
    }
    if (!r.arch_details.empty()) absl::StrAppend(&out, "  ", r.arch, ":\n");
    for (const auto& [name, value] : r.arch_details) {
      absl::StrAppendFormat(&out, "    %-22s %s\n", name, value);
    }
  }
  return out;
}

std::string FormatReportsJson(const std::vector<BackendReport>& reports) {
  std::vector<std::string> items;
  for (const BackendReport& r : reports) {
    std::vector<std::string> options;
    for (const std::string& o : r.options) options.push_back(JsonString(o));
    const std::string hypervisor =
        r.hypervisor_caps.empty() && r.max_vcpus == 0
            ? "null"
            : absl::StrCat("{\"max_vcpus\": ", r.max_vcpus,
                           ", \"caps\": ", JsonCaps(r.hypervisor_caps), "}");
    const std::string vm =
        !r.usable.ok() ? "null"
                       : absl::StrCat("{\"memory_slots\": ", r.memory_slots,
                                      ", \"guest_address_limit\": ", r.guest_address_limit,
                                      ", \"caps\": ", JsonCaps(r.vm_caps), "}");
    items.push_back(absl::StrCat(
        "{\"kind\": ", JsonString(r.kind),
        ", \"options\": [", absl::StrJoin(options, ", "), "]",
        ", \"usable\": ", r.usable.ok() ? "true" : "false",
        ", \"error\": ", r.usable.ok() ? "null" : JsonString(r.usable.ToString()),
        ", \"hypervisor\": ", hypervisor,
        ", \"vm\": ", vm,
        ", \"arch\": ", JsonString(r.arch),
        ", \"arch_details\": ", JsonDetails(r.arch_details), "}"));
  }
  return absl::StrCat("{\"any_usable\": ", AnyUsable(reports) ? "true" : "false",
                      ", \"backends\": [", absl::StrJoin(items, ", "), "]}\n");
}

}  // namespace hv
