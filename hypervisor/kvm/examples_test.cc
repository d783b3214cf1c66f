// The Example block of each header in hypervisor/kvm, pasted as it stands
// there under a line naming the header (tools/examples_check.sh), so an
// example that no longer matches the API stops the build. They all need
// /dev/kvm, so they are compiled here, not run (the backend's hv_kvm_tests
// run the same calls).
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "hypervisor/aarch64/vcpu_aarch64.h"
#include "hypervisor/aarch64/vm_aarch64.h"
#include "hypervisor/kvm/kvm_abi.h"
#include "hypervisor/kvm/kvm_device.h"
#include "hypervisor/kvm/kvm_fault_injection.h"
#include "hypervisor/kvm/kvm_fault_run.h"
#include "hypervisor/kvm/kvm_hypervisor.h"
#include "hypervisor/kvm/kvm_ioctl.h"
#include "hypervisor/kvm/kvm_guest_debug.h"
#include "hypervisor/kvm/kvm_mp_state.h"
#include "hypervisor/kvm/kvm_sys.h"
#include "hypervisor/kvm/kvm_test_env.h"
#include "hypervisor/kvm/kvm_vcpu.h"
#include "hypervisor/kvm/kvm_vm.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vcpu_exit.h"
#include "hypervisor/vm.h"
#include "hypervisor/x86_64/vcpu_x86_64.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "testing/fault_sweep.h"

#if defined(__aarch64__)
#include "hypervisor/kvm/kvm_abi_aarch64.h"
#else
#include "hypervisor/kvm/kvm_abi_x86_64.h"
#include "hypervisor/kvm/kvm_benchmark_support.h"
#endif

namespace hv::examples {

// hypervisor/kvm/kvm_abi.h
void KvmAbiExample(hv::KvmSys* sys, int vm_fd, uint32_t slot) {
  kvm_userspace_memory_region region = {};
  region.slot = slot;
  sys->IoctlPtr(vm_fd, KVM_SET_USER_MEMORY_REGION, &region);
}

#if defined(__aarch64__)
// hypervisor/kvm/kvm_abi_aarch64.h
void KvmAbiAArch64Example(hv::KvmSys* sys, int vcpu_fd) {
  uint64_t pc = 0;
  kvm_one_reg reg = {hv::kvm_abi::CoreRegId(offsetof(kvm_regs, regs.pc)),
                     reinterpret_cast<uintptr_t>(&pc)};
  sys->IoctlPtr(vcpu_fd, KVM_GET_ONE_REG, &reg);
}
#else
// hypervisor/kvm/kvm_abi_x86_64.h
void KvmAbiX86_64Example(hv::KvmSys* sys, int vcpu_fd) {
  hv::kvm_abi::FlexBuffer<hv::kvm_abi::MsrsHeader, kvm_msr_entry> msrs(2);
  sys->IoctlPtr(vcpu_fd, hv::kvm_abi::kGetMsrs, msrs.data());
}

// hypervisor/kvm/kvm_benchmark_support.h
absl::Status KvmBenchmarkSupportExample() {
  using hv::bench::GuestLoop;
  ASSIGN_OR_RETURN(auto raw, hv::bench::CreateRawGuest(GuestLoop::kPioOut));
  ioctl(raw->vcpu->fd(), KVM_RUN, 0);   // one exit: raw->vcpu->run()->io
  ASSIGN_OR_RETURN(auto guest, hv::bench::CreateHvGuest(GuestLoop::kPioOut));
  ASSIGN_OR_RETURN(hv::VcpuExit exit, guest->vcpu->Run());
  return absl::OkStatus();
}
#endif

// hypervisor/kvm/kvm_device.h
absl::Status KvmDeviceExample(hv::KvmSys* sys) {
  ASSIGN_OR_RETURN(std::shared_ptr<const hv::KvmDevice> device,
                   hv::KvmDevice::Open(sys, "/dev/kvm"));
  if (device->caps.readonly_mem) { /* ... */ }
  return absl::OkStatus();
}

// hypervisor/kvm/kvm_hypervisor.h
absl::Status KvmHypervisorExample() {
  ASSIGN_OR_RETURN(std::unique_ptr<hv::KvmHypervisor> kvm,
                   hv::KvmHypervisor::Create("/dev/kvm"));
  ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, kvm->CreateVm());
  return absl::OkStatus();
}

// hypervisor/kvm/kvm_ioctl.h
absl::Status KvmIoctlExample(hv::KvmSys* sys, int fd, int vm_fd) {
  kvm_irq_level level = {};
  RETURN_IF_ERROR(hv::KvmIoctl(sys, vm_fd, KVM_IRQ_LINE, &level, "KVM_IRQ_LINE"));
  ASSIGN_OR_RETURN(int slots, hv::KvmCheckExtension(sys, fd, KVM_CAP_NR_MEMSLOTS,
                                                     "KVM_CAP_NR_MEMSLOTS"));
  (void)slots;
  return absl::OkStatus();
}

// hypervisor/kvm/kvm_guest_debug.h (KVM_GUESTDBG_USE_HW is arm64's name;
// x86's is KVM_GUESTDBG_USE_HW_BP, of the same value)
[[maybe_unused]] uint32_t KvmGuestDebugExample(
    const hv::Vcpu::GuestDebug& debug) {
#if !defined(KVM_GUESTDBG_USE_HW)
  constexpr uint32_t KVM_GUESTDBG_USE_HW = KVM_GUESTDBG_USE_HW_BP;
#endif
  kvm_guest_debug request = {};
  request.control = hv::KvmGuestDebugControl(debug, KVM_GUESTDBG_USE_HW);
  return request.control;
}

// hypervisor/kvm/kvm_mp_state.h
absl::Status KvmMpStateExample(std::shared_ptr<const hv::KvmDevice> device,
                               int vcpu_fd) {
  ASSIGN_OR_RETURN(hv::MpState state,
                   hv::GetKvmMpState(*device, vcpu_fd, hv::MpArch::kX86));
  RETURN_IF_ERROR(hv::SetKvmMpState(*device, vcpu_fd, hv::MpArch::kX86, state));
  return absl::OkStatus();
}

// hypervisor/kvm/kvm_sys.h
void KvmSysExample() {
  hv::KvmSys* sys = hv::RealKvmSys();
  int fd = sys->Open("/dev/kvm", O_RDWR | O_CLOEXEC);
  int version = sys->Ioctl(fd, KVM_GET_API_VERSION, 0);
  sys->Close(fd);
  (void)version;
}

// hypervisor/kvm/kvm_vcpu.h
absl::Status KvmVcpuExample(std::shared_ptr<const hv::KvmDevice> device) {
  ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, hv::CreateKvmVm(device));
  ASSIGN_OR_RETURN(std::unique_ptr<hv::Vcpu> vcpu, vm->CreateVcpu(0));
  ASSIGN_OR_RETURN(hv::VcpuExit exit, vcpu->Run());
  (void)exit;
  return absl::OkStatus();
}

// hypervisor/kvm/kvm_vm.h
absl::Status KvmVmExample(std::shared_ptr<const hv::KvmDevice> device) {
  ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, hv::CreateKvmVm(device));
  ASSIGN_OR_RETURN(auto ram, hv::MemoryRegion::CreateShared("ram", 1 << 20));
  ASSIGN_OR_RETURN(hv::MemSlot slot, vm->AddMemoryRegion(0, std::move(ram), {}));
  (void)slot;
  return absl::OkStatus();
}

// hypervisor/kvm/kvm_vm_x86_64.h
absl::Status KvmVmX86_64Example(std::shared_ptr<const hv::KvmDevice> device) {
  ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, hv::CreateKvmVm(device));
  hv::VmX86_64* x86 = vm->AsX86_64();  // a KvmVmX86_64
  RETURN_IF_ERROR(x86->CreateIrqChip(hv::IrqChipKind::kKernel));
  ASSIGN_OR_RETURN(std::unique_ptr<hv::VcpuX86_64> vcpu,
                   x86->CreateVcpuX86_64(0));
  return absl::OkStatus();
}

// hypervisor/kvm/kvm_vm_aarch64.h
absl::Status KvmVmAArch64Example(std::shared_ptr<const hv::KvmDevice> device) {
  ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, hv::CreateKvmVm(device));
  hv::VmAArch64* arm = vm->AsAArch64();  // a KvmVmAArch64
  RETURN_IF_ERROR(arm->CreateGic(
      {hv::GicConfig::Version::kV3, 0x08000000, 0x080a0000, 96}));
  ASSIGN_OR_RETURN(std::unique_ptr<hv::VcpuAArch64> vcpu,
                   arm->CreateVcpuAArch64(0));
  return absl::OkStatus();
}

// hypervisor/kvm/kvm_vcpu_x86_64.h
absl::Status KvmVcpuX86_64Example(std::shared_ptr<const hv::KvmDevice> device) {
  ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, hv::CreateKvmVm(device));
  ASSIGN_OR_RETURN(std::unique_ptr<hv::VcpuX86_64> vcpu,
                   vm->AsX86_64()->CreateVcpuX86_64(0));  // a KvmVcpuX86_64
  ASSIGN_OR_RETURN(hv::Regs regs, vcpu->GetRegs());
  (void)regs;
  return absl::OkStatus();
}

// hypervisor/kvm/kvm_vcpu_aarch64.h
absl::Status KvmVcpuAArch64Example(
    std::shared_ptr<const hv::KvmDevice> device) {
  ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, hv::CreateKvmVm(device));
  ASSIGN_OR_RETURN(std::unique_ptr<hv::VcpuAArch64> vcpu,  // KvmVcpuAArch64
                   vm->AsAArch64()->CreateVcpuAArch64(0));
  RETURN_IF_ERROR(vcpu->Init({hv::VcpuFeature::kPsci0_2}));
  return absl::OkStatus();
}

// hypervisor/kvm/kvm_test_env.h
// DISABLED_: compiled and listed, never run (a plain cc_test may meet no
// /dev/kvm, where HV_REQUIRE_KVM() fails by design).
TEST(KvmVm, DISABLED_AddsRegion) {
  HV_REQUIRE_KVM();
  // ...
}

using ::hv::testing::CheckKvmFaultRun;
using ::hv::testing::CountOpenFds;
using ::hv::testing::FaultInjectingKvmSys;
using ::hv::testing::FaultSweep;
using ::hv::testing::SweepFaults;

// hypervisor/kvm/kvm_fault_injection.h
// Compiled, not run: it opens /dev/kvm.
void KvmFaultInjectionExample() {
  hv::testing::FaultInjectingKvmSys sys;
  sys.FailCall(/*index=*/7, EIO);
  auto kvm = hv::KvmHypervisor::Create("/dev/kvm", &sys);
  // ... whatever call number 7 was now reports "...: Input/output error".
}

// hypervisor/kvm/kvm_fault_run.h
// Compiled, not run: its scenario would be a KVM VM's.
struct Outcome {
  absl::Status status;
  std::string step;
  std::string table_changed;
};
Outcome RunScenario(FaultInjectingKvmSys* sys) {
  return {hv::KvmHypervisor::Create("/dev/kvm", sys).status(), "open", ""};
}

FaultSweep KvmFaultRunExample() {
  const int fds_at_start = CountOpenFds();
  const FaultSweep sweep = SweepFaults([&](uint64_t n) {
    FaultInjectingKvmSys sys;
    sys.FailCall(n, EIO);
    const Outcome outcome = RunScenario(&sys);
    return CheckKvmFaultRun(sys, {outcome.status, outcome.step,
                                  outcome.table_changed}, fds_at_start);
  });
  return sweep;
}

TEST(KvmExamples, FaultInjectionAndRun) {
  EXPECT_NE(&KvmFaultInjectionExample, nullptr);
  EXPECT_NE(&KvmFaultRunExample, nullptr);
}

}  // namespace hv::examples

// Links the examples in, so that the linker checks them too.
TEST(KvmExamples, Compile) {
  EXPECT_NE(&hv::examples::KvmAbiExample, nullptr);
#if defined(__aarch64__)
  EXPECT_NE(&hv::examples::KvmAbiAArch64Example, nullptr);
#else
  EXPECT_NE(&hv::examples::KvmAbiX86_64Example, nullptr);
  EXPECT_NE(&hv::examples::KvmBenchmarkSupportExample, nullptr);
#endif
  EXPECT_NE(&hv::examples::KvmDeviceExample, nullptr);
  EXPECT_NE(&hv::examples::KvmHypervisorExample, nullptr);
  EXPECT_NE(&hv::examples::KvmIoctlExample, nullptr);
  EXPECT_NE(&hv::examples::KvmMpStateExample, nullptr);
  EXPECT_NE(&hv::examples::KvmSysExample, nullptr);
  EXPECT_NE(&hv::examples::KvmVcpuExample, nullptr);
  EXPECT_NE(&hv::examples::KvmVmExample, nullptr);
  EXPECT_NE(&hv::examples::KvmVmX86_64Example, nullptr);
  EXPECT_NE(&hv::examples::KvmVmAArch64Example, nullptr);
  EXPECT_NE(&hv::examples::KvmVcpuX86_64Example, nullptr);
  EXPECT_NE(&hv::examples::KvmVcpuAArch64Example, nullptr);
}
