// memory_service_fuzzer: libFuzzer target for VmMemoryService over a FakeVm.
//
// The input decodes to a FakeVm configuration and a sequence of requests
// (register a region in either prepare mode and either declared cache type;
// map a memfd, a read-only descriptor, a pipe, a closed or negative fd, or a
// host allocation, with any offset, size, protection and cache type, valid
// or not; unmap; move a region; unregister; queue a FakeVm failure for a
// later call). Every request runs on the service, and after every one the
// fuzzer checks the service, and the FakeVm underneath it, against a model
// written here from virtio/README.md, independent of the service's code:
//
//   - the result: OK exactly when the model says the request is valid, and
//     otherwise one of the error codes the broken rules call for;
//   - the service's view (GetRegionStatus, GetMappings) equals the model:
//     which regions exist, where, prepared or not, with which declared cache
//     type; which ranges are mapped, with which protection and cache type;
//   - the Vm's view equals the model: its regions are exactly the foreign
//     ones, one arena per prepared region with the declared cache type, and
//     one region per dynamic mapping with that mapping's cache type and
//     read-only flag; bytes the guest reads through a mapped range are the
//     source's bytes at the source's offset, an unmapped range of a prepared
//     arena reads as zeros, and anything else is an MMIO exit;
//   - a failed request changes nothing, except for the losses the service's
//     contract names when an injected Vm failure hits a move, an unregister,
//     or the undo of a preparation.
//
// Any disagreement aborts with a message naming the rule that broke. With
// HV_FUZZ_TRACE set in the environment every request's expected and actual
// result is printed (for reading a crash input).
//
// Input format (all integers little endian; bytes past the end read as 0):
//   byte 0: bit 0 offers VmCap::kMemNoncoherentDma, bit 1 offers
//           VmCap::kReadOnlyMemoryRegion, bit 2 puts a foreign RAM region at
//           guest pages [0, 16); bits 7:4 + 2 = the Vm's slot count.
//   then 8-byte records: op, a0..a6; op % 6 selects:
//     0 register:   a0 bit 0 dynamic, bit 1 declared non-coherent;
//                   a1a2 address in pages (u16); a3 % 33 size in pages;
//                   a4 bit 0 address += 0x10, bit 1 size += 0x10.
//     1 map:        a0 region; a1 % 12 source (0-3 memfd of 1/3/8/24 pages,
//                   4 read-only fd of memfd 2, 5 pipe, 6 closed fd, 7 fd -1,
//                   8 shared host allocation, 9 host allocation of memfd 3
//                   at the file offset, 10 anonymous host allocation,
//                   11 null); a2 % 40 offset pages; a3 % 20 size pages;
//                   a4 % 32 file offset pages; a5 bit 0 read, bit 1 write,
//                   bit 2 non-coherent; a6 bit 0 offset += 0x10, bit 1
//                   size += 0x10, bit 2 file offset += 0x10, bit 3 file
//                   offset = 2^64 - page, bit 4 size = 2^64 - page.
//     2 unmap:      a0 region; a1 % 40 offset pages; a2 bit 0 use the
//                   (a1 % n)-th live mapping's offset, bit 1 offset += 0x10.
//     3 move:       a0 region; a1a2 address in pages; a3 bit 0 address +=
//                   0x10, bit 1 address = limit - a1 pages.
//     4 inject:     a0 % 4 method (AddMemoryRegion, RemoveMemoryRegion,
//                   AddFdMapping, RemoveMapping); a1 % 3 calls to skip.
//                   Ignored while an earlier injected failure is pending.
//     5 unregister: a0 region.
//   A region selector picks the (a0 % (n + 1))-th live region by id, or,
//   for n, an id that was never handed out. At most 48 records are run.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "hypervisor/memory.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/unique_fd.h"
#include "testing/fakes/fake_vm.h"
#include "virtio/fuzz/fuzz_input.h"
#include "virtio/shared_memory.h"
#include "virtio/vm_memory_service.h"

namespace hv::virtio {
namespace {

using ::hv::testing::FakeVm;

constexpr int kMaxOps = 48;
constexpr uint64_t kLimitPages = 65536;
constexpr uint64_t kForeignPages = 16;
constexpr char kInjectedMarker[] = "fuzz-injected";
constexpr VmMemoryService::RegionId kUnknownRegionOffset = 100000;

uint64_t Page() { return HostPageSize(); }

[[noreturn]] void Broken(const char* rule, const std::string& detail) {
  FuzzRuleBroken("memory_service_fuzzer", rule, detail);
}

void Require(bool holds, const char* rule, const std::string& detail) {
  if (!holds) Broken(rule, detail);
}

// ---------------------------------------------------------------------------
// Sources. Every page of a patterned file starts with the 64-bit value
// tag << 32 | page index and is filled with `tag` after it, so a page read
// through the guest says which file and which page it came from.

void FillPattern(uint8_t tag, uint64_t first_page, uint8_t* page) {
  std::memset(page, tag, Page());
  const uint64_t header = (uint64_t{tag} << 32) | first_page;
  std::memcpy(page, &header, sizeof(header));
}

void WritePattern(int fd, uint8_t tag, uint64_t pages) {
  std::vector<uint8_t> page(Page());
  for (uint64_t i = 0; i < pages; ++i) {
    FillPattern(tag, i, page.data());
    if (::pwrite(fd, page.data(), Page(), i * Page()) !=
        static_cast<ssize_t>(Page())) {
      Broken("fuzzer setup", "cannot write a source pattern");
    }
  }
}

// What a mapped page should hold: zeros, or page `first_page + k` of the
// patterned file `tag` for the k-th page of the mapping.
struct Content {
  bool zero = false;
  uint8_t tag = 0;
  uint64_t first_page = 0;
};

enum class FdKind { kMemfd, kReadOnly, kPipe, kClosed, kNegative };

// Descriptors shared by every run (their contents never change).
struct Blobs {
  static constexpr int kCount = 4;
  static constexpr uint64_t kPages[kCount] = {1, 3, 8, 24};
  static constexpr uint8_t kTags[kCount] = {0x11, 0x22, 0x33, 0x44};
  UniqueFd memfd[kCount];
  UniqueFd read_only;  // memfd 2 reopened O_RDONLY
  int pipe_fds[2] = {-1, -1};
  int closed_fd = -1;
};

const Blobs& GetBlobs() {
  static const Blobs* blobs = [] {
    auto* b = new Blobs;
    for (int i = 0; i < Blobs::kCount; ++i) {
      absl::StatusOr<UniqueFd> fd =
          CreateMemfd("fuzz-blob", Blobs::kPages[i] * Page());
      if (!fd.ok()) Broken("fuzzer setup", fd.status().ToString());
      b->memfd[i] = *std::move(fd);
      WritePattern(b->memfd[i].get(), Blobs::kTags[i], Blobs::kPages[i]);
    }
    const std::string path =
        absl::StrFormat("/proc/self/fd/%d", b->memfd[2].get());
    b->read_only = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!b->read_only) Broken("fuzzer setup", "cannot reopen a memfd");
    if (::pipe2(b->pipe_fds, O_CLOEXEC) != 0) {
      Broken("fuzzer setup", "pipe2 failed");
    }
    // A descriptor number that is open nowhere: open one, then close it
    // while keeping a higher one open so the number stays free of ours.
    b->closed_fd = ::fcntl(b->pipe_fds[0], F_DUPFD_CLOEXEC, 900);
    if (b->closed_fd < 0) Broken("fuzzer setup", "cannot pick a closed fd");
    ::close(b->closed_fd);
    return b;
  }();
  return *blobs;
}

// ---------------------------------------------------------------------------
// The model.

struct ModelMapping {
  uint64_t size = 0;
  Protection prot;
  MemCacheType cache = MemCacheType::kCacheCoherent;
  Content content;
};

struct ModelRegion {
  GuestAddress address = 0;
  uint64_t size = 0;
  PrepareType prepare;
  bool prepared = false;
  std::map<uint64_t, ModelMapping> mappings;

  bool dynamic() const {
    return prepare.kind() == PrepareType::Kind::kDynamicPerMapping;
  }
};

// What the model expects of a request: success, or failure with one of
// `codes` (any code when `any_error`, for failures of the OS below the Vm).
struct Expectation {
  std::set<absl::StatusCode> codes;
  bool any_error = false;

  void Breaks(absl::StatusCode code) { codes.insert(code); }
  bool succeeds() const { return codes.empty() && !any_error; }
  std::string ToString() const {
    if (succeeds()) return "OK";
    if (any_error) return "some error";
    std::string text;
    for (absl::StatusCode code : codes) {
      absl::StrAppend(&text, text.empty() ? "" : " or ",
                      absl::StatusCodeToString(code));
    }
    return text;
  }
};

bool Overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) {
  return a < b + b_size && b < a + a_size;
}

const char* KindName(bool dynamic) { return dynamic ? "dynamic" : "prepared"; }

// One fuzz run.
class Run {
 public:
  explicit Run(FuzzInput& in) : in_(in) {}

  void Execute() {
    Setup();
    for (int op = 0; op < kMaxOps && !in_.done(); ++op) {
      uint8_t args[8];
      for (uint8_t& arg : args) arg = in_.Byte();
      step_ = op;
      vm_->ClearCalls();
      switch (args[0] % 6) {
        case 0: Register(args + 1); break;
        case 1: Map(args + 1); break;
        case 2: Unmap(args + 1); break;
        case 3: Move(args + 1); break;
        case 4: Inject(args + 1); break;
        case 5: Unregister(args + 1); break;
      }
      CheckState();
    }
  }

 private:
  // ---- setup and helpers ----------------------------------------------

  void Setup() {
    const uint8_t config = in_.Byte();
    noncoherent_cap_ = config & 1;
    read_only_cap_ = config & 2;
    FakeVm::Options options;
    options.max_slots = 2 + (config >> 4);
    options.address_limit = kLimitPages * Page();
    options.capabilities.clear();
    if (noncoherent_cap_) options.capabilities.insert(VmCap::kMemNoncoherentDma);
    if (read_only_cap_) options.capabilities.insert(VmCap::kReadOnlyMemoryRegion);
    max_slots_ = options.max_slots;
    absl::StatusOr<std::unique_ptr<FakeVm>> vm = FakeVm::Create(options);
    if (!vm.ok()) Broken("fuzzer setup", vm.status().ToString());
    vm_ = *std::move(vm);
    if (config & 4) {
      absl::StatusOr<std::unique_ptr<MemoryRegion>> ram =
          MemoryRegion::CreateShared("ram", kForeignPages * Page());
      if (!ram.ok()) Broken("fuzzer setup", ram.status().ToString());
      absl::StatusOr<MemSlot> slot =
          vm_->AddMemoryRegion(0, *std::move(ram), MemoryRegionOptions());
      if (!slot.ok()) Broken("fuzzer setup", slot.status().ToString());
      foreign_ = true;
    }
    absl::StatusOr<std::unique_ptr<VmMemoryService>> service =
        VmMemoryService::Create(vm_.get());
    if (!service.ok()) Broken("fuzzer setup", service.status().ToString());
    service_ = *std::move(service);
  }

  std::string Where() const { return absl::StrFormat("step %d: ", step_); }

  // The region a selector byte picks: a live id, or one never handed out.
  VmMemoryService::RegionId SelectRegion(uint8_t selector) const {
    const size_t pick = selector % (regions_.size() + 1);
    if (pick == regions_.size()) return next_unknown_id_ + kUnknownRegionOffset;
    auto it = regions_.begin();
    std::advance(it, pick);
    return it->first;
  }

  size_t SlotsInUse() const {
    size_t slots = foreign_ ? 1 : 0;
    for (const auto& [id, region] : regions_) {
      if (region.prepared) ++slots;
      if (region.dynamic()) slots += region.mappings.size();
    }
    return slots;
  }

  // The Vm call that returned the injected failure during this step.
  std::optional<FakeVm::Call> FiredInjection() {
    std::optional<FakeVm::Call> fired;
    for (const FakeVm::Call& call : vm_->Calls()) {
      if (!call.result.ok() &&
          absl::StrContains(call.result.message(), kInjectedMarker)) {
        Require(!fired, "one injected failure fires once",
                Where() + "two calls returned the injected failure");
        fired = call;
      }
    }
    if (fired) {
      Require(injection_pending_, "FakeVm fails only when told",
              Where() + "an injected failure fired with none queued: " +
                  fired->ToString());
      injection_pending_ = false;
    }
    return fired;
  }

  void RequireInjected(const absl::Status& status, const char* op) {
    Require(!status.ok() && status.code() == absl::StatusCode::kDataLoss &&
                absl::StrContains(status.message(), kInjectedMarker),
            "a failing Vm call's error reaches the caller",
            Where() + op + " returned " + status.ToString());
  }

  void RequireOutcome(const char* op, const Expectation& expected,
                      const absl::Status& status) {
    if (std::getenv("HV_FUZZ_TRACE") != nullptr) {
      std::fprintf(stderr, "%s%s: expected %s, got %s\n", Where().c_str(), op,
                   expected.ToString().c_str(), status.ToString().c_str());
    }
    bool matches = expected.succeeds() ? status.ok() : !status.ok();
    if (matches && !status.ok() && !expected.any_error) {
      matches = expected.codes.count(status.code()) != 0;
    }
    Require(matches, "a request succeeds exactly when valid, with the code "
                     "of the rule it breaks",
            Where() + absl::StrFormat("%s: expected %s, got %s", op,
                                      expected.ToString(), status.ToString()));
  }

  // Placement of a region of `size` bytes at `address`, as RegisterRegion
  // and MoveRegion check it (`self`: the region being moved).
  Expectation PlacementExpectation(GuestAddress address, uint64_t size,
                                   std::optional<VmMemoryService::RegionId> self)
      const {
    Expectation e;
    if (size == 0 || size % Page() != 0 || address % Page() != 0) {
      e.Breaks(absl::StatusCode::kInvalidArgument);
    }
    const uint64_t limit = kLimitPages * Page();
    if (address > limit || size > limit - address) {
      e.Breaks(absl::StatusCode::kOutOfRange);
    }
    if (size != 0) {
      if (foreign_ && Overlaps(address, size, 0, kForeignPages * Page())) {
        e.Breaks(absl::StatusCode::kAlreadyExists);
      }
      for (const auto& [id, region] : regions_) {
        if (self && id == *self) continue;
        if (Overlaps(address, size, region.address, region.size)) {
          e.Breaks(absl::StatusCode::kAlreadyExists);
        }
      }
    }
    return e;
  }

  // ---- requests -----------------------------------------------------------

  void Register(const uint8_t* a) {
    const bool dynamic = a[0] & 1;
    const MemCacheType declared = (a[0] & 2) ? MemCacheType::kCacheNonCoherent
                                             : MemCacheType::kCacheCoherent;
    const PrepareType prepare = dynamic
                                    ? PrepareType::DynamicPerMapping()
                                    : PrepareType::SingleMappingOnFirst(declared);
    GuestAddress address = (uint64_t{a[1]} | uint64_t{a[2]} << 8) * Page();
    uint64_t size = (a[3] % 33) * Page();
    if (a[4] & 1) address += 0x10;
    if (a[4] & 2) size += 0x10;
    const Expectation expected =
        PlacementExpectation(address, size, std::nullopt);
    absl::StatusOr<VmMemoryService::RegionId> id =
        service_->RegisterRegion(address, size, prepare);
    Require(!FiredInjection(), "RegisterRegion makes no Vm call",
            Where() + "an injected failure fired during RegisterRegion");
    RequireOutcome("RegisterRegion", expected, id.status());
    if (!id.ok()) return;
    Require(regions_.count(*id) == 0 && ever_handed_out_.count(*id) == 0,
            "region ids are never reused",
            Where() + absl::StrFormat("RegisterRegion returned id %u again", *id));
    ever_handed_out_.insert(*id);
    next_unknown_id_ = std::max(next_unknown_id_, *id + 1);
    ModelRegion region;
    region.address = address;
    region.size = size;
    region.prepare = prepare;
    regions_.emplace(*id, std::move(region));
  }

  void Map(const uint8_t* a) {
    const Blobs& blobs = GetBlobs();
    const VmMemoryService::RegionId id = SelectRegion(a[0]);
    const int source_kind = a[1] % 12;
    uint64_t offset = (a[2] % 40) * Page();
    uint64_t size = (a[3] % 20) * Page();
    uint64_t fd_offset = (a[4] % 32) * Page();
    Protection prot{(a[5] & 1) != 0, (a[5] & 2) != 0};
    const MemCacheType cache = (a[5] & 4) ? MemCacheType::kCacheNonCoherent
                                          : MemCacheType::kCacheCoherent;
    if (a[6] & 1) offset += 0x10;
    if (a[6] & 2) size += 0x10;
    if (a[6] & 4) fd_offset += 0x10;
    if (a[6] & 8) fd_offset = ~uint64_t{0} - Page() + 1;
    if (a[6] & 16) size = ~uint64_t{0} - Page() + 1;

    // Build the source and note what the model needs about it.
    std::optional<MappingSource> source;
    bool is_fd = source_kind < 8;
    FdKind fd_kind = FdKind::kMemfd;
    int fd = -1;
    // The backing file's size when it is a regular file, for the rule that
    // a mapping lies inside its file.
    std::optional<uint64_t> file_size;
    uint64_t source_size = size;
    uint64_t source_fd_offset = fd_offset;
    bool anonymous = false;
    bool null_allocation = false;
    Content content;
    if (is_fd) {
      if (source_kind < 4) {
        fd = blobs.memfd[source_kind].get();
        file_size = Blobs::kPages[source_kind] * Page();
        content.tag = Blobs::kTags[source_kind];
      } else if (source_kind == 4) {
        fd_kind = FdKind::kReadOnly;
        fd = blobs.read_only.get();
        file_size = Blobs::kPages[2] * Page();
        content.tag = Blobs::kTags[2];
      } else if (source_kind == 5) {
        fd_kind = FdKind::kPipe;
        fd = blobs.pipe_fds[0];
      } else if (source_kind == 6) {
        fd_kind = FdKind::kClosed;
        fd = blobs.closed_fd;
      } else {
        fd_kind = FdKind::kNegative;
        fd = -1;
      }
      content.first_page = fd_offset / Page();
      source = MappingSource::Fd(fd, fd_offset, size);
    } else {
      // Host allocations: their size is the mapping's size.
      std::unique_ptr<MemoryRegion> allocation;
      if (source_kind == 8 && size != 0 && size < 64 * Page()) {
        absl::StatusOr<std::unique_ptr<MemoryRegion>> shared =
            MemoryRegion::CreateShared("fuzz-allocation", size);
        if (shared.ok()) {
          const uint8_t tag = static_cast<uint8_t>(0x80 | (++allocations_ & 0x3f));
          WritePattern((*shared)->fd(), tag, size / Page());
          content.tag = tag;
          file_size = size;
          allocation = *std::move(shared);
        }
      } else if (source_kind == 9 && size != 0 && size < 64 * Page() &&
                 fd_offset % Page() == 0 && fd_offset < 64 * Page()) {
        absl::StatusOr<std::unique_ptr<MemoryRegion>> from_fd =
            MemoryRegion::FromFd(blobs.memfd[3].get(), fd_offset, size,
                                 Protection::ReadWrite());
        if (from_fd.ok()) {
          content.tag = Blobs::kTags[3];
          content.first_page = fd_offset / Page();
          file_size = Blobs::kPages[3] * Page();
          allocation = *std::move(from_fd);
        }
      } else if (source_kind == 10 && size != 0 && size % Page() == 0 &&
                 size < 64 * Page()) {
        absl::StatusOr<std::unique_ptr<MemoryRegion>> arena =
            MemoryRegion::CreateArena(size);
        if (arena.ok()) {
          content.zero = true;
          anonymous = true;
          allocation = *std::move(arena);
        }
      }
      null_allocation = allocation == nullptr;
      source_size = null_allocation ? 0 : allocation->size();
      source_fd_offset = null_allocation ? 0 : allocation->fd_offset();
      source = MappingSource::HostAllocation(std::move(allocation));
    }

    // The model's verdict (without an injected failure).
    Expectation expected;
    auto it = regions_.find(id);
    ModelRegion* region = it == regions_.end() ? nullptr : &it->second;
    bool os_fails = false;  // mmap of the descriptor fails
    if (is_fd) {
      os_fails = fd_kind == FdKind::kPipe || fd_kind == FdKind::kClosed ||
                 (fd_kind == FdKind::kReadOnly && prot.write);
    }
    if (region == nullptr) {
      expected.Breaks(absl::StatusCode::kNotFound);
    } else {
      // Rules every request is checked against first.
      if (is_fd && fd < 0) expected.Breaks(absl::StatusCode::kInvalidArgument);
      // The service asks fstat about every descriptor up front, so a closed
      // one is refused as an argument before any other rule is looked at.
      if (is_fd && fd_kind == FdKind::kClosed) {
        expected.Breaks(absl::StatusCode::kInvalidArgument);
      }
      if (is_fd && fd_offset % Page() != 0) {
        expected.Breaks(absl::StatusCode::kInvalidArgument);
      }
      if (!is_fd && null_allocation) {
        expected.Breaks(absl::StatusCode::kInvalidArgument);
      }
      if (source_size == 0 || source_size % Page() != 0 ||
          offset % Page() != 0) {
        expected.Breaks(absl::StatusCode::kInvalidArgument);
      }
      if (offset > region->size || source_size > region->size - offset) {
        expected.Breaks(absl::StatusCode::kOutOfRange);
      } else if (source_size != 0) {
        for (const auto& [other, mapping] : region->mappings) {
          if (Overlaps(offset, source_size, other, mapping.size)) {
            expected.Breaks(absl::StatusCode::kAlreadyExists);
          }
        }
      }
      // A mapping lies inside its file (past the end of a regular file the
      // guest, and the VMM through the host mapping, would fault).
      if (file_size && (source_fd_offset > *file_size ||
                        source_size > *file_size - source_fd_offset)) {
        expected.Breaks(absl::StatusCode::kOutOfRange);
      }
      if (!expected.succeeds()) {
        // Checked before anything else happens.
      } else if (!region->dynamic()) {
        if (cache == MemCacheType::kCacheNonCoherent &&
            region->prepare.cache() == MemCacheType::kCacheCoherent) {
          expected.Breaks(absl::StatusCode::kFailedPrecondition);
        }
        if (anonymous) expected.Breaks(absl::StatusCode::kFailedPrecondition);
        if (expected.succeeds() && !region->prepared) {
          if (region->prepare.cache() == MemCacheType::kCacheNonCoherent &&
              !noncoherent_cap_) {
            expected.Breaks(absl::StatusCode::kUnimplemented);
          }
          if (SlotsInUse() >= max_slots_) {
            expected.Breaks(absl::StatusCode::kResourceExhausted);
          }
        }
        if (expected.succeeds() && os_fails) expected.any_error = true;
      } else {
        if (os_fails) expected.any_error = true;
        if (cache == MemCacheType::kCacheNonCoherent && !noncoherent_cap_) {
          expected.Breaks(absl::StatusCode::kUnimplemented);
        }
        if (!prot.write && !read_only_cap_) {
          expected.Breaks(absl::StatusCode::kUnimplemented);
        }
        if (SlotsInUse() >= max_slots_) {
          expected.Breaks(absl::StatusCode::kResourceExhausted);
        }
      }
    }

    const bool was_prepared = region != nullptr && region->prepared;
    absl::Status status =
        service_->AddMapping(id, *std::move(source), offset, prot, cache);
    std::optional<FakeVm::Call> fired = FiredInjection();
    if (fired) {
      if (fired->method == FakeVm::Method::kRemoveMemoryRegion) {
        // Only the undo of a preparation removes a region here: the fd
        // mapping failed for a reason of its own and the arena stays.
        Require(region != nullptr && !region->dynamic() && !was_prepared &&
                    os_fails && !status.ok() &&
                    !absl::StrContains(status.message(), kInjectedMarker),
                "an add removes a region only to undo its own preparation",
                Where() + "AddMapping: " + fired->ToString() + " -> " +
                    status.ToString());
        region->prepared = true;
      } else {
        RequireInjected(status, "AddMapping");
      }
      return;
    }
    RequireOutcome("AddMapping", expected, status);
    if (!status.ok()) return;
    ModelMapping mapping;
    mapping.size = source_size;
    mapping.prot = prot;
    mapping.cache = cache;
    mapping.content = content;
    region->mappings.emplace(offset, mapping);
    if (!region->dynamic()) region->prepared = true;
  }

  void Unmap(const uint8_t* a) {
    const VmMemoryService::RegionId id = SelectRegion(a[0]);
    auto it = regions_.find(id);
    ModelRegion* region = it == regions_.end() ? nullptr : &it->second;
    uint64_t offset = (a[1] % 40) * Page();
    if ((a[2] & 1) && region != nullptr && !region->mappings.empty()) {
      auto pick = region->mappings.begin();
      std::advance(pick, a[1] % region->mappings.size());
      offset = pick->first;
    }
    if (a[2] & 2) offset += 0x10;
    Expectation expected;
    if (region == nullptr || region->mappings.count(offset) == 0) {
      expected.Breaks(absl::StatusCode::kNotFound);
    }
    absl::Status status = service_->RemoveMapping(id, offset);
    if (FiredInjection()) {
      RequireInjected(status, "RemoveMapping");
      return;
    }
    RequireOutcome("RemoveMapping", expected, status);
    if (status.ok()) region->mappings.erase(offset);
  }

  void Move(const uint8_t* a) {
    const VmMemoryService::RegionId id = SelectRegion(a[0]);
    auto it = regions_.find(id);
    ModelRegion* region = it == regions_.end() ? nullptr : &it->second;
    GuestAddress address = (uint64_t{a[1]} | uint64_t{a[2]} << 8) * Page();
    if (a[3] & 2) address = (kLimitPages - a[1]) * Page();
    if (a[3] & 1) address += 0x10;
    Expectation expected;
    if (region == nullptr) {
      expected.Breaks(absl::StatusCode::kNotFound);
    } else if (address != region->address) {
      expected = PlacementExpectation(address, region->size, id);
    }
    // Each dynamic mapping's slot before the move, to tell which one an
    // injected failure hit.
    std::map<MemSlot, uint64_t> offset_of_slot;
    if (region != nullptr) {
      absl::StatusOr<std::vector<VmMemoryService::MappingStatus>> mappings =
          service_->GetMappings(id);
      if (mappings.ok()) {
        for (const auto& m : *mappings) offset_of_slot[m.slot] = m.offset;
      }
    }
    absl::Status status = service_->MoveRegion(id, address);
    std::optional<FakeVm::Call> fired = FiredInjection();
    if (fired) {
      RequireInjected(status, "MoveRegion");
      const bool removal = fired->method == FakeVm::Method::kRemoveMemoryRegion;
      if (!region->dynamic()) {
        // Prepared: a refused removal changes nothing; a refused re-add
        // loses the arena and every mapping in it.
        if (!removal) {
          region->prepared = false;
          region->mappings.clear();
        }
      } else if (!removal) {
        // Dynamic: the mapping whose re-add was refused is gone; the
        // others are back where they were.
        Require(fired->guest_address >= address &&
                    region->mappings.count(fired->guest_address - address),
                "a refused dynamic re-add is at a mapping's new address",
                Where() + fired->ToString());
        region->mappings.erase(fired->guest_address - address);
      } else {
        Require(offset_of_slot.count(fired->slot) != 0,
                "a dynamic move removes only the region's own slots",
                Where() + fired->ToString());
      }
      return;
    }
    RequireOutcome("MoveRegion", expected, status);
    if (status.ok()) region->address = address;
  }

  void Inject(const uint8_t* a) {
    if (injection_pending_) return;
    static constexpr FakeVm::Method kMethods[] = {
        FakeVm::Method::kAddMemoryRegion, FakeVm::Method::kRemoveMemoryRegion,
        FakeVm::Method::kAddFdMapping, FakeVm::Method::kRemoveMapping};
    vm_->FailNext(kMethods[a[0] % 4],
                  absl::DataLossError(absl::StrFormat(
                      "%s at step %d", kInjectedMarker, step_)),
                  a[1] % 3);
    injection_pending_ = true;
  }

  void Unregister(const uint8_t* a) {
    const VmMemoryService::RegionId id = SelectRegion(a[0]);
    auto it = regions_.find(id);
    Expectation expected;
    if (it == regions_.end()) expected.Breaks(absl::StatusCode::kNotFound);
    std::map<MemSlot, uint64_t> offset_of_slot;
    if (it != regions_.end()) {
      absl::StatusOr<std::vector<VmMemoryService::MappingStatus>> mappings =
          service_->GetMappings(id);
      if (mappings.ok()) {
        for (const auto& m : *mappings) offset_of_slot[m.slot] = m.offset;
      }
    }
    absl::Status status = service_->UnregisterRegion(id);
    std::optional<FakeVm::Call> fired = FiredInjection();
    if (fired) {
      RequireInjected(status, "UnregisterRegion");
      ModelRegion& region = it->second;
      if (region.dynamic()) {
        // Mappings are removed in offset order; those before the refused
        // one are gone, the rest stay.
        Require(offset_of_slot.count(fired->slot) != 0,
                "an unregister removes only the region's own slots",
                Where() + fired->ToString());
        const uint64_t stop = offset_of_slot[fired->slot];
        region.mappings.erase(region.mappings.begin(),
                              region.mappings.lower_bound(stop));
      }
      return;
    }
    RequireOutcome("UnregisterRegion", expected, status);
    if (status.ok()) regions_.erase(it);
  }

  // ---- the checks after every step ----------------------------------------

  void CheckState() {
    const std::vector<MemoryRegionInfo> vm_regions = vm_->MemoryRegions();
    std::map<GuestAddress, MemoryRegionInfo> by_address;
    for (const MemoryRegionInfo& info : vm_regions) {
      by_address[info.guest_address] = info;
    }
    Require(vm_regions.size() == SlotsInUse(),
            "the Vm holds exactly the foreign regions, one arena per prepared "
            "region and one region per dynamic mapping (no leaked slot)",
            Where() + absl::StrFormat("Vm has %u regions, model %u",
                                      vm_regions.size(), SlotsInUse()));
    if (foreign_) {
      Require(by_address.count(0) && by_address[0].size == kForeignPages * Page(),
              "foreign regions are left alone", Where() + "RAM at 0 changed");
    }
    for (const auto& [id, region] : regions_) CheckRegion(id, region, by_address);
    absl::StatusOr<VmMemoryService::RegionStatus> unknown =
        service_->GetRegionStatus(next_unknown_id_ + kUnknownRegionOffset);
    Require(unknown.status().code() == absl::StatusCode::kNotFound,
            "an id never handed out is unknown", Where() + unknown.status().ToString());
    for (VmMemoryService::RegionId gone : ever_handed_out_) {
      if (regions_.count(gone)) continue;
      Require(service_->GetRegionStatus(gone).status().code() ==
                  absl::StatusCode::kNotFound,
              "an unregistered region is forgotten",
              Where() + absl::StrFormat("region %u", gone));
    }
  }

  void CheckRegion(VmMemoryService::RegionId id, const ModelRegion& region,
                   std::map<GuestAddress, MemoryRegionInfo>& by_address) {
    const std::string name =
        Where() + absl::StrFormat("%s region %u at %#x", KindName(region.dynamic()),
                                  id, region.address);
    absl::StatusOr<VmMemoryService::RegionStatus> status =
        service_->GetRegionStatus(id);
    Require(status.ok(), "a registered region is known", name);
    Require(status->guest_address == region.address && status->size == region.size &&
                status->prepare == region.prepare,
            "the region keeps its size and declared prepare type and is where "
            "its last successful move put it",
            name + absl::StrFormat(": service says %#x size %#x %s",
                                   status->guest_address, status->size,
                                   status->prepare.ToString()));
    Require(status->prepared_slot.has_value() == region.prepared,
            "a SingleMappingOnFirst region is prepared from its first "
            "successful mapping until it is lost, and a dynamic one never",
            name + absl::StrFormat(": service prepared=%d model prepared=%d",
                                   status->prepared_slot.has_value(),
                                   region.prepared));
    Require(status->mapping_count == region.mappings.size(),
            "the mapping count is the number of live mappings",
            name + absl::StrFormat(": %u vs %u", status->mapping_count,
                                   region.mappings.size()));
    absl::StatusOr<std::vector<VmMemoryService::MappingStatus>> mappings =
        service_->GetMappings(id);
    Require(mappings.ok() && mappings->size() == region.mappings.size(),
            "GetMappings lists every live mapping", name);
    auto model = region.mappings.begin();
    for (const VmMemoryService::MappingStatus& m : *mappings) {
      Require(m.offset == model->first && m.size == model->second.size &&
                  m.prot == model->second.prot && m.cache == model->second.cache,
              "each mapping keeps its offset, size, protection and cache type",
              name + absl::StrFormat(": service [%#x +%#x) %s %s, model [%#x "
                                     "+%#x) %s %s",
                                     m.offset, m.size, ProtectionName(m.prot),
                                     MemCacheTypeName(m.cache), model->first,
                                     model->second.size,
                                     ProtectionName(model->second.prot),
                                     MemCacheTypeName(model->second.cache)));
      if (region.prepared) {
        Require(m.slot == *status->prepared_slot,
                "a prepared region's mappings live in its arena's slot", name);
      }
      ++model;
    }

    // The Vm's view.
    if (region.prepared) {
      auto arena = by_address.find(region.address);
      Require(arena != by_address.end() && arena->second.size == region.size &&
                  arena->second.slot == *status->prepared_slot &&
                  arena->second.options.cache == region.prepare.cache() &&
                  !arena->second.options.read_only,
              "a prepared region is one arena over the whole region with the "
              "declared cache type",
              name);
    }
    if (region.dynamic()) {
      size_t index = 0;
      for (const auto& [offset, mapping] : region.mappings) {
        auto own = by_address.find(region.address + offset);
        Require(own != by_address.end() && own->second.size == mapping.size &&
                    own->second.slot == (*mappings)[index].slot &&
                    own->second.options.cache == mapping.cache &&
                    own->second.options.read_only == !mapping.prot.write,
                "a dynamic mapping is its own Vm region with its own cache "
                "type, read-only without write permission",
                name + absl::StrFormat(": mapping at %#x", offset));
        ++index;
      }
    }
    CheckGuestBytes(region, name);
  }

  void CheckGuestBytes(const ModelRegion& region, const std::string& name) {
    uint64_t cursor = 0;
    auto next = region.mappings.begin();
    while (cursor < region.size) {
      if (next != region.mappings.end() && next->first == cursor) {
        CheckMappedBytes(region, next->first, next->second, name);
        cursor += next->second.size;
        ++next;
        continue;
      }
      const uint64_t gap_end =
          next == region.mappings.end() ? region.size : next->first;
      if (region.prepared) {
        absl::StatusOr<std::vector<uint8_t>> bytes =
            vm_->ReadGuest(region.address + cursor, gap_end - cursor);
        bool zero = bytes.ok();
        for (size_t i = 0; zero && i < bytes->size(); ++i) zero = (*bytes)[i] == 0;
        Require(zero, "an unmapped range of a prepared arena reads as zeros",
                name + absl::StrFormat(": [%#x, %#x) %s", cursor, gap_end,
                                       bytes.status().ToString()));
      } else {
        for (uint64_t page = cursor; page < gap_end; page += Page()) {
          absl::StatusOr<std::vector<uint8_t>> bytes =
              vm_->ReadGuest(region.address + page, Page());
          Require(bytes.status().code() == absl::StatusCode::kNotFound,
                  "an unmapped page of an unprepared or dynamic region is an "
                  "MMIO exit",
                  name + absl::StrFormat(": page %#x reads %s", page,
                                         bytes.status().ToString()));
        }
      }
      cursor = gap_end;
    }
  }

  void CheckMappedBytes(const ModelRegion& region, uint64_t offset,
                        const ModelMapping& mapping, const std::string& name) {
    absl::StatusOr<std::vector<uint8_t>> bytes =
        vm_->ReadGuest(region.address + offset, mapping.size);
    if (!mapping.prot.read &&
        bytes.status().code() == absl::StatusCode::kPermissionDenied) {
      return;  // the guest may not read it; nothing to compare
    }
    Require(bytes.ok(), "a mapped range the guest may read is readable",
            name + absl::StrFormat(": mapping at %#x: %s", offset,
                                   bytes.status().ToString()));
    std::vector<uint8_t> expected(Page(), 0);
    for (uint64_t page = 0; page < mapping.size / Page(); ++page) {
      if (!mapping.content.zero) {
        FillPattern(mapping.content.tag, mapping.content.first_page + page,
                    expected.data());
      }
      Require(std::memcmp(bytes->data() + page * Page(), expected.data(),
                          Page()) == 0,
              "the guest reads the source's bytes at the source's offset "
              "through a mapped range",
              name + absl::StrFormat(": mapping at %#x, page %u (tag %#x, "
                                     "file page %u)",
                                     offset, page, mapping.content.tag,
                                     mapping.content.first_page + page));
    }
  }

  FuzzInput& in_;
  int step_ = 0;
  bool noncoherent_cap_ = false;
  bool read_only_cap_ = false;
  bool foreign_ = false;
  uint32_t max_slots_ = 0;
  bool injection_pending_ = false;
  uint32_t allocations_ = 0;
  VmMemoryService::RegionId next_unknown_id_ = 0;
  std::unique_ptr<FakeVm> vm_;
  std::unique_ptr<VmMemoryService> service_;
  std::map<VmMemoryService::RegionId, ModelRegion> regions_;
  std::set<VmMemoryService::RegionId> ever_handed_out_;
};

}  // namespace
}  // namespace hv::virtio

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return hv::virtio::RunFuzzInput<hv::virtio::Run>(data, size);
}
