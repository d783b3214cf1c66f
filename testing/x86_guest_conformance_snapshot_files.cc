// X86GuestConformance: bad snapshot files given to a restore. A real
// snapshot of snapshot_worker (stopped at its first signal) is cut short,
// given another version, architecture or backend, a section length that
// lies, a RAM size that does not fit, damaged registers with a CRC that
// still matches, and damaged bytes with one that does not. Each is refused
// with a Status code and a message naming what was wrong, and the VM it was
// given keeps its RAM byte for byte and its vCPU's registers, is still fit
// to take a good snapshot, and is destroyed cleanly (ASan: nothing leaked).
// A value only the hypervisor refuses (a reserved CR4 bit) is put back.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "snapshot/codec.h"
#include "snapshot/snapshot_file.h"
#include "snapshot/x86_64_codec.h"
#include "snapshot/x86_64_snapshot.h"
#include "testing/status_matchers.h"
#include "testing/x86_guest_conformance.h"

namespace hv::testing {
namespace {

using ::hv::snapshot::SnapshotFile;
using ::hv::snapshot::Tag;
using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr uint64_t kRounds = 1500;

void SetRounds(Regs& regs) { regs.rdi = kRounds; }

// A VM like the captured one: with the kernel's irqchip if that had one.
absl::StatusOr<std::unique_ptr<Vm>> VmLike(Hypervisor& hypervisor,
                                          bool irqchip) {
  ASSIGN_OR_RETURN(std::unique_ptr<Vm> vm, hypervisor.CreateVm());
  if (irqchip) {
    RETURN_IF_ERROR(vm->AsX86_64()->CreateIrqChip(IrqChipKind::kKernel));
  }
  return vm;
}

// The bytes of a full snapshot of snapshot_worker at its first signal:
// phase one's table in RAM, its hash in registers and an MSR.
absl::StatusOr<std::vector<uint8_t>> WorkerSnapshot(Hypervisor& hypervisor,
                                                    bool irqchip) {
  ASSIGN_OR_RETURN(std::unique_ptr<Vm> vm, VmLike(hypervisor, irqchip));
  ASSIGN_OR_RETURN(std::unique_ptr<GuestFixture> guest,
                   GuestFixture::Create(*vm));
  RETURN_IF_ERROR(guest->Load(guest::SnapshotWorker(), GuestMode::kLong,
                              SetRounds));
  GuestRunOptions until_signal;
  until_signal.until = VcpuExitKind::kIo;
  ASSIGN_OR_RETURN(GuestRunResult first, guest->Run(until_signal));
  if (first.exit.io.port != HV_GUEST_SIGNAL_PORT) {
    return absl::InternalError(
        absl::StrCat("snapshot_worker stopped at port ", first.exit.io.port));
  }
  VcpuX86_64* vcpus[] = {&guest->vcpu()};
  const snapshot::GuestRam ram[] = {{0, guest->ram(), std::nullopt}};
  ASSIGN_OR_RETURN(SnapshotFile file,
                   snapshot::CaptureX86_64(*vm->AsX86_64(), vcpus, ram,
                                           std::string(hypervisor.kind())));
  return file.Serialize();
}

// Target: the VM a bad file is given to, built like the captured one with
// snapshot_worker loaded (the boot state and CPUID a VMM would set), and
// what it held before: its RAM (the top 64 KiB a pattern no snapshot has)
// and its vCPU's registers, as the snapshot codec encodes them.
struct Target {
  std::unique_ptr<Vm> vm;
  std::unique_ptr<GuestFixture> guest;  // destroyed before vm
  std::vector<uint8_t> ram_before;
  std::vector<uint8_t> regs_before;
  std::vector<uint8_t> sregs_before;
};

absl::StatusOr<Target> NewTarget(Hypervisor& hypervisor, bool irqchip) {
  Target target;
  ASSIGN_OR_RETURN(target.vm, VmLike(hypervisor, irqchip));
  ASSIGN_OR_RETURN(target.guest, GuestFixture::Create(*target.vm));
  RETURN_IF_ERROR(target.guest->Load(guest::SnapshotWorker(), GuestMode::kLong,
                                     SetRounds));
  absl::Span<uint8_t> ram = target.guest->ram();
  const std::vector<uint8_t> pattern = Pattern(0x5a, 0x10000);
  std::memcpy(ram.data() + ram.size() - pattern.size(), pattern.data(),
              pattern.size());
  target.ram_before.assign(ram.begin(), ram.end());
  ASSIGN_OR_RETURN(Regs regs, target.guest->vcpu().GetRegs());
  target.regs_before = snapshot::EncodeRegs(regs);
  ASSIGN_OR_RETURN(Sregs sregs, target.guest->vcpu().GetSregs());
  target.sregs_before = snapshot::EncodeSregs(sregs);
  return target;
}

// Where `bytes` go on disk for a restore, like a VMM's snapshot file.
std::string FilePath() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/x86_guest_bad_",
                      ::getpid(), ".hvsnap");
}

// What a VMM does with a snapshot file: read it, restore it into the
// target (naming the backend the target runs on).
absl::Status RestoreFile(const std::vector<uint8_t>& bytes, Target& target,
                         const std::string& backend) {
  const std::string path = FilePath();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    // The file's bytes as chars: one representation.
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    if (!out.good()) return absl::InternalError("writing " + path);
  }
  absl::StatusOr<SnapshotFile> file = SnapshotFile::ReadFrom(path);
  ::unlink(path.c_str());
  if (!file.ok()) return file.status();
  VcpuX86_64* vcpus[] = {&target.guest->vcpu()};
  const snapshot::GuestRam ram[] = {{0, target.guest->ram(), std::nullopt}};
  snapshot::RestoreOptions options;
  options.backend = backend;
  return snapshot::RestoreX86_64(*file, *target.vm->AsX86_64(), vcpus, ram,
                                 options);
}

// Checks that the target holds what it held before the refused restore.
void ExpectUnchanged(Target& target) {
  absl::Span<const uint8_t> ram = target.guest->ram();
  ASSERT_EQ(ram.size(), target.ram_before.size());
  const auto now =
      std::mismatch(ram.begin(), ram.end(), target.ram_before.begin()).first;
  EXPECT_TRUE(now == ram.end())
      << "RAM changed at offset " << (now - ram.begin());
  ASSERT_OK_AND_ASSIGN(Regs regs, target.guest->vcpu().GetRegs());
  EXPECT_EQ(snapshot::EncodeRegs(regs), target.regs_before);
  ASSERT_OK_AND_ASSIGN(Sregs sregs, target.guest->vcpu().GetSregs());
  EXPECT_EQ(snapshot::EncodeSregs(sregs), target.sregs_before);
}

uint64_t LeBytes(const std::vector<uint8_t>& bytes, size_t at, int width) {
  uint64_t v = 0;
  for (int i = 0; i < width; ++i) v |= uint64_t{bytes[at + i]} << (8 * i);
  return v;
}

void PutLe(std::vector<uint8_t>& bytes, size_t at, int width, uint64_t v) {
  for (int i = 0; i < width; ++i) bytes[at + i] = (v >> (8 * i)) & 0xff;
}

// A copy of `bytes` with `width` bytes at `at` holding `v`.
std::vector<uint8_t> Patched(std::vector<uint8_t> bytes, size_t at, int width,
                             uint64_t v) {
  PutLe(bytes, at, width, v);
  return bytes;
}

// The offset in `bytes` (a valid file) of the header of section (tag,
// index): after the magic, version, architecture and backend blob, each
// section is tag (4), index (4), length (8), CRC (4), payload.
size_t SectionHeader(const std::vector<uint8_t>& bytes, Tag tag,
                     uint32_t index) {
  size_t at = 24 + LeBytes(bytes, 16, 8);
  while (at + 20 <= bytes.size()) {
    if (LeBytes(bytes, at, 4) == static_cast<uint32_t>(tag) &&
        LeBytes(bytes, at + 4, 4) == index) {
      return at;
    }
    at += 20 + LeBytes(bytes, at + 8, 8);
  }
  ADD_FAILURE() << "no section " << snapshot::TagName(tag);
  return 0;
}

// `bytes` rewritten through SnapshotFile with section (tag, 0)'s payload
// changed by `edit` and the backend `backend`: every length and CRC then
// matches the damaged contents, as if the writer itself had been wrong.
std::vector<uint8_t> Rewritten(
    const std::vector<uint8_t>& bytes, Tag tag,
    const std::function<void(std::vector<uint8_t>&)>& edit,
    const std::string& backend = "") {
  absl::StatusOr<SnapshotFile> parsed = SnapshotFile::Parse(bytes);
  EXPECT_OK(parsed.status());
  if (!parsed.ok()) return {};
  SnapshotFile file(parsed->arch(),
                    backend.empty() ? parsed->backend() : backend);
  for (const SnapshotFile::Section& section : parsed->sections()) {
    std::vector<uint8_t> payload = section.payload;
    if (section.tag == tag && section.index == 0) edit(payload);
    file.Add(section.tag, section.index, std::move(payload));
  }
  return file.Serialize();
}

// Scene: what each test starts from: the bytes of a real snapshot, a
// target for them, and the backend both run on.
struct Scene {
  std::string backend;
  std::vector<uint8_t> bytes;
  Target target;
};

absl::StatusOr<Scene> NewScene(Hypervisor& hypervisor) {
  const bool irqchip = hypervisor.CheckCapability(HypervisorCap::kIrqChip);
  Scene scene;
  scene.backend = std::string(hypervisor.kind());
  ASSIGN_OR_RETURN(scene.bytes, WorkerSnapshot(hypervisor, irqchip));
  ASSIGN_OR_RETURN(scene.target, NewTarget(hypervisor, irqchip));
  return scene;
}

// BadFile: bytes a restore must refuse with `code` and a message holding
// `message`; `what` names the damage in a failure.
struct BadFile {
  std::vector<uint8_t> bytes;
  absl::StatusCode code;
  ::testing::Matcher<std::string> message;
  std::string what;
};

// Gives each bad file to the scene's target, expects each refused, and
// then the target unchanged.
void ExpectRefused(Scene& scene, const std::vector<BadFile>& files) {
  for (const BadFile& file : files) {
    EXPECT_THAT(RestoreFile(file.bytes, scene.target, scene.backend),
                StatusIs(file.code, file.message))
        << file.what;
  }
  ExpectUnchanged(scene.target);
}

TEST_P(X86GuestConformance, SnapshotFileCutShortIsRefused) {
  ASSERT_OK_AND_ASSIGN(Scene scene, NewScene(*hypervisor_));
  const std::vector<uint8_t>& bytes = scene.bytes;
  const size_t regs = SectionHeader(bytes, Tag::kVcpuRegs, 0);
  const struct {
    size_t size;
    std::string message;
  } cuts[] = {
      {0, "not an hv snapshot"},
      {20, "backend name needs 8 bytes, 4 are left"},
      {regs + 10, "truncated: 10 bytes where a section header"},
      {regs + 25, "vCPU regs (tag 16) index 0 claims 144 bytes, 5 are left"},
      {bytes.size() / 2, "memory range (tag 1) index 0 claims 2097168 bytes"},
      {bytes.size() - 1, "truncated: 19 bytes where a section header"},
  };
  std::vector<BadFile> files;
  for (const auto& cut : cuts) {
    files.push_back(
        {std::vector<uint8_t>(bytes.begin(), bytes.begin() + cut.size),
         absl::StatusCode::kDataLoss, HasSubstr(cut.message),
         absl::StrCat(cut.size, " of ", bytes.size(), " bytes")});
  }
  ExpectRefused(scene, files);
}

TEST_P(X86GuestConformance, SnapshotFileOfAnotherVersionOrArchIsRefused) {
  ASSERT_OK_AND_ASSIGN(Scene scene, NewScene(*hypervisor_));
  // The format version (after the magic), then the architecture.
  ExpectRefused(
      scene,
      {{Patched(scene.bytes, 8, 4, 2), absl::StatusCode::kUnimplemented,
        HasSubstr("format version 2; this hv reads version 1"), "version 2"},
       {Patched(scene.bytes, 12, 4, 2), absl::StatusCode::kFailedPrecondition,
        HasSubstr("of an aarch64 VM, not x86_64"), "aarch64"},
       {Patched(scene.bytes, 12, 4, 9), absl::StatusCode::kUnimplemented,
        HasSubstr("unknown architecture 9"), "architecture 9"}});
}

TEST_P(X86GuestConformance, SnapshotFileOfAnotherBackendIsRefused) {
  ASSERT_OK_AND_ASSIGN(Scene scene, NewScene(*hypervisor_));
  const std::string& backend = scene.backend;
  const std::string other = backend == "whpx" ? "kvm" : "whpx";
  ExpectRefused(
      scene, {{Rewritten(
                   scene.bytes, Tag::kEnd, [](std::vector<uint8_t>&) {}, other),
               absl::StatusCode::kFailedPrecondition,
               HasSubstr(absl::StrCat("recorded on the \"", other,
                                      "\" backend; this VM runs on \"", backend,
                                      "\"")),
               "backend " + other}});
}

TEST_P(X86GuestConformance, SnapshotFileWithALyingSectionLengthIsRefused) {
  ASSERT_OK_AND_ASSIGN(Scene scene, NewScene(*hypervisor_));
  const std::vector<uint8_t>& bytes = scene.bytes;
  const size_t regs = SectionHeader(bytes, Tag::kVcpuRegs, 0);
  const size_t memory = SectionHeader(bytes, Tag::kMemoryRange, 0);
  const uint64_t memory_length = LeBytes(bytes, memory + 8, 8);
  ExpectRefused(
      scene,
      {// One byte of the next header in the regs section.
       {Patched(bytes, regs + 8, 8, 145), absl::StatusCode::kDataLoss,
        HasSubstr("vCPU regs (tag 16) index 0 is damaged"), "longer regs"},
       {Patched(bytes, memory + 8, 8, uint64_t{1} << 40),
        absl::StatusCode::kDataLoss,
        HasSubstr("memory range (tag 1) index 0 claims 1099511627776 bytes"),
        "huge memory range"},
       {Patched(bytes, memory + 8, 8, memory_length - 4096),
        absl::StatusCode::kDataLoss,
        HasSubstr("memory range (tag 1) index 0 is damaged"),
        "shorter memory range"},
       // The RAM blob's own length, the section resealed: the decoder's
       // turn.
       {Rewritten(bytes, Tag::kMemoryRange,
                  [](std::vector<uint8_t>& payload) {
                    PutLe(payload, 8, 8, 0x1fffff);
                  }),
        absl::StatusCode::kDataLoss,
        HasSubstr("RAM range 0: 1 bytes left over"), "RAM blob length"}});
}

TEST_P(X86GuestConformance, SnapshotFileForAnotherRamSizeIsRefused) {
  const bool irqchip = hypervisor_->CheckCapability(HypervisorCap::kIrqChip);
  const std::string backend(hypervisor_->kind());
  ASSERT_OK_AND_ASSIGN(std::vector<uint8_t> bytes,
                       WorkerSnapshot(*hypervisor_, irqchip));
  ASSERT_OK_AND_ASSIGN(SnapshotFile file, SnapshotFile::Parse(bytes));
  // A VM with twice the RAM, all of it a pattern the snapshot has not.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, VmLike(*hypervisor_, irqchip));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MemoryRegion> region,
                       MemoryRegion::CreateShared("bigger-ram",
                                                  2 * HV_GUEST_RAM_SIZE));
  const absl::Span<uint8_t> ram(region->data(), region->size());
  const std::vector<uint8_t> pattern = Pattern(0x3c, ram.size());
  std::memcpy(ram.data(), pattern.data(), pattern.size());
  ASSERT_OK(vm->AddMemoryRegion(0, std::move(region), {}).status());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<VcpuX86_64> vcpu,
                       vm->AsX86_64()->CreateVcpuX86_64(0));
  ASSERT_OK_AND_ASSIGN(Regs regs_before, vcpu->GetRegs());
  VcpuX86_64* vcpus[] = {vcpu.get()};
  const snapshot::GuestRam bigger[] = {{0, ram, std::nullopt}};
  snapshot::RestoreOptions options;
  options.backend = backend;
  EXPECT_THAT(
      snapshot::RestoreX86_64(file, *vm->AsX86_64(), vcpus, bigger, options),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("the snapshot's RAM range 0 is [0, 0x200000), the "
                         "one given [0, 0x400000)")));
  EXPECT_TRUE(std::equal(ram.begin(), ram.end(), pattern.begin()));
  ASSERT_OK_AND_ASSIGN(Regs regs_after, vcpu->GetRegs());
  EXPECT_EQ(snapshot::EncodeRegs(regs_after), snapshot::EncodeRegs(regs_before));
  // And a RAM range more than the snapshot has.
  const snapshot::GuestRam two[] = {
      {0, ram.subspan(0, HV_GUEST_RAM_SIZE), std::nullopt},
      {HV_GUEST_RAM_SIZE, ram.subspan(HV_GUEST_RAM_SIZE), std::nullopt}};
  EXPECT_THAT(
      snapshot::RestoreX86_64(file, *vm->AsX86_64(), vcpus, two, options),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("no contents for RAM range 1 of the 2 given")));
  EXPECT_TRUE(std::equal(ram.begin(), ram.end(), pattern.begin()));
  vcpu.reset();
  vm.reset();
}

TEST_P(X86GuestConformance, SnapshotFileWithDamagedRegistersIsRefused) {
  ASSERT_OK_AND_ASSIGN(Scene scene, NewScene(*hypervisor_));
  // Each damage rewrites the section with a CRC that matches: only the
  // decoders' checks stand between it and the vCPU. (A flipped bit in rip
  // or rax is another valid state; no reader can tell.)
  const struct {
    Tag tag;
    std::function<void(std::vector<uint8_t>&)> edit;
    std::string message;
    absl::StatusCode code = absl::StatusCode::kDataLoss;
  } damages[] = {
      {Tag::kVcpuRegs,
       [](std::vector<uint8_t>& p) { p[17 * 8 + 5] ^= 0x01; },  // rflags b40
       "vCPU 0 regs: rflags"},
      {Tag::kVcpuRegs, [](std::vector<uint8_t>& p) { p.resize(p.size() - 8); },
       "vCPU 0 regs: register needs 8 bytes, 0 are left"},
      {Tag::kVcpuSregs, [](std::vector<uint8_t>& p) { p[15] = 0x5a; },  // cs
       "vCPU 0 sregs: segment present is 90, not a boolean"},
      {Tag::kVcpuSregs,
       [](std::vector<uint8_t>& p) { p[8 * 23 + 2 * 10 + 5] ^= 0x80; },  // cr0
       "vCPU 0 sregs: cr0"},
      {Tag::kVcpuSregs, [](std::vector<uint8_t>& p) { p.push_back(0); },
       "vCPU 0 sregs: 1 bytes left over"},
      {Tag::kVcpuFpu, [](std::vector<uint8_t>& p) { p.pop_back(); },
       "vCPU 0 fpu: mxcsr needs 4 bytes, 3 are left"},
      {Tag::kVcpuCount, [](std::vector<uint8_t>& p) { p[0] = 2; },
       "the snapshot has 2 vCPUs, 1 were given",
       absl::StatusCode::kFailedPrecondition},
  };
  std::vector<BadFile> files;
  for (const auto& damage : damages) {
    files.push_back({Rewritten(scene.bytes, damage.tag, damage.edit),
                     damage.code, HasSubstr(damage.message),
                     snapshot::TagName(damage.tag)});
  }
  ExpectRefused(scene, files);
}

TEST_P(X86GuestConformance, SnapshotRefusedByTheHypervisorIsPutBack) {
  ASSERT_OK_AND_ASSIGN(Scene scene, NewScene(*hypervisor_));
  // CR4 bit 31 is reserved on every x86 CPU: the decoders let a CR4 value
  // through (its valid bits depend on the CPU), the hypervisor refuses it
  // at set sregs, after the regs, XSAVE and XCRs were written.
  constexpr size_t kCr4 = 8 * 23 + 2 * 10 + 3 * 8;
  ExpectRefused(
      scene, {{Rewritten(scene.bytes, Tag::kVcpuSregs,
                         [](std::vector<uint8_t>& p) { p[kCr4 + 3] |= 0x80; }),
               absl::StatusCode::kInvalidArgument,
               ::testing::AllOf(HasSubstr("vCPU 0: set sregs"),
                                HasSubstr("state was put back")),
               "reserved CR4 bit 31"}});
}

TEST_P(X86GuestConformance, SnapshotFileFailingItsCrcIsRefusedVmStillUsable) {
  ASSERT_OK_AND_ASSIGN(Scene scene, NewScene(*hypervisor_));
  const std::vector<uint8_t>& bytes = scene.bytes;
  const size_t regs = SectionHeader(bytes, Tag::kVcpuRegs, 0);
  const size_t memory = SectionHeader(bytes, Tag::kMemoryRange, 0);
  const struct {
    size_t at;
    std::string message;
  } flips[] = {
      {regs + 20 + 16 * 8, "vCPU regs (tag 16) index 0 is damaged"},  // rip
      {regs + 16, "vCPU regs (tag 16) index 0 is damaged"},  // the CRC
      {memory + 20 + 16 + 0x100000, "memory range (tag 1) index 0 is damaged"},
  };
  std::vector<BadFile> files;
  for (const auto& flip : flips) {
    std::vector<uint8_t> damaged = bytes;
    damaged[flip.at] ^= 0x04;
    files.push_back({std::move(damaged), absl::StatusCode::kDataLoss,
                     HasSubstr(flip.message), absl::StrCat("byte ", flip.at)});
  }
  ExpectRefused(scene, files);
  // The refusals left the VM fit for the good file: restored, the guest
  // finishes its two phases from where it stopped, signalling once more
  // (its second signal; the first, before the capture, is not repeated).
  ASSERT_OK(RestoreFile(bytes, scene.target, scene.backend));
  ASSERT_OK_AND_ASSIGN(GuestRunResult rest, scene.target.guest->Run());
  EXPECT_THAT(rest.reports, SizeIs(2));
  ASSERT_THAT(rest.accesses, SizeIs(1));
  EXPECT_EQ(rest.accesses[0].address, HV_GUEST_SIGNAL_PORT);
}

}  // namespace
}  // namespace hv::testing
