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

// `access` is one guest access of `size` bytes at `address` (a port, or a
// guest-physical address when `mmio`), a write when `is_write`, carrying
// `data`; and the exit that brought it says the same.
void ExpectAccess(const GuestAccess& access, bool mmio, bool is_write,
                  uint64_t address, size_t size,
                  const std::vector<uint8_t>& data) {
  EXPECT_EQ(access.mmio, mmio);
  EXPECT_EQ(access.is_write, is_write);
  EXPECT_EQ(access.address, address);
  EXPECT_THAT(access.data, ElementsAreArray(data));
  if (mmio) {
    EXPECT_EQ(access.exit.kind, VcpuExitKind::kMmio);
    EXPECT_EQ(access.exit.mmio.address, address);
    EXPECT_EQ(access.exit.mmio.size, size);
    EXPECT_EQ(access.exit.mmio.is_write, is_write);
  } else {
    EXPECT_EQ(access.exit.kind, VcpuExitKind::kIo);
    EXPECT_EQ(access.exit.io.port, address);
    EXPECT_EQ(access.exit.io.size, size);
    EXPECT_EQ(access.exit.io.is_write, is_write);
    EXPECT_EQ(access.exit.io.count, 1u);
  }
}

TEST_P(X86GuestConformance, PioOutCarriesData) {
  for (GuestMode mode : kLongModes) {
    SCOPED_TRACE(GuestModeName(mode));
    ASSERT_OK(guest_->Load(guest::PioOut(), mode,
                           [](Regs& regs) { regs.rax = kValue; }));
    ASSERT_OK_AND_ASSIGN(GuestRunResult run, guest_->Run());
    ASSERT_EQ(run.accesses.size(), 3u);
    const size_t sizes[] = {1, 2, 4};
    for (size_t i = 0; i < 3; ++i) {
      ExpectAccess(run.accesses[i], /*mmio=*/false, /*is_write=*/true,
                   HV_GUEST_DATA_PORT, sizes[i], LowBytes(kValue, sizes[i]));
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
      ExpectAccess(run.accesses[i], /*mmio=*/false, /*is_write=*/false,
                   HV_GUEST_DATA_PORT, sizes[i], Pattern(sizes[i], sizes[i]));
      answered.push_back(run.accesses[i].Value());
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
      ExpectAccess(run.accesses[i], /*mmio=*/true, /*is_write=*/true, address,
                   sizes[i], LowBytes(kValue, sizes[i]));
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
      ExpectAccess(read, /*mmio=*/true, /*is_write=*/false, read_address,
                   sizes[i], Pattern(0x40 + sizes[i], sizes[i]));
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
  HV_UNIMPLEMENTED_WITHOUT(*vm_, VmCap::kIoEventfd,
                           vm_->RegisterIoEvent(event, address));
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
