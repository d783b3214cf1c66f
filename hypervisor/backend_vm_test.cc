// BackendVm against a backend whose hooks record their calls and fail on
// request: the checks come before any hook, and a failed hook leaves the
// VM as it was.
#include "hypervisor/backend_vm.h"

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/status_macros.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::IsOk;
using ::hv::testing::IsOkAndHolds;
using ::hv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class RecordingVm final : public BackendVm<Vm> {
 public:
  RecordingVm()
      : BackendVm("Recording", 2, uint64_t{1} << 30, HostPageSize()) {}

  bool CheckCapability(VmCap cap) const override {
    return caps.count(cap) != 0;
  }
  absl::Status SetIrqLine(uint32_t, bool) override {
    return absl::UnimplementedError("no irq lines");
  }
  absl::StatusOr<std::unique_ptr<Vcpu>> CreateVcpu(uint32_t) override {
    return absl::UnimplementedError("no vCPUs");
  }

  // What CheckCapability reports (nothing by default).
  std::set<VmCap> caps;
  // Every hook returns this (and records its name in `calls`).
  absl::Status result;
  std::vector<std::string> calls;
  HostPageChange last_change;

 private:
  absl::Status MapSlot(MemSlot, GuestAddress, MemoryRegion&,
                       const MemoryRegionOptions&) override {
    calls.push_back("map");
    return result;
  }
  absl::Status UnmapSlot(MemSlot, const MemorySlotTable::Entry&) override {
    calls.push_back("unmap");
    return result;
  }
  absl::Status ReplacePages(MemSlot, MemorySlotTable::Entry&,
                            const HostPageChange& change) override {
    calls.push_back("replace");
    last_change = change;
    return result;
  }
  absl::StatusOr<std::vector<uint64_t>> ReadDirtyLog(
      MemSlot slot, const MemorySlotTable::Entry& entry) override {
    calls.push_back("dirty");
    RETURN_IF_ERROR(result);
    return EmptyDirtyBitmap(slot, entry);
  }
  absl::Status SwitchDirtyLogging(MemSlot, const MemorySlotTable::Entry&,
                                  bool enabled) override {
    calls.push_back(enabled ? "switch on" : "switch off");
    return result;
  }
  absl::Status EnableManualProtect() override {
    calls.push_back("manual");
    return result;
  }
  absl::Status ClearDirtyPages(MemSlot slot, const MemorySlotTable::Entry&,
                               uint64_t first_page, uint64_t num_pages,
                               absl::Span<const uint64_t> bitmap) override {
    calls.push_back(absl::StrFormat("clear %u [%u +%u) %u words", slot,
                                    first_page, num_pages, bitmap.size()));
    return result;
  }
  absl::Status IoEvent(const EventFd&, const IoEventAddress&,
                       bool assign) override {
    calls.push_back(assign ? "ioevent assign" : "ioevent deassign");
    return result;
  }
  absl::Status Irqfd(const EventFd&, uint32_t, bool assign) override {
    calls.push_back(assign ? "irqfd assign" : "irqfd deassign");
    return result;
  }
};

std::unique_ptr<MemoryRegion> Arena(uint64_t pages) {
  auto arena = MemoryRegion::CreateArena(pages * HostPageSize());
  EXPECT_THAT(arena.status(), IsOk());
  return arena.ok() ? std::move(*arena) : nullptr;
}

TEST(BackendVm, AddMemoryRegionChecksBeforeMapping) {
  RecordingVm vm;
  EXPECT_THAT(vm.AddMemoryRegion(0, nullptr, {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("region is null")));
  EXPECT_THAT(vm.AddMemoryRegion(uint64_t{1} << 30, Arena(1), {}),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(vm.calls, IsEmpty());
  EXPECT_EQ(vm.MaxMemorySlots(), 2u);
  EXPECT_EQ(vm.GuestAddressLimit(), uint64_t{1} << 30);
}

TEST(BackendVm, AFailedMapLeavesNoRegionAndTheSlotFree) {
  RecordingVm vm;
  vm.result = absl::InternalError("map failed");
  EXPECT_THAT(vm.AddMemoryRegion(0, Arena(1), {}),
              StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(vm.MemoryRegions(), IsEmpty());
  vm.result = absl::OkStatus();
  EXPECT_THAT(vm.AddMemoryRegion(0, Arena(1), {}), IsOkAndHolds(0u));
  EXPECT_THAT(vm.MemoryRegions(), SizeIs(1));
}

TEST(BackendVm, AFailedUnmapKeepsTheRegion) {
  RecordingVm vm;
  ASSERT_THAT(vm.AddMemoryRegion(0, Arena(1), {}), IsOkAndHolds(0u));
  EXPECT_THAT(
      vm.RemoveMemoryRegion(1),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("remove memory region")));
  vm.result = absl::UnimplementedError("cannot unmap");
  EXPECT_THAT(vm.RemoveMemoryRegion(0),
              StatusIs(absl::StatusCode::kUnimplemented));
  EXPECT_THAT(vm.MemoryRegions(), SizeIs(1));
  vm.result = absl::OkStatus();
  ASSERT_THAT(vm.RemoveMemoryRegion(0).status(), IsOk());
  EXPECT_THAT(vm.MemoryRegions(), IsEmpty());
  EXPECT_THAT(vm.calls, ElementsAre("map", "unmap", "unmap"));
}

TEST(BackendVm, FdMappingArgumentsAreCheckedBeforeTheHook) {
  RecordingVm vm;
  const uint64_t page = HostPageSize();
  ASSERT_THAT(vm.AddMemoryRegion(0, Arena(4), {}), IsOkAndHolds(0u));
  vm.calls.clear();
  EXPECT_THAT(
      vm.AddFdMapping(2, 0, page, 0, 0, Protection::Read()),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("add fd mapping")));
  EXPECT_THAT(
      vm.AddFdMapping(0, 0, 5 * page, 0, 0, Protection::Read()),
      StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("add fd mapping")));
  EXPECT_THAT(vm.AddFdMapping(0, 0, page, -1, 0, Protection::Read()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not a file descriptor")));
  EXPECT_THAT(vm.AddFdMapping(0, 0, page, 0, 1, Protection::Read()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not page aligned")));
  EXPECT_THAT(vm.RemoveMapping(0, 1, page),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("remove mapping")));
  EXPECT_THAT(vm.calls, IsEmpty());
}

TEST(BackendVm, FdMappingHooksSeeTheChange) {
  RecordingVm vm;
  const uint64_t page = HostPageSize();
  ASSERT_THAT(vm.AddMemoryRegion(0, Arena(4), {}), IsOkAndHolds(0u));
  ASSERT_THAT(
      vm.AddFdMapping(0, page, 2 * page, 7, page, Protection::ReadWrite()),
      IsOk());
  EXPECT_TRUE(vm.last_change.maps_fd());
  EXPECT_EQ(vm.last_change.offset, page);
  EXPECT_EQ(vm.last_change.size, 2 * page);
  EXPECT_EQ(vm.last_change.fd, 7);
  EXPECT_EQ(vm.last_change.fd_offset, page);
  EXPECT_EQ(vm.last_change.prot, Protection::ReadWrite());
  ASSERT_THAT(vm.RemoveMapping(0, page, page), IsOk());
  EXPECT_FALSE(vm.last_change.maps_fd());
  EXPECT_STREQ(vm.last_change.operation, "remove mapping");
}

TEST(BackendVm, DirtyLogNeedsAKnownLoggedSlot) {
  RecordingVm vm;
  MemoryRegionOptions logged;
  logged.log_dirty_pages = true;
  ASSERT_THAT(vm.AddMemoryRegion(0, Arena(65), logged), IsOkAndHolds(0u));
  ASSERT_THAT(vm.AddMemoryRegion(65 * HostPageSize(), Arena(1), {}),
              IsOkAndHolds(1u));
  EXPECT_THAT(vm.GetDirtyLog(0), IsOkAndHolds(ElementsAre(0u, 0u)));
  EXPECT_THAT(vm.GetDirtyLog(1),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("without log_dirty_pages")));
  EXPECT_THAT(vm.GetDirtyLog(2), StatusIs(absl::StatusCode::kNotFound,
                                          HasSubstr("get dirty log")));
}

TEST(BackendVm, RegisterAndUnregisterAssignAndDeassign) {
  RecordingVm vm;
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  ASSERT_THAT(vm.RegisterIoEvent(event, {}), IsOk());
  ASSERT_THAT(vm.UnregisterIoEvent(event, {}), IsOk());
  ASSERT_THAT(vm.RegisterIrqfd(event, 3), IsOk());
  ASSERT_THAT(vm.UnregisterIrqfd(event, 3), IsOk());
  EXPECT_THAT(vm.calls, ElementsAre("ioevent assign", "ioevent deassign",
                                    "irqfd assign", "irqfd deassign"));
}

TEST(BackendVm, InterruptRoutingDefaultsAreUnimplementedNamingTheHypervisor) {
  RecordingVm vm;
  ASSERT_OK_AND_ASSIGN(EventFd event, EventFd::Create());
  ASSERT_OK_AND_ASSIGN(EventFd resample, EventFd::Create());
  EXPECT_THAT(vm.RegisterResampleIrqfd(event, 3, resample),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("Recording has no level-triggered irqfds")));
  // The argument check comes first, on every backend.
  EXPECT_THAT(vm.RegisterResampleIrqfd(event, 3, event),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("same eventfd")));
  EXPECT_THAT(vm.SetGsiRouting({IrqRoute::Pin(1, 2, 1)}),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("Recording has no in-kernel GSI routing")));
  EXPECT_EQ(vm.MaxGsiRoutes(), 0u);
  EXPECT_THAT(vm.SignalMsi(MsiMessage()).status(),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("Recording cannot inject an MSI")));
  EXPECT_THAT(vm.calls, IsEmpty());
}

TEST(BackendVm, DirtyLogSwitchAndManualProtectNeedTheirCapabilities) {
  RecordingVm vm;
  ASSERT_THAT(vm.AddMemoryRegion(0, Arena(1), {}), IsOkAndHolds(0u));
  EXPECT_THAT(vm.SetDirtyLogging(0, true),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("set dirty logging on: Recording cannot "
                                 "switch dirty logging")));
  EXPECT_THAT(vm.EnableDirtyLogManualProtect(),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("Recording has no manual dirty-log")));
  EXPECT_THAT(vm.ClearDirtyLog(0, 0, 1, std::vector<uint64_t>{1}),
              StatusIs(absl::StatusCode::kUnimplemented,
                       HasSubstr("clear dirty log: Recording")));
  EXPECT_THAT(vm.calls, ElementsAre("map"));
}

TEST(BackendVm, DirtyLogSwitchRecordsOnlyWhatTheHookAccepted) {
  RecordingVm vm;
  vm.caps = {VmCap::kDirtyLogSwitch};
  ASSERT_THAT(vm.AddMemoryRegion(0, Arena(2), {}), IsOkAndHolds(0u));
  EXPECT_THAT(vm.SetDirtyLogging(1, true),
              StatusIs(absl::StatusCode::kNotFound,
                       "set dirty logging on: memory slot 1 holds no region"));
  vm.result = absl::InternalError("refused");
  EXPECT_THAT(vm.SetDirtyLogging(0, true),
              StatusIs(absl::StatusCode::kInternal, "refused"));
  EXPECT_FALSE(vm.MemoryRegions()[0].options.log_dirty_pages);
  vm.result = absl::OkStatus();
  ASSERT_THAT(vm.SetDirtyLogging(0, true), IsOk());
  EXPECT_TRUE(vm.MemoryRegions()[0].options.log_dirty_pages);
  EXPECT_THAT(vm.GetDirtyLog(0), IsOkAndHolds(ElementsAre(0u)));
  // The current setting again: no hook call.
  ASSERT_THAT(vm.SetDirtyLogging(0, true), IsOk());
  ASSERT_THAT(vm.SetDirtyLogging(0, false), IsOk());
  EXPECT_THAT(vm.GetDirtyLog(0),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // (ReadDirtyLog's own check refused the last GetDirtyLog.)
  EXPECT_THAT(vm.calls, ElementsAre("map", "switch on", "switch on", "dirty",
                                    "switch off", "dirty"));
}

TEST(BackendVm, ManualProtectIsCheckedBeforeTheHooks) {
  RecordingVm vm;
  vm.caps = {VmCap::kDirtyLogSwitch, VmCap::kDirtyLogManualProtect};
  MemoryRegionOptions logged;
  logged.log_dirty_pages = true;
  ASSERT_THAT(vm.AddMemoryRegion(0, Arena(65), logged), IsOkAndHolds(0u));
  const std::vector<uint64_t> two(2, ~uint64_t{0});
  EXPECT_THAT(vm.EnableDirtyLogManualProtect(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("slot 0 already logs dirty pages")));
  EXPECT_THAT(vm.ClearDirtyLog(0, 0, 65, two),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("manual protection is off")));
  ASSERT_THAT(vm.SetDirtyLogging(0, false), IsOk());
  vm.result = absl::InternalError("refused");
  EXPECT_THAT(vm.EnableDirtyLogManualProtect(),
              StatusIs(absl::StatusCode::kInternal));
  vm.result = absl::OkStatus();
  // Still off after the refusal.
  EXPECT_THAT(vm.ClearDirtyLog(0, 0, 65, two),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_THAT(vm.EnableDirtyLogManualProtect(), IsOk());
  ASSERT_THAT(vm.EnableDirtyLogManualProtect(), IsOk());  // no second call
  EXPECT_THAT(vm.ClearDirtyLog(0, 0, 65, two),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("clear dirty log: slot 0 was added without")));
  ASSERT_THAT(vm.SetDirtyLogging(0, true), IsOk());
  EXPECT_THAT(vm.ClearDirtyLog(3, 0, 65, two),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(vm.ClearDirtyLog(0, 64, 64, two),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(vm.ClearDirtyLog(0, 0, 32, two),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_THAT(vm.ClearDirtyLog(0, 0, 65, two), IsOk());
  ASSERT_THAT(vm.ClearDirtyLog(0, 64, 1, std::vector<uint64_t>{1}), IsOk());
  EXPECT_THAT(vm.calls,
              ElementsAre("map", "switch off", "manual", "manual", "switch on",
                          "clear 0 [0 +65) 2 words",
                          "clear 0 [64 +1) 1 words"));
}

}  // namespace
}  // namespace hv
