// FaultInjectingKvmSys: a KvmSys that forwards to another (normally
// RealKvmSys()), counts every call, and fails chosen ones with a chosen
// errno: call N (testing/fakes/fault_plan.h says what N counts), or the
// next call of one ioctl request. It
// can also override what KVM_CHECK_EXTENSION reports for a capability, or
// accept chosen ioctls and drop them (a KVM that ignores a setting, as
// kvm_pvm does some), to exercise a backend's behaviour on kernels with
// other limits.
//
// A failed Close or Munmap is still forwarded first (Linux releases a
// descriptor even when close reports an error), so an injected fault never
// leaks a real descriptor or mapping. Every other injected fault is
// returned without calling the kernel. Thread safe.
//
// Example:
//   hv::testing::FaultInjectingKvmSys sys;
//   sys.FailCall(/*index=*/7, EIO);
//   auto kvm = hv::KvmHypervisor::Create("/dev/kvm", &sys);
//   // ... whatever call number 7 was now reports "...: Input/output error".
#ifndef HV_HYPERVISOR_KVM_KVM_FAULT_INJECTION_H_
#define HV_HYPERVISOR_KVM_KVM_FAULT_INJECTION_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "hypervisor/kvm/kvm_sys.h"
#include "testing/fakes/fault_plan.h"

namespace hv::testing {

class FaultInjectingKvmSys final : public KvmSys {
 public:
  explicit FaultInjectingKvmSys(KvmSys* next = RealKvmSys()) : next_(next) {}
  FaultInjectingKvmSys(const FaultInjectingKvmSys&) = delete;
  FaultInjectingKvmSys& operator=(const FaultInjectingKvmSys&) = delete;

  // FaultInjectingKvmSys::FailCall(): the call with 0-based number `index`
  // (counted since construction or ResetCount(), as FaultPlan counts)
  // fails with `error`.
  void FailCall(uint64_t index, int error);
  // FaultInjectingKvmSys::FailIoctl(): the next ioctl with `request` fails
  // with `error`, after `skip` matching calls succeeded.
  void FailIoctl(unsigned long request, int error, int skip = 0);
  // FaultInjectingKvmSys::OverrideExtension(): KVM_CHECK_EXTENSION(cap)
  // returns `value` (without asking the kernel).
  void OverrideExtension(int cap, int value);
  // FaultInjectingKvmSys::IgnoreIoctls(): an ioctl `ignored` picks (by its
  // request and argument) returns 0 without reaching the kernel.
  void IgnoreIoctls(std::function<bool(unsigned long, uintptr_t)> ignored);
  // FaultInjectingKvmSys::ClearFaults(): no more faults, overrides or
  // ignored ioctls.
  void ClearFaults();
  // FaultInjectingKvmSys::ResetCount(): calls() back to 0 (and FailCall
  // plans dropped, see FaultPlan::Reset()).
  void ResetCount();

  uint64_t calls() const;
  uint64_t faults_injected() const;
  // The name of the last call that was made to fail ("KVM_CREATE_VCPU",
  // "mmap", "close", ...), or "" when none was.
  std::string last_fault() const;

  HV_IOCTL_SEAM_OVERRIDES

 private:
  KvmSys* const next_;
  FaultPlan plan_;
  mutable std::mutex mutex_;
  std::map<int, int> extensions_ ABSL_GUARDED_BY(mutex_);
  std::function<bool(unsigned long, uintptr_t)> ignored_
      ABSL_GUARDED_BY(mutex_);
};

}  // namespace hv::testing

#endif  // HV_HYPERVISOR_KVM_KVM_FAULT_INJECTION_H_
