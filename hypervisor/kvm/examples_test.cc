// The Example: block of each public KVM backend header, pasted as it stands
// there, so an example that no longer matches the API stops the build. They
// all need /dev/kvm, so they are compiled here, not run (the backend's
// hv_kvm_tests run the same calls).
#include <fcntl.h>
#include <linux/kvm.h>

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "hypervisor/kvm/kvm_device.h"
#include "hypervisor/kvm/kvm_hypervisor.h"
#include "hypervisor/kvm/kvm_sys.h"
#include "hypervisor/kvm/kvm_vcpu.h"
#include "hypervisor/kvm/kvm_vm.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vcpu_exit.h"
#include "hypervisor/vm.h"

namespace hv::examples {

void KvmSysExample() {
  hv::KvmSys* sys = hv::RealKvmSys();
  int fd = sys->Open("/dev/kvm", O_RDWR | O_CLOEXEC);
  int version = sys->Ioctl(fd, KVM_GET_API_VERSION, 0);
  sys->Close(fd);
  (void)version;
}

absl::Status KvmDeviceExample(hv::KvmSys* sys) {
  ASSIGN_OR_RETURN(std::shared_ptr<const hv::KvmDevice> device,
                   hv::KvmDevice::Open(sys, "/dev/kvm"));
  if (device->caps.readonly_mem) { /* ... */ }
  return absl::OkStatus();
}

absl::Status KvmHypervisorExample() {
  ASSIGN_OR_RETURN(std::unique_ptr<hv::KvmHypervisor> kvm,
                   hv::KvmHypervisor::Create("/dev/kvm"));
  ASSIGN_OR_RETURN(std::unique_ptr<hv::Vm> vm, kvm->CreateVm());
  return absl::OkStatus();
}

absl::Status KvmVcpuExample(std::shared_ptr<const hv::KvmDevice> device,
                            int vm_fd) {
  ASSIGN_OR_RETURN(std::unique_ptr<hv::KvmVcpu> vcpu,
                   hv::KvmVcpu::Create(device, vm_fd, 0));
  ASSIGN_OR_RETURN(hv::VcpuExit exit, vcpu->Run());
  return absl::OkStatus();
}

absl::Status KvmVmExample(std::shared_ptr<const hv::KvmDevice> device) {
  ASSIGN_OR_RETURN(std::unique_ptr<hv::KvmVm> vm, hv::KvmVm::Create(device));
  ASSIGN_OR_RETURN(auto ram, hv::MemoryRegion::CreateShared("ram", 1 << 20));
  ASSIGN_OR_RETURN(hv::MemSlot slot, vm->AddMemoryRegion(0, std::move(ram), {}));
  (void)slot;
  return absl::OkStatus();
}

}  // namespace hv::examples

// Links the examples in, so that the linker checks them too.
TEST(KvmExamples, Compile) {
  EXPECT_NE(&hv::examples::KvmSysExample, nullptr);
  EXPECT_NE(&hv::examples::KvmDeviceExample, nullptr);
  EXPECT_NE(&hv::examples::KvmHypervisorExample, nullptr);
  EXPECT_NE(&hv::examples::KvmVcpuExample, nullptr);
  EXPECT_NE(&hv::examples::KvmVmExample, nullptr);
}
