// Stress test of VmMemoryService under concurrency: several device threads
// map and unmap blobs in one shared-memory region while another thread keeps
// reading the region through the guest's view (FakeVm::ReadGuest). Every
// page the reader sees is either the region's empty state (zeros in a
// prepared arena, an MMIO exit in a dynamic region) or a whole page of a
// blob that the thread owning that offset maps there, never a torn or
// foreign page; at the end the service and the Vm hold exactly what the
// threads' own records say is mapped. Run under --config=tsan as well.
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/memory.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/mmap_region.h"
#include "testing/fakes/fake_vm.h"
#include "testing/status_matchers.h"
#include "virtio/vm_memory_service.h"

namespace hv::virtio {
namespace {

using ::hv::testing::FakeVm;
using ::hv::testing::IsOk;
using ::testing::Each;

constexpr GuestAddress kBar = uint64_t{1} << 32;
constexpr int kMappers = 4;
constexpr int kPagesPerMapper = 6;
constexpr int kBlobsPerMapper = 2;
constexpr int kRounds = 150;

uint64_t Page() { return HostPageSize(); }

// The fill byte of blob `blob` of mapper `mapper` (never 0).
uint8_t Fill(int mapper, int blob) {
  return static_cast<uint8_t>(0x10 * (mapper + 1) + blob + 1);
}

// The mapper that owns page `page` of the region, and whether `fill` is one
// of its blobs.
int OwnerOf(uint64_t page) { return static_cast<int>(page / kPagesPerMapper); }
bool IsBlobOf(int mapper, uint8_t fill) {
  for (int blob = 0; blob < kBlobsPerMapper; ++blob) {
    if (Fill(mapper, blob) == fill) return true;
  }
  return false;
}

class VmMemoryServiceStressTest : public ::testing::TestWithParam<bool> {
 protected:
  bool dynamic() const { return GetParam(); }
};

TEST_P(VmMemoryServiceStressTest, MappersAndAGuestReaderAgreeWithTheModel) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<FakeVm> vm, FakeVm::Create());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<VmMemoryService> service,
                       VmMemoryService::Create(vm.get()));
  const uint64_t pages = kMappers * kPagesPerMapper;
  ASSERT_OK_AND_ASSIGN(
      VmMemoryService::RegionId id,
      service->RegisterRegion(kBar, pages * Page(),
                              dynamic() ? PrepareType::DynamicPerMapping()
                                        : PrepareType()));

  // Each mapper's blobs, made up front so the threads only map.
  std::vector<std::vector<UniqueFd>> blobs(kMappers);
  for (int m = 0; m < kMappers; ++m) {
    for (int b = 0; b < kBlobsPerMapper; ++b) {
      ASSERT_OK_AND_ASSIGN(UniqueFd fd, CreateMemfd("blob", Page()));
      std::vector<uint8_t> bytes(Page(), Fill(m, b));
      ASSERT_EQ(::pwrite(fd.get(), bytes.data(), Page(), 0),
                static_cast<ssize_t>(Page()));
      blobs[m].push_back(std::move(fd));
    }
  }

  // What each mapper believes it has mapped: page -> fill byte. Written only
  // by its own thread, read after the join.
  std::vector<std::map<uint64_t, uint8_t>> mapped(kMappers);
  std::vector<absl::Status> failures(kMappers + 1);
  std::atomic<int> mappers_running{kMappers};
  std::atomic<uint64_t> pages_read{0};
  std::atomic<uint64_t> blob_pages_seen{0};
  // The mappers go on past kRounds until the reader has made a few whole
  // passes and seen blob pages, so the two really overlap however the
  // threads are scheduled (tsan serialises a lot), unless the reader stops.
  std::atomic<int> reader_passes{0};
  std::atomic<bool> reader_done{false};
  auto keep_mapping = [&](int round) {
    if (reader_done.load()) return round < kRounds;
    return round < kRounds || reader_passes.load() < 3 ||
           blob_pages_seen.load() == 0;
  };

  std::vector<std::thread> threads;
  for (int m = 0; m < kMappers; ++m) {
    threads.emplace_back([&, m] {
      std::minstd_rand random(1 + m);
      for (int round = 0; keep_mapping(round) && failures[m].ok(); ++round) {
        const uint64_t page = m * kPagesPerMapper + random() % kPagesPerMapper;
        auto it = mapped[m].find(page);
        if (it != mapped[m].end()) {
          failures[m] = service->RemoveMapping(id, page * Page());
          mapped[m].erase(page);
          continue;
        }
        const int blob = static_cast<int>(random() % kBlobsPerMapper);
        failures[m] = service->AddMapping(
            id, MappingSource::Fd(blobs[m][blob].get(), 0, Page()),
            page * Page(), Protection::ReadWrite(),
            MemCacheType::kCacheCoherent);
        mapped[m][page] = Fill(m, blob);
      }
      mappers_running.fetch_sub(1);
    });
  }
  // The guest: reads every page of the region, again and again, until the
  // mappers are done.
  threads.emplace_back([&] {
    absl::Status& failure = failures[kMappers];
    do {
      for (uint64_t page = 0; page < pages && failure.ok(); ++page) {
        // A prepared arena, once there, stays for the rest of the test.
        const bool was_prepared = !dynamic() && !vm->MemoryRegions().empty();
        absl::StatusOr<std::vector<uint8_t>> bytes =
            vm->ReadGuest(kBar + page * Page(), Page());
        pages_read.fetch_add(1);
        if (!bytes.ok()) {
          // An MMIO exit: a hole of a dynamic region, or a prepared region
          // before its first mapping.
          if (bytes.status().code() != absl::StatusCode::kNotFound ||
              was_prepared) {
            failure = absl::InternalError(absl::StrFormat(
                "page %u: %s", page, bytes.status().ToString()));
          }
          continue;
        }
        const uint8_t fill = (*bytes)[0];
        for (uint8_t byte : *bytes) {
          if (byte != fill) {
            failure = absl::InternalError(
                absl::StrFormat("page %u is torn: %#x and %#x", page, fill, byte));
            break;
          }
        }
        if (fill == 0) {
          if (dynamic()) {
            failure = absl::InternalError(absl::StrFormat(
                "page %u of a dynamic region reads zeros", page));
          }
        } else if (!IsBlobOf(OwnerOf(page), fill)) {
          failure = absl::InternalError(absl::StrFormat(
              "page %u shows %#x, not a blob of mapper %d", page, fill,
              OwnerOf(page)));
        } else {
          blob_pages_seen.fetch_add(1);
        }
      }
      reader_passes.fetch_add(1);
    } while (mappers_running.load() > 0 && failure.ok());
    reader_done.store(true);
  });
  for (std::thread& thread : threads) thread.join();
  ASSERT_THAT(failures, Each(IsOk()));
  EXPECT_GE(reader_passes.load(), 3);
  EXPECT_GE(pages_read.load(), 3 * pages);
  EXPECT_GT(blob_pages_seen.load(), 0u);

  // The final state is the union of the mappers' records.
  std::map<uint64_t, uint8_t> model;
  for (const auto& own : mapped) model.insert(own.begin(), own.end());
  ASSERT_OK_AND_ASSIGN(std::vector<VmMemoryService::MappingStatus> mappings,
                       service->GetMappings(id));
  ASSERT_EQ(mappings.size(), model.size());
  auto expected = model.begin();
  for (const VmMemoryService::MappingStatus& m : mappings) {
    EXPECT_EQ(m.offset, expected->first * Page());
    EXPECT_EQ(m.size, Page());
    ++expected;
  }
  for (uint64_t page = 0; page < pages; ++page) {
    SCOPED_TRACE(absl::StrFormat("page %u", page));
    absl::StatusOr<std::vector<uint8_t>> bytes =
        vm->ReadGuest(kBar + page * Page(), Page());
    auto it = model.find(page);
    if (it != model.end()) {
      EXPECT_THAT(bytes, ::hv::testing::IsOkAndHolds(
                             std::vector<uint8_t>(Page(), it->second)));
    } else if (dynamic()) {
      EXPECT_THAT(bytes, ::hv::testing::StatusIs(absl::StatusCode::kNotFound));
    } else {
      EXPECT_THAT(bytes, ::hv::testing::IsOkAndHolds(
                             std::vector<uint8_t>(Page(), 0)));
    }
  }
  // The Vm holds one arena, or one region per live mapping.
  EXPECT_EQ(vm->MemoryRegions().size(), dynamic() ? model.size() : 1u);
  if (!dynamic()) {
    EXPECT_EQ(vm->CallsOf(FakeVm::Method::kAddMemoryRegion).size(), 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(PrepareModes, VmMemoryServiceStressTest,
                         ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "Dynamic"
                                                         : "Prepared");
                         });

}  // namespace
}  // namespace hv::virtio
