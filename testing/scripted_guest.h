// ScriptedGuest: how the backend-agnostic API conformance suite
// (api_conformance.h) drives a fake kernel interface (testing/fakes/*) that
// cannot execute guest code. The fake plays the guest: a test queues what
// the guest "does" on a vCPU's next run (an MMIO or port access, a PSCI
// system event, a halt), runs the vCPU through the hv API, and checks what
// the backend decoded and what it handed back to the fake's kernel model.
//
// Guest memory accesses go through the fake's model of the most recently
// created VM's memory map: GuestWrite on RAM that was added read-only, or on
// an address no region covers, is what a real guest write would turn into
// an MMIO exit for, so it reports that instead of writing.
//
// Example (a fake implements this; a test uses it):
//   script->QueueMmio(/*vcpu=*/0, 0xd0000000, /*is_write=*/false, {0, 0, 0, 0});
//   ASSERT_OK_AND_ASSIGN(hv::VcpuExit exit, vcpu->Run());
//   ASSERT_OK(vcpu->HandleMmio([](hv::IoRequest& io) { io.data[0] = 0x5a; }));
//   script->QueueMmio(0, 0xd0000004, /*is_write=*/true, {1, 0, 0, 0});
//   ASSERT_OK_AND_ASSIGN(exit, vcpu->Run());  // the read completes on entry
//   EXPECT_THAT(script->CompletedRead(0), ElementsAre(0x5a, 0, 0, 0));
#ifndef HV_TESTING_SCRIPTED_GUEST_H_
#define HV_TESTING_SCRIPTED_GUEST_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "hypervisor/vcpu_exit.h"

namespace hv::testing {

class ScriptedGuest {
 public:
  virtual ~ScriptedGuest() = default;

  // What the guest of vCPU `vcpu` (of the most recently created VM) does on
  // its next Run()s, in queue order. For a write, `data` holds the bytes;
  // for a read its size is the access size (contents ignored). Each Run()
  // that finds the queue empty returns what a real vCPU would when it is
  // kicked/immediate-exited, or blocks until kicked.
  virtual void QueueMmio(uint32_t vcpu, uint64_t address, bool is_write,
                         std::vector<uint8_t> data) = 0;
  // Port I/O; false when the architecture has none (aarch64 fakes).
  virtual bool QueueIo(uint32_t vcpu, uint16_t port, bool is_write,
                       std::vector<uint8_t> data) = 0;
  // A PSCI SYSTEM_OFF / SYSTEM_RESET (aarch64) or the x86 equivalent the
  // hypervisor reports; false when the hypervisor has no such exit.
  virtual bool QueueSystemEvent(uint32_t vcpu, SystemEventKind kind) = 0;
  // A halt (x86 HLT / aarch64 WFI the hypervisor hands to user space);
  // false when the hypervisor never reports one.
  virtual bool QueueHalt(uint32_t vcpu) = 0;

  // CompletedRead(): the bytes the backend gave the fake kernel as the
  // result of vCPU `vcpu`'s last read access (what the guest register
  // receives), as seen when the vCPU next entered the guest.
  virtual std::vector<uint8_t> CompletedRead(uint32_t vcpu) = 0;

  // GuestRead(): `size` bytes at guest-physical `gpa` as the guest sees
  // them through the fake's memory map. NOT_FOUND when any byte is not
  // covered by a region (a guest access there would exit as MMIO).
  virtual absl::StatusOr<std::vector<uint8_t>> GuestRead(uint64_t gpa,
                                                         size_t size) = 0;
  // GuestWrite(): a guest store. Marks dirty pages of logged regions.
  // NOT_FOUND when not covered; PERMISSION_DENIED on read-only memory (a
  // real guest would exit as MMIO). If the address and data match a
  // registered ioeventfd, signals it instead (and returns OK).
  virtual absl::Status GuestWrite(uint64_t gpa,
                                  absl::Span<const uint8_t> data) = 0;

  // InterruptsDelivered(): how many times the fake kernel raised interrupt
  // `gsi` (through an irqfd or the irq-line call) in the latest VM.
  virtual uint64_t InterruptsDelivered(uint32_t gsi) = 0;
};

}  // namespace hv::testing

// HV_SCRIPTED_GUEST_OVERRIDES: declares every ScriptedGuest call in a fake's
// class body, so each fake lists them once, here; what a fake answers where
// its hypervisor has no such exit is said above the macro in its header.
#define HV_SCRIPTED_GUEST_OVERRIDES                                           \
  void QueueMmio(uint32_t vcpu, uint64_t address, bool is_write,              \
                 std::vector<uint8_t> data) override;                         \
  bool QueueIo(uint32_t vcpu, uint16_t port, bool is_write,                   \
               std::vector<uint8_t> data) override;                           \
  bool QueueSystemEvent(uint32_t vcpu, SystemEventKind kind) override;        \
  bool QueueHalt(uint32_t vcpu) override;                                     \
  std::vector<uint8_t> CompletedRead(uint32_t vcpu) override;                 \
  absl::StatusOr<std::vector<uint8_t>> GuestRead(uint64_t gpa, size_t size)   \
      override;                                                               \
  absl::Status GuestWrite(uint64_t gpa, absl::Span<const uint8_t> data)       \
      override;                                                               \
  uint64_t InterruptsDelivered(uint32_t gsi) override;

#endif  // HV_TESTING_SCRIPTED_GUEST_H_
