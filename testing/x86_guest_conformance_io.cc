// X86GuestConformance: port I/O, MMIO, HLT and ioeventfd exits of real
// guest code.

#include <cstdint>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/eventfd.h"
#include "testing/x86_guest_conformance.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

constexpr uint64_t kValue = 0x8badf00ddeadbeefull;

TEST_P(X86GuestConformance, PioOutCarriesData) {
  for (GuestMode mode : kLongModes) {
    SCOPED_TRACE(GuestModeName(mode));
    ASSERT_OK(guest_->Load(guest::PioOut(), mode,
                           [](Regs& regs) { regs.rax = kValue; }));
    ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest_->Run());
    ASSERT_EQ(run.accesses.size(), 3u);
    const size_t sizes[] = {1, 2, 4};
    for (size_t i = 0; i < 3; ++i) {
      const GuestAccess& access = run.accesses[i];
      EXPECT_FALSE(access.mmio);
      EXPECT_TRUE(access.is_write);
      EXPECT_EQ(access.address, HV_GUEST_DATA_PORT);
      EXPECT_EQ(access.exit.kind, VcpuExitKind::kIo);
      EXPECT_EQ(access.exit.io.port, HV_GUEST_DATA_PORT);
      EXPECT_EQ(access.exit.io.size, sizes[i]);
      EXPECT_TRUE(access.exit.io.is_write);
      EXPECT_EQ(access.exit.io.count, 1u);
      EXPECT_THAT(access.data, ElementsAreArray(LowBytes(kValue, sizes[i])));
    }
  }
}

TEST_P(X86GuestConformance, PioInReturnsHostData) {
  for (GuestMode mode : kLongModes) {
    SCOPED_TRACE(GuestModeName(mode));
    ASSERT_OK(guest_->Load(guest::PioInEcho(), mode));
    GuestRunOptions options;
    options.on_read = [](bool mmio, IoRequest& request) {
      const std::vector<uint8_t> answer =
          Pattern(static_cast<uint8_t>(request.data.size()), request.data.size());
      std::copy(answer.begin(), answer.end(), request.data.begin());
    };
    ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest_->Run(options));
    ASSERT_EQ(run.accesses.size(), 3u);
    std::vector<uint64_t> answered;
    const size_t sizes[] = {1, 2, 4};
    for (size_t i = 0; i < 3; ++i) {
      const GuestAccess& access = run.accesses[i];
      EXPECT_FALSE(access.is_write);
      EXPECT_EQ(access.exit.io.port, HV_GUEST_DATA_PORT);
      EXPECT_EQ(access.exit.io.size, sizes[i]);
      EXPECT_FALSE(access.exit.io.is_write);
      EXPECT_THAT(access.data, ElementsAreArray(Pattern(sizes[i], sizes[i])));
      answered.push_back(access.Value());
    }
    // The guest reported exactly the values the host answered.
    EXPECT_THAT(run.reports, ElementsAreArray(answered));
  }
}

TEST_P(X86GuestConformance, MmioWriteCarriesData) {
  const uint64_t address = HV_GUEST_MMIO_BASE + 0x18;
  for (GuestMode mode : kLongModes) {
    SCOPED_TRACE(GuestModeName(mode));
    ASSERT_OK(guest_->Load(guest::MmioWrite(), mode, [&](Regs& regs) {
      regs.rax = kValue;
      regs.rdi = address;
    }));
    ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest_->Run());
    ASSERT_EQ(run.accesses.size(), 4u);
    const size_t sizes[] = {1, 2, 4, 8};
    for (size_t i = 0; i < 4; ++i) {
      const GuestAccess& access = run.accesses[i];
      EXPECT_TRUE(access.mmio);
      EXPECT_TRUE(access.is_write);
      EXPECT_EQ(access.address, address);
      EXPECT_EQ(access.exit.kind, VcpuExitKind::kMmio);
      EXPECT_EQ(access.exit.mmio.address, address);
      EXPECT_EQ(access.exit.mmio.size, sizes[i]);
      EXPECT_TRUE(access.exit.mmio.is_write);
      EXPECT_THAT(access.data, ElementsAreArray(LowBytes(kValue, sizes[i])));
    }
  }
}

TEST_P(X86GuestConformance, MmioReadReturnsHostData) {
  const uint64_t read_address = HV_GUEST_MMIO_BASE + 0x1000;
  const uint64_t write_address = HV_GUEST_MMIO_BASE + 0x2000;
  for (GuestMode mode : kLongModes) {
    SCOPED_TRACE(GuestModeName(mode));
    ASSERT_OK(guest_->Load(guest::MmioEcho(), mode, [&](Regs& regs) {
      regs.rsi = read_address;
      regs.rdi = write_address;
    }));
    GuestRunOptions options;
    options.on_read = [](bool mmio, IoRequest& request) {
      const std::vector<uint8_t> answer =
          Pattern(static_cast<uint8_t>(0x40 + request.data.size()),
                  request.data.size());
      std::copy(answer.begin(), answer.end(), request.data.begin());
    };
    ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest_->Run(options));
    ASSERT_EQ(run.accesses.size(), 8u);
    const size_t sizes[] = {1, 2, 4, 8};
    for (size_t i = 0; i < 4; ++i) {
      const GuestAccess& read = run.accesses[2 * i];
      const GuestAccess& write = run.accesses[2 * i + 1];
      EXPECT_TRUE(read.mmio);
      EXPECT_FALSE(read.is_write);
      EXPECT_EQ(read.exit.mmio.address, read_address);
      EXPECT_EQ(read.exit.mmio.size, sizes[i]);
      EXPECT_FALSE(read.exit.mmio.is_write);
      EXPECT_THAT(read.data,
                  ElementsAreArray(Pattern(0x40 + sizes[i], sizes[i])));
      // The guest stored what it loaded.
      EXPECT_TRUE(write.is_write);
      EXPECT_EQ(write.address, write_address);
      EXPECT_THAT(write.data, ElementsAreArray(read.data));
    }
  }
}

TEST_P(X86GuestConformance, HltExits) {
  // `hlt` is one byte in every mode; CPL3 cannot halt.
  for (GuestMode mode : {GuestMode::kReal, GuestMode::kLong}) {
    SCOPED_TRACE(GuestModeName(mode));
    ASSERT_OK(guest_->Load(guest::Halt(), mode));
    GuestRunOptions options;
    options.until = VcpuExitKind::kHlt;
    ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest_->Run(options));
    EXPECT_EQ(run.exit.kind, VcpuExitKind::kHlt);
    EXPECT_EQ(run.exit_count, 1);
    EXPECT_THAT(run.accesses, IsEmpty());
    // The vCPU stopped after the instruction: linear rip = code + its size.
    ASSERT_OK_AND_ASSIGN(Regs regs, guest_->vcpu().GetRegs());
    ASSERT_OK_AND_ASSIGN(Sregs sregs, guest_->vcpu().GetSregs());
    EXPECT_EQ(sregs.cs.base + regs.rip,
              HV_GUEST_CODE + guest::Halt().bytes.size());
  }
}

TEST_P(X86GuestConformance, IoEventFdCountsWritesWithoutExits) {
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  IoEventAddress address;
  address.space = IoEventAddress::Space::kPio;
  address.address = HV_GUEST_DATA_PORT;
  address.length = 1;
  if (!vm_->CheckCapability(VmCap::kIoEventfd)) {
    EXPECT_THAT(vm_->RegisterIoEvent(event, address),
                StatusIs(absl::StatusCode::kUnimplemented));
    return;
  }
  ASSERT_OK(vm_->RegisterIoEvent(event, address));
  uint64_t writes = 40;
  for (GuestMode mode : kLongModes) {
    SCOPED_TRACE(GuestModeName(mode));
    writes += 24;
    ASSERT_OK(guest_->Load(guest::PioWriteLoop(), mode,
                           [&](Regs& regs) { regs.rcx = writes; }));
    ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest_->Run());
    // Only the done write reached user space; the kernel counted the rest.
    EXPECT_EQ(run.exit_count, 1);
    EXPECT_THAT(run.accesses, IsEmpty());
    EXPECT_THAT(event.Read(), IsOkAndHolds(writes));
  }

  // Unregistered, every write is an exit again and the counter stays zero.
  ASSERT_OK(vm_->UnregisterIoEvent(event, address));
  ASSERT_OK(guest_->Load(guest::PioWriteLoop(), GuestMode::kLong,
                         [](Regs& regs) { regs.rcx = 3; }));
  ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest_->Run());
  EXPECT_EQ(run.exit_count, 4);
  EXPECT_EQ(run.accesses.size(), 3u);
  EXPECT_THAT(event.Read(), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace hv::testing
