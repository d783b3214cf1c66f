// kvm_irq_benchmark: interrupt injection through hv against the raw kernel
// interface, on two VMs in the same process, each with the in-kernel
// irqchip and one vCPU (whose local APIC the MSIs address):
//
//   BM_SignalMsi_*  Vm::SignalMsi against ioctl(KVM_SIGNAL_MSI)
//   BM_IrqfdMsi_*   EventFd::Write on an irqfd whose GSI is routed to an
//                   MSI (Vm::SetGsiRouting, Vm::RegisterIrqfd) against
//                   write(2) on one set up with raw KVM_SET_GSI_ROUTING and
//                   KVM_IRQFD; the kernel delivers the MSI in the write
//
// The vCPU never runs, so its APIC is still software-disabled and each MSI
// is refused there (KVM_SIGNAL_MSI returns 0, "blocked"): both sides pay
// the same kernel path, which is what the ratio is about. Each _Hv
// benchmark also runs 2000 hv and raw operations alternately and reports
// the medians as `paired_hv_ns` / `paired_raw_ns` (MeasurePaired), the
// steadier ratio on a noisy machine. Benchmarks are never asserted on.
//
//   tools/bazel run --config=opt //hypervisor/kvm:kvm_irq_benchmark
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "benchmark/benchmark.h"
#include "hypervisor/kvm/kvm_abi.h"
#include "hypervisor/kvm/kvm_benchmark_main.h"
#include "hypervisor/kvm/kvm_benchmark_support.h"
#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/os/unique_fd.h"
#include "hypervisor/vm.h"
#include "hypervisor/x86_64/vm_x86_64.h"

namespace hv::bench {
namespace {

constexpr uint32_t kMsiGsi = 32;
constexpr uint64_t kApicAddress = 0xfee00000;
constexpr uint32_t kVector = 0x40;
constexpr int kRounds = 2000;

// The hv side: a KVM VM with the kernel irqchip, one vCPU, and an irqfd on
// kMsiGsi, which routes to an MSI at kVector.
struct HvIrqVm {
  std::unique_ptr<Hypervisor> hypervisor;
  std::unique_ptr<Vm> vm;
  std::unique_ptr<Vcpu> vcpu;
  std::optional<EventFd> irqfd;
  MsiMessage msi;
};

absl::StatusOr<std::unique_ptr<HvIrqVm>> CreateHvIrqVm() {
  auto out = std::make_unique<HvIrqVm>();
  ASSIGN_OR_RETURN(out->hypervisor, CreateHvKvm());
  ASSIGN_OR_RETURN(out->vm, out->hypervisor->CreateVm());
  RETURN_IF_ERROR(out->vm->AsX86_64()->CreateIrqChip(IrqChipKind::kKernel, 0));
  ASSIGN_OR_RETURN(out->vcpu, out->vm->CreateVcpu(0));
  out->msi.address = kApicAddress;
  out->msi.data = kVector;
  RETURN_IF_ERROR(out->vm->SetGsiRouting({IrqRoute::Msi(kMsiGsi, out->msi)}));
  ASSIGN_OR_RETURN(EventFd event, EventFd::Create());
  RETURN_IF_ERROR(out->vm->RegisterIrqfd(event, kMsiGsi));
  out->irqfd.emplace(std::move(event));
  return out;
}

// The raw side: the same, with ioctls on file descriptors of its own.
struct RawIrqVm {
  UniqueFd kvm, vm, vcpu, irqfd;
  kvm_msi msi = {};
};

absl::StatusOr<std::unique_ptr<RawIrqVm>> CreateRawIrqVm() {
  auto out = std::make_unique<RawIrqVm>();
  out->kvm = UniqueFd(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
  if (!out->kvm.valid()) return ErrnoStatus("open /dev/kvm");
  out->vm = UniqueFd(::ioctl(out->kvm.get(), KVM_CREATE_VM, 0));
  if (!out->vm.valid()) return ErrnoStatus("KVM_CREATE_VM");
  if (::ioctl(out->vm.get(), KVM_CREATE_IRQCHIP, 0) < 0) {
    return ErrnoStatus("KVM_CREATE_IRQCHIP");
  }
  out->vcpu = UniqueFd(::ioctl(out->vm.get(), KVM_CREATE_VCPU, 0));
  if (!out->vcpu.valid()) return ErrnoStatus("KVM_CREATE_VCPU");
  out->msi.address_lo = static_cast<uint32_t>(kApicAddress);
  out->msi.data = kVector;
  kvm_abi::FlexBuffer<kvm_abi::IrqRoutingHeader, kvm_irq_routing_entry> table(1);
  table.header()->nr = 1;
  table.entries()[0].gsi = kMsiGsi;
  table.entries()[0].type = KVM_IRQ_ROUTING_MSI;
  table.entries()[0].u.msi.address_lo = static_cast<uint32_t>(kApicAddress);
  table.entries()[0].u.msi.data = kVector;
  if (::ioctl(out->vm.get(), kvm_abi::kSetGsiRouting, table.data()) < 0) {
    return ErrnoStatus("KVM_SET_GSI_ROUTING");
  }
  out->irqfd = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!out->irqfd.valid()) return ErrnoStatus("eventfd");
  kvm_irqfd request = {};
  request.fd = static_cast<uint32_t>(out->irqfd.get());
  request.gsi = kMsiGsi;
  if (::ioctl(out->vm.get(), KVM_IRQFD, &request) < 0) {
    return ErrnoStatus("KVM_IRQFD");
  }
  return out;
}

bool HvSignalMsi(HvIrqVm& vm) { return vm.vm->SignalMsi(vm.msi).ok(); }
bool RawSignalMsi(RawIrqVm& vm) {
  return ::ioctl(vm.vm.get(), KVM_SIGNAL_MSI, &vm.msi) >= 0;
}
bool HvIrqfdMsi(HvIrqVm& vm) { return vm.irqfd->Write(1).ok(); }
bool RawIrqfdMsi(RawIrqVm& vm) {
  const uint64_t one = 1;
  return ::write(vm.irqfd.get(), &one, sizeof(one)) == sizeof(one);
}

// The two VMs every benchmark uses, created once per process.
struct Vms {
  absl::StatusOr<std::unique_ptr<HvIrqVm>> hv = CreateHvIrqVm();
  absl::StatusOr<std::unique_ptr<RawIrqVm>> raw = CreateRawIrqVm();
  absl::Status status() const {
    RETURN_IF_ERROR(hv.status());
    return raw.status();
  }
};
Vms& SharedVms() {
  static Vms* vms = new Vms();
  return *vms;
}

template <typename HvOp, typename RawOp>
void RunHv(benchmark::State& state, HvOp hv_op, RawOp raw_op) {
  Vms& vms = SharedVms();
  if (!SkipUnlessOk(state, vms.status())) return;
  HvIrqVm& hv = **vms.hv;
  RawIrqVm& raw = **vms.raw;
  absl::StatusOr<PairedTimes> paired = MeasurePaired(
      kRounds, [&] { return hv_op(hv); }, [&] { return raw_op(raw); });
  if (!SkipUnlessOk(state, paired.status())) return;
  for (auto _ : state) {
    if (!hv_op(hv)) {
      state.SkipWithError("hv operation failed");
      break;
    }
  }
  state.counters["paired_hv_ns"] = paired->hv_ns;
  state.counters["paired_raw_ns"] = paired->raw_ns;
}

template <typename RawOp>
void RunRaw(benchmark::State& state, RawOp raw_op) {
  Vms& vms = SharedVms();
  if (!SkipUnlessOk(state, vms.status())) return;
  RawIrqVm& raw = **vms.raw;
  for (auto _ : state) {
    if (!raw_op(raw)) {
      state.SkipWithError("raw operation failed");
      break;
    }
  }
}

void BM_SignalMsi_Hv(benchmark::State& state) {
  RunHv(state, HvSignalMsi, RawSignalMsi);
}
void BM_SignalMsi_Raw(benchmark::State& state) { RunRaw(state, RawSignalMsi); }
void BM_IrqfdMsi_Hv(benchmark::State& state) {
  RunHv(state, HvIrqfdMsi, RawIrqfdMsi);
}
void BM_IrqfdMsi_Raw(benchmark::State& state) { RunRaw(state, RawIrqfdMsi); }
BENCHMARK(BM_SignalMsi_Hv);
BENCHMARK(BM_SignalMsi_Raw);
BENCHMARK(BM_IrqfdMsi_Hv);
BENCHMARK(BM_IrqfdMsi_Raw);

}  // namespace
}  // namespace hv::bench

int main(int argc, char** argv) { return hv::bench::BenchmarkMain(argc, argv); }
