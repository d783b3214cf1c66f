// The Example block of each header in snapshot/, pasted as it stands there
// under a line naming the header (tools/examples_check.sh), so an example
// that no longer matches the API stops the build. The codec's and the
// file's run; the x86_64 and aarch64 ones need a VM with vCPUs and are
// compiled only.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/aarch64/vcpu_aarch64.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/regs.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "snapshot/aarch64_snapshot.h"
#include "snapshot/codec.h"
#include "snapshot/snapshot_file.h"
#include "snapshot/x86_64_snapshot.h"
#include "testing/status_matchers.h"

namespace hv::snapshot {
namespace {

using ::hv::testing::IsOkAndHolds;

// snapshot/codec.h
absl::StatusOr<uint64_t> CodecExample(const hv::Regs& regs) {
  hv::snapshot::ByteWriter out;
  out.Put64(regs.rip);
  hv::snapshot::ByteReader in(out.bytes(), "regs");
  ASSIGN_OR_RETURN(uint64_t rip, in.Get64("rip"));
  return rip;
}

// snapshot/snapshot_file.h (a path of the test's own)
absl::StatusOr<std::vector<uint8_t>> FileExample(
    const std::vector<uint8_t>& encoded_regs, const std::string& path) {
  hv::snapshot::SnapshotFile file(hv::snapshot::Arch::kX86_64, "kvm");
  file.Add(hv::snapshot::Tag::kVcpuRegs, 0, encoded_regs);
  RETURN_IF_ERROR(file.WriteTo(path));
  ASSIGN_OR_RETURN(auto back, hv::snapshot::SnapshotFile::ReadFrom(path));
  ASSIGN_OR_RETURN(absl::Span<const uint8_t> regs,
                   back.Find(hv::snapshot::Tag::kVcpuRegs, 0));
  return std::vector<uint8_t>(regs.begin(), regs.end());
}

// snapshot/x86_64_snapshot.h (the two processes' halves in one function)
[[maybe_unused]] absl::Status X86_64Example(
    hv::VmX86_64* vm, std::unique_ptr<hv::VcpuX86_64>& vcpu0,
    std::unique_ptr<hv::VcpuX86_64>& vcpu1, absl::Span<uint8_t> ram_span,
    hv::VmX86_64* new_vm, absl::Span<hv::VcpuX86_64* const> new_vcpus,
    absl::Span<const hv::snapshot::GuestRam> new_ram) {
  std::vector<hv::VcpuX86_64*> vcpus = {vcpu0.get(), vcpu1.get()};
  std::vector<hv::snapshot::GuestRam> ram = {{0, ram_span}};
  ASSIGN_OR_RETURN(hv::snapshot::SnapshotFile file,
                   hv::snapshot::CaptureX86_64(*vm, vcpus, ram, "kvm"));
  RETURN_IF_ERROR(file.WriteTo("vm.hvsnap"));
  ASSIGN_OR_RETURN(auto back, hv::snapshot::SnapshotFile::ReadFrom("vm.hvsnap"));
  hv::snapshot::RestoreOptions options;
  options.backend = "kvm";
  RETURN_IF_ERROR(hv::snapshot::RestoreX86_64(back, *new_vm, new_vcpus,
                                              new_ram, options));
  return absl::OkStatus();
}

// snapshot/aarch64_snapshot.h (the two processes' halves in one function)
[[maybe_unused]] absl::Status AArch64Example(
    hv::VmAArch64* vm, std::unique_ptr<hv::VcpuAArch64>& vcpu0,
    std::unique_ptr<hv::VcpuAArch64>& vcpu1, absl::Span<uint8_t> ram_span,
    hv::VmAArch64* new_vm, absl::Span<hv::VcpuAArch64* const> new_vcpus,
    absl::Span<const hv::snapshot::GuestRam> new_ram) {
  std::vector<hv::VcpuAArch64*> vcpus = {vcpu0.get(), vcpu1.get()};
  std::vector<hv::snapshot::GuestRam> ram = {{0x40000000, ram_span}};
  ASSIGN_OR_RETURN(hv::snapshot::SnapshotFile file,
                   hv::snapshot::CaptureAArch64(*vm, vcpus, ram, "kvm"));
  RETURN_IF_ERROR(file.WriteTo("vm.hvsnap"));
  ASSIGN_OR_RETURN(auto back, hv::snapshot::SnapshotFile::ReadFrom("vm.hvsnap"));
  RETURN_IF_ERROR(hv::snapshot::RestoreAArch64(back, *new_vm, new_vcpus, new_ram));
  return absl::OkStatus();
}

TEST(SnapshotExamples, CodecAndFileRun) {
  Regs regs;
  regs.rip = 0x10000;
  EXPECT_THAT(CodecExample(regs), IsOkAndHolds(0x10000u));
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path =
      std::string(dir != nullptr ? dir : "/tmp") + "/examples_test.hvsnap";
  EXPECT_THAT(FileExample({1, 2, 3}, path),
              IsOkAndHolds(std::vector<uint8_t>{1, 2, 3}));
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace hv::snapshot
