// The Example block of each header in devices/, pasted as it stands there
// under a line naming the header (tools/examples_check.sh), so an example
// that no longer matches the API stops the build. Each device is pure: the
// examples run, and the test then plays the guest with IoRequests on its
// ports (the UART's interrupt line reaches a FakeVm).
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "devices/i8042.h"
#include "devices/pci_host_bridge.h"
#include "devices/port_io_test_util.h"
#include "devices/serial_16550.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/vcpu_exit.h"
#include "hypervisor/vm.h"
#include "testing/fakes/fake_vm.h"
#include "testing/status_matchers.h"
#include "virtio/pci_bus.h"

namespace hv {
namespace {

using ::hv::testing::FakeVm;
using ::hv::testing::IsOk;
using ::testing::ElementsAre;

// devices/i8042.h
// What the example calls: a machine that counts the resets asked of it.
struct ResettableMachine {
  void RequestReset() { ++resets; }
  int resets = 0;
};

TEST(DevicesExamples, I8042) {
  ResettableMachine machine;
  hv::I8042 i8042([&] { machine.RequestReset(); });
  // On a kIo exit: if (i8042.HandlesPort(io.address)) i8042.HandleIo(io);
  hv::snapshot::ByteWriter out;
  i8042.SaveState(out);  // between runs
  EXPECT_EQ(out.bytes().size(), 4u + 1 + 1 + 1 + 1 + 1 + 8 + 1);

  EXPECT_FALSE(i8042.HandlesPort(0x61));
  PortOut(i8042, I8042::kCommandPort, 0xaa);  // self test
  EXPECT_EQ(PortIn(i8042, I8042::kDataPort), 0x55);
  EXPECT_EQ(machine.resets, 0);
  PortOut(i8042, I8042::kCommandPort, 0xfe);  // pulse the reset line: reboot=k
  EXPECT_EQ(machine.resets, 1);
  EXPECT_EQ(i8042.resets(), 1u);
}

// devices/pci_host_bridge.h
// Returns the bridge, which the bus does not own.
absl::StatusOr<std::unique_ptr<hv::PciHostBridge>> PciHostBridgeExample(
    virtio::PciBus* bus) {
  ASSIGN_OR_RETURN(auto bridge, hv::PciHostBridge::Create());
  RETURN_IF_ERROR(bus->AddDevice(/*device=*/0, /*function=*/0, bridge.get()));
  hv::snapshot::ByteWriter out;
  bridge->SaveState(out);  // between runs
  if (out.bytes().size() != 4 + 256) return absl::InternalError("state size");
  return bridge;
}

TEST(DevicesExamples, PciHostBridge) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<virtio::PciBus> bus, virtio::PciBus::Create());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<PciHostBridge> bridge,
                       PciHostBridgeExample(bus.get()));
  // What Linux's direct probing looks for on bus 0: an i440FX host bridge.
  EXPECT_EQ(ReadPciConfig(*bus, 0, 0x00), 0x12378086u);       // device, vendor
  EXPECT_EQ(ReadPciConfig(*bus, 0, 0x08) >> 16, 0x0600u);     // class 06/00
}

// devices/serial_16550.h
// Returns the UART; `vm` is the caller's, which set_irq keeps using.
absl::StatusOr<std::unique_ptr<hv::Serial16550>> Serial16550Example(
    const std::unique_ptr<FakeVm>& vm) {
  hv::Serial16550::Options options;
  options.output = [](uint8_t byte) { std::putchar(byte); };
  options.set_irq = [&vm](bool level) { vm->SetIrqLine(4, level).IgnoreError(); };
  ASSIGN_OR_RETURN(auto uart, hv::Serial16550::Create(options));
  // On a kIo exit: if (uart->HandlesPort(io.address)) uart->HandleIo(io);
  uart->QueueInput("ls\n");
  hv::snapshot::ByteWriter out;
  uart->SaveState(out);  // between runs: no vCPU in HandleIo
  if (out.bytes().back() != '\n') return absl::InternalError("the FIFO is not saved");
  return uart;
}

// The FakeVm's SetIrqLine calls, as "irq=level".
std::vector<std::string> IrqCalls(const FakeVm& vm) {
  std::vector<std::string> calls;
  for (const FakeVm::Call& call : vm.Calls()) {
    if (call.method != FakeVm::Method::kSetIrqLine) continue;
    calls.push_back(std::to_string(call.value) + "=" + std::to_string(call.size));
  }
  return calls;
}

TEST(DevicesExamples, Serial16550) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeVm> vm, FakeVm::Create());
  ::testing::internal::CaptureStdout();
  absl::StatusOr<std::unique_ptr<Serial16550>> created = Serial16550Example(vm);
  ASSERT_THAT(created.status(), IsOk());
  Serial16550& uart = **created;
  const uint16_t com1 = Serial16550::kCom1Port;

  // The guest enables the received-data interrupt and OUT2 (the PC's
  // interrupt gate): the queued "ls\n" raises IRQ 4 on the Vm.
  PortOut(uart, com1 + 1, 0x01);  // IER: received data available
  PortOut(uart, com1 + 4, 0x08);  // MCR: OUT2
  EXPECT_THAT(IrqCalls(*vm), ElementsAre("4=1"));
  std::string read;
  while (PortIn(uart, com1 + 5) & 0x01) read.push_back(static_cast<char>(PortIn(uart, com1)));
  EXPECT_EQ(read, "ls\n");
  EXPECT_THAT(IrqCalls(*vm), ElementsAre("4=1", "4=0"));

  // What the guest transmits goes to options.output: stdout.
  PortOut(uart, com1, 'o');
  PortOut(uart, com1, 'k');
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "ok");
}

}  // namespace
}  // namespace hv
