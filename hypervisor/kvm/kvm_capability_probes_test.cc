// HypervisorCap::kTscControl and kXcrs on KVM: reported only where a probe
// showed the setting take effect (an offset written through
// KVM_VCPU_TSC_OFFSET reads back; the guest's XGETBV returns the XCR0 set
// through KVM_SET_XCRS), so a KVM that accepts them and ignores them
// (kvm_pvm) reports false and the calls refuse. Runs on the real /dev/kvm;
// a seam that behaves like kvm_pvm (the write succeeds and changes nothing)
// shows the other side on every host.
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/kvm/kvm_fault_injection.h"
#include "hypervisor/kvm/kvm_hypervisor.h"
#include "hypervisor/kvm/kvm_test_env.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

// How a call the capability does not cover is refused: UNIMPLEMENTED, the
// message holding `text`.
auto Unimplemented(const std::string& text) {
  return StatusIs(absl::StatusCode::kUnimplemented, HasSubstr(text));
}

// The calls a KVM like kvm_pvm accepts and ignores, for
// FaultInjectingKvmSys::IgnoreIoctls().
bool IsTscOffsetAttr(unsigned long request, uintptr_t arg) {
  if (request != KVM_SET_DEVICE_ATTR) return false;
  // SAFETY: KVM_SET_DEVICE_ATTR's argument is a kvm_device_attr the caller
  // owns for the duration of the call.
  const auto* attr = reinterpret_cast<const kvm_device_attr*>(arg);
  return attr->group == KVM_VCPU_TSC_CTRL && attr->attr == KVM_VCPU_TSC_OFFSET;
}

bool IsSetXcrs(unsigned long request, uintptr_t) {
  return request == KVM_SET_XCRS;
}

// The test's own answer, from raw ioctls: does an offset written to a fresh
// vCPU read back? (On kvm_pvm: no. On VMX/SVM KVMs since 5.16: yes.)
bool KernelHonoursTscOffset() {
  const int kvm = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) return false;
  const int vm = ::ioctl(kvm, KVM_CREATE_VM, 0);
  const int vcpu = vm < 0 ? -1 : ::ioctl(vm, KVM_CREATE_VCPU, 0);
  uint64_t offset = 0x5a5a5a5a000;
  kvm_device_attr attr = {};
  attr.group = KVM_VCPU_TSC_CTRL;
  attr.attr = KVM_VCPU_TSC_OFFSET;
  attr.addr = reinterpret_cast<uintptr_t>(&offset);
  bool honoured = vcpu >= 0 && ::ioctl(vcpu, KVM_SET_DEVICE_ATTR, &attr) == 0;
  offset = 0;
  honoured = honoured && ::ioctl(vcpu, KVM_GET_DEVICE_ATTR, &attr) == 0 &&
             offset == 0x5a5a5a5a000;
  for (int fd : {vcpu, vm, kvm}) {
    if (fd >= 0) ::close(fd);
  }
  return honoured;
}

struct Machine {
  std::unique_ptr<KvmHypervisor> kvm;
  std::unique_ptr<Vm> vm;
  std::unique_ptr<VcpuX86_64> vcpu;
};

void CreateMachine(KvmSys* sys, Machine& m) {
  ASSERT_OK_AND_ASSIGN(m.kvm, KvmHypervisor::Create("/dev/kvm", sys));
  ASSERT_OK_AND_ASSIGN(m.vm, m.kvm->CreateVm());
  ASSERT_OK_AND_ASSIGN(m.vcpu, m.vm->AsX86_64()->CreateVcpuX86_64(0));
}

TEST(KvmTscControl, CapabilityMatchesWhatTheKernelHonours) {
  HV_REQUIRE_KVM();
  Machine m;
  ASSERT_NO_FATAL_FAILURE(CreateMachine(RealKvmSys(), m));
  const bool honoured = KernelHonoursTscOffset();
  EXPECT_EQ(m.kvm->CheckCapability(HypervisorCap::kTscControl), honoured);
  if (honoured) {
    // KVM starts a new vCPU's TSC near 0: its offset is minus the host's
    // TSC at creation, so anything but what is set next.
    ASSERT_OK_AND_ASSIGN(uint64_t initial, m.vcpu->GetTscOffset());
    EXPECT_NE(initial, uint64_t{3} << 44);
    ASSERT_OK(m.vcpu->SetTscOffset(uint64_t{3} << 44));
    ASSERT_OK_AND_ASSIGN(uint64_t back, m.vcpu->GetTscOffset());
    EXPECT_EQ(back, uint64_t{3} << 44);
  } else {
    EXPECT_THAT(m.vcpu->SetTscOffset(uint64_t{3} << 44),
                Unimplemented("set TSC offset"));
    EXPECT_THAT(m.vcpu->GetTscOffset(), Unimplemented("get TSC offset"));
  }
}

TEST(KvmTscControl, AKvmThatIgnoresTheOffsetReportsNoTscControl) {
  HV_REQUIRE_KVM();
  testing::FaultInjectingKvmSys sys;  // a kvm_pvm-like KVM
  sys.IgnoreIoctls(IsTscOffsetAttr);
  Machine m;
  ASSERT_NO_FATAL_FAILURE(CreateMachine(&sys, m));
  EXPECT_FALSE(m.kvm->CheckCapability(HypervisorCap::kTscControl));
  EXPECT_THAT(m.vcpu->SetTscOffset(1000), Unimplemented("does not honour it"));
  EXPECT_THAT(m.vcpu->GetTscOffset(), Unimplemented("does not honour it"));
  // The refused call changed nothing the guest could see.
  ASSERT_OK_AND_ASSIGN(Regs regs, m.vcpu->GetRegs());
  EXPECT_EQ(regs.rip, 0xfff0u);
}

TEST(KvmTscControl, AFailedProbeReportsNoTscControl) {
  HV_REQUIRE_KVM();
  for (unsigned long request :
       {static_cast<unsigned long>(KVM_GET_DEVICE_ATTR),
        static_cast<unsigned long>(KVM_HAS_DEVICE_ATTR)}) {
    SCOPED_TRACE(KvmIoctlName(request));
    testing::FaultInjectingKvmSys sys;
    sys.FailIoctl(request, EIO);
    Machine m;
    ASSERT_NO_FATAL_FAILURE(CreateMachine(&sys, m));
    EXPECT_FALSE(m.kvm->CheckCapability(HypervisorCap::kTscControl));
    EXPECT_EQ(sys.faults_injected(), 1u) << "the probe made the call";
  }
}

TEST(KvmTscControl, WithoutVcpuAttributesNoProbeRuns) {
  HV_REQUIRE_KVM();
  testing::FaultInjectingKvmSys sys;
  sys.OverrideExtension(KVM_CAP_VCPU_ATTRIBUTES, 0);
  Machine m;
  ASSERT_NO_FATAL_FAILURE(CreateMachine(&sys, m));
  const uint64_t calls = sys.calls();
  EXPECT_FALSE(m.kvm->CheckCapability(HypervisorCap::kTscControl));
  EXPECT_EQ(sys.calls(), calls);
  EXPECT_THAT(m.vcpu->SetTscOffset(1),
              Unimplemented("KVM_CAP_VCPU_ATTRIBUTES"));
}

TEST(KvmXcrs, AKvmThatIgnoresXcr0ReportsNoXcrs) {
  HV_REQUIRE_KVM();
  testing::FaultInjectingKvmSys sys;  // a kvm_pvm-like KVM
  sys.IgnoreIoctls(IsSetXcrs);
  Machine m;
  ASSERT_NO_FATAL_FAILURE(CreateMachine(&sys, m));
  EXPECT_FALSE(m.kvm->CheckCapability(HypervisorCap::kXcrs));
  EXPECT_THAT(m.vcpu->SetXcrs({Xcr{0, 0x3}}),
              Unimplemented("do not see the XCR0"));
  EXPECT_THAT(m.vcpu->GetXcrs(), Unimplemented("get xcrs"));
}

TEST(KvmXcrs, AFailedProbeReportsNoXcrs) {
  HV_REQUIRE_KVM();
  for (unsigned long request :
       {static_cast<unsigned long>(KVM_RUN),
        static_cast<unsigned long>(KVM_SET_XCRS),
        static_cast<unsigned long>(KVM_SET_SREGS)}) {
    SCOPED_TRACE(KvmIoctlName(request));
    testing::FaultInjectingKvmSys sys;
    Machine m;
    ASSERT_NO_FATAL_FAILURE(CreateMachine(&sys, m));
    sys.FailIoctl(request, EIO);
    const uint64_t faults = sys.faults_injected();
    EXPECT_FALSE(m.kvm->CheckCapability(HypervisorCap::kXcrs));
    EXPECT_EQ(sys.faults_injected(), faults + 1) << "the probe made the call";
  }
}

TEST(KvmXcrs, WhereReportedTheGuestSeesXcr0) {
  HV_REQUIRE_KVM();
  Machine m;
  ASSERT_NO_FATAL_FAILURE(CreateMachine(RealKvmSys(), m));
  // The guest-visible half is X86GuestConformance.XcrsRoundTrip; here, that
  // the capability and the calls agree.
  if (m.kvm->CheckCapability(HypervisorCap::kXcrs)) {
    EXPECT_OK(m.vcpu->GetXcrs());
  } else {
    EXPECT_THAT(m.vcpu->GetXcrs(), Unimplemented("get xcrs"));
  }
}

}  // namespace
}  // namespace hv
