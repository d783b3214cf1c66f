// GuestFixture: an x86_64 VM with guest RAM, one vCPU and a loaded guest
// program, for tests that run real guest code on a backend.
//
// The fixture adds HV_GUEST_RAM_SIZE bytes of shared memory at guest-physical
// 0 (slot ram_slot()), creates vCPU 0, and Load() copies a program from
// testing/guest/*.S to HV_GUEST_CODE and puts the vCPU in the program's mode
// through hv::SetupX86Boot (hypervisor/x86_64/boot.h), which writes the
// tables at HV_GUEST_TABLES:
//   kReal      real mode: cs = HV_GUEST_CODE >> 4, ip = 0, other segments 0,
//              sp = HV_GUEST_REAL_STACK_TOP.
//   kLong      64-bit long mode at CPL0: a GDT with flat code/data segments,
//              page tables identity-mapping the first 4 GiB with 2 MiB pages
//              (so MMIO addresses below 4 GiB are reachable), CR0.PE|PG,
//              CR4.PAE, EFER.LME|LMA, rsp = HV_GUEST_STACK_TOP.
//   kLongUser  the same at CPL3 on user pages, with RFLAGS.IOPL = 3 so
//              in/out work without an I/O bitmap. The TSS is present but
//              empty (rsp0 = 0): programs in this mode must not take
//              interrupts or exceptions. On nested-PVM KVM hosts this is the
//              only mode whose code runs natively rather than emulated.
// The VM must outlive the fixture; create an in-kernel irqchip on the VM
// before the fixture if the test needs one (the vCPU is made in Create()).
//
// Run() runs the vCPU until the program writes HV_GUEST_DONE_PORT (or a given
// exit kind arrives), records every port and MMIO access, collects what the
// program reported on HV_GUEST_REPORT_PORT, and answers reads through a
// callback. Any other exit, or no end within the timeout, is an error that
// names the exit and the guest's rip.
//
// Example:
//   ASSERT_OK_AND_ASSIGN(auto guest, hv::testing::GuestFixture::Create(*vm));
//   ASSERT_OK(guest->Load(hv::testing::guest::PioOut(),
//                         hv::testing::GuestMode::kLong,
//                         [](hv::Regs& regs) { regs.rax = 0x1234; }));
//   ASSERT_OK_AND_ASSIGN(hv::testing::GuestRunResult run, guest->Run());
//   EXPECT_EQ(run.accesses[0].Value(), 0x34);
#ifndef HV_TESTING_GUEST_FIXTURE_H_
#define HV_TESTING_GUEST_FIXTURE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "hypervisor/memory.h"
#include "hypervisor/vcpu_exit.h"
#include "hypervisor/vm.h"
#include "hypervisor/x86_64/regs.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"
#include "testing/guest/layout.h"
#include "testing/guest_programs.h"

namespace hv::testing {

enum class GuestMode { kReal, kLong, kLongUser };
const char* GuestModeName(GuestMode mode);

// GuestAccess: one port or MMIO access the guest made.
struct GuestAccess {
  bool mmio = false;
  bool is_write = false;
  uint64_t address = 0;       // port number or guest-physical address
  std::vector<uint8_t> data;  // written bytes, or the bytes the host answered
  VcpuExit exit;              // the exit that carried the access

  // GuestAccess::Value(): `data` as a little-endian integer.
  uint64_t Value() const;
};

struct GuestRunResult {
  VcpuExit exit;                      // the exit that ended the run
  std::vector<GuestAccess> accesses;  // all but report and done writes
  std::vector<uint64_t> reports;      // the values the program reported
  int exit_count = 0;                 // exits to user space, the last included
  std::vector<MsrRequest> msrs;       // MSR exits answered (with on_msr)
};

struct GuestRunOptions {
  // Stop at the first exit of this kind instead of at the done port.
  std::optional<VcpuExitKind> until;
  // Answers a guest read (an `in` or an MMIO load) by filling request.data.
  // Without it a read is an error.
  std::function<void(bool mmio, IoRequest& request)> on_read;
  // Sees every recorded guest write (e.g. HV_GUEST_SIGNAL_PORT).
  std::function<void(bool mmio, const IoRequest& request)> on_write;
  // Answers kRdMsr / kWrMsr exits through VcpuX86_64::HandleMsr; each
  // answered request lands in GuestRunResult::msrs. Without it such an
  // exit is an error.
  std::function<void(MsrRequest&)> on_msr;
  // After this long the vCPU is kicked and Run() fails.
  absl::Duration timeout = absl::Seconds(30);
};

class GuestFixture {
 public:
  // GuestFixture::Create(): adds guest RAM to `vm` and creates vCPU 0.
  // UNIMPLEMENTED when `vm` is not an x86_64 VM.
  static absl::StatusOr<std::unique_ptr<GuestFixture>> Create(Vm& vm);

  GuestFixture(const GuestFixture&) = delete;
  GuestFixture& operator=(const GuestFixture&) = delete;

  // GuestFixture::Load(): copies `program` to HV_GUEST_CODE, sets the vCPU
  // up for `mode` with every general register zero (but rsp), then lets
  // `set_args` set the program's argument registers.
  absl::Status Load(const GuestProgram& program, GuestMode mode,
                    const std::function<void(Regs&)>& set_args = nullptr);

  // GuestFixture::Run(): see the file comment.
  absl::StatusOr<GuestRunResult> Run(const GuestRunOptions& options = {});

  VcpuX86_64& vcpu() { return *vcpu_; }
  // The host's view of guest RAM, [0, HV_GUEST_RAM_SIZE).
  absl::Span<uint8_t> ram() { return ram_; }
  MemSlot ram_slot() const { return ram_slot_; }

 private:
  GuestFixture(std::unique_ptr<VcpuX86_64> vcpu, absl::Span<uint8_t> ram,
               MemSlot ram_slot)
      : vcpu_(std::move(vcpu)), ram_(ram), ram_slot_(ram_slot) {}

  // Handles one kIo/kMmio exit; sets `*done` at a write to the done port.
  absl::Status HandleAccesses(const VcpuExit& exit,
                              const GuestRunOptions& options,
                              GuestRunResult& result, bool* done);
  // "program P (mode M) <what>: rip=..." for error messages.
  absl::Status Failure(absl::string_view what);

  const std::unique_ptr<VcpuX86_64> vcpu_;
  const absl::Span<uint8_t> ram_;
  const MemSlot ram_slot_;
  GuestProgram program_ = {"(none)", {}};
  GuestMode mode_ = GuestMode::kReal;
};

}  // namespace hv::testing

#endif  // HV_TESTING_GUEST_FIXTURE_H_
