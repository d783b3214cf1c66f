// The Example: block of each Linux header in hypervisor/os, pasted as it
// stands there, so an example that no longer matches the API stops the
// build. Examples that need /dev/kvm are only compiled; the rest also run.
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/os/ioctl_seam.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/mmap_region_checks.h"
#include "hypervisor/os/signals.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/os/unique_fd.h"
#include "hypervisor/vm.h"
#include "testing/fakes/fake_vm.h"
#include "testing/status_matchers.h"

// Compiled, not run: these open /dev/kvm.
namespace hv::examples {

void IoctlSeamExample() {
  class KvmSys : public hv::IoctlSeam {};
  KvmSys* sys = hv::RealSeam<KvmSys>();
  int fd = sys->Open("/dev/kvm", O_RDWR | O_CLOEXEC);
  int version = sys->Ioctl(fd, KVM_GET_API_VERSION, 0);
  sys->Close(fd);
  (void)version;
}

absl::Status UniqueFdExample() {
  ASSIGN_OR_RETURN(hv::UniqueFd kvm, hv::OpenFile("/dev/kvm", O_RDWR));
  int version = ioctl(kvm.get(), KVM_GET_API_VERSION, 0);
  (void)version;
  return absl::OkStatus();
}

}  // namespace hv::examples

namespace hv {
namespace {

using ::hv::testing::IsOk;
using ::hv::testing::StatusIs;
using ::testing::HasSubstr;

absl::Status EventFdExample(hv::Vm* vm) {
  ASSIGN_OR_RETURN(hv::EventFd event, hv::EventFd::Create());
  RETURN_IF_ERROR(vm->RegisterIoEvent(
      event, {hv::IoEventAddress::Space::kPio, 0x20, 1}));
  ASSIGN_OR_RETURN(uint64_t count, event.Read());
  (void)count;
  return absl::OkStatus();
}

absl::Status MemfdAndMmapRegionExample() {
  ASSIGN_OR_RETURN(hv::UniqueFd blob, hv::CreateMemfd("blob", 0x10000));
  ASSIGN_OR_RETURN(hv::MmapRegion arena,
                   hv::MmapRegion::Anonymous(64 << 20, PROT_READ));
  RETURN_IF_ERROR(arena.MapFdAt(0x10000, 0x10000, blob.get(), 0,
                                PROT_READ | PROT_WRITE));
  return absl::OkStatus();
}

absl::Status MmapRegionChecksExample(size_t size) {
  RETURN_IF_ERROR(hv::internal_mmap::CheckSize("mmap anonymous", size));
  return absl::OkStatus();
}

absl::Status SignalsExample(pthread_t vcpu_thread) {
  RETURN_IF_ERROR(hv::InstallKickSignalHandler());
  //   ... on another thread:
  RETURN_IF_ERROR(hv::KickThread(vcpu_thread));
  return absl::OkStatus();
}

// What the status_macros.h example calls.
absl::Status CheckPath(std::string_view path) {
  return path.empty() ? absl::InvalidArgumentError("empty path")
                      : absl::OkStatus();
}
absl::StatusOr<UniqueFd> OpenPath(std::string_view path) {
  return OpenFile(std::string(path), O_RDONLY);
}
int Count(const UniqueFd& fd) { return fd.get() >= 0 ? 1 : 0; }

absl::StatusOr<int> OpenCount(std::string_view path) {
  RETURN_IF_ERROR(CheckPath(path));
  ASSIGN_OR_RETURN(UniqueFd fd, OpenPath(path));
  return Count(fd);
}

TEST(OsExamples, EventFd) {
  auto vm = testing::FakeVm::Create();
  ASSERT_THAT(vm.status(), IsOk());
  // The event is registered, but no guest has written to port 0x20.
  EXPECT_THAT(EventFdExample(vm->get()),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("counter is zero")));
}

TEST(OsExamples, MemfdAndMmapRegion) {
  EXPECT_THAT(MemfdAndMmapRegionExample(), IsOk());
}

TEST(OsExamples, MmapRegionChecks) {
  EXPECT_THAT(MmapRegionChecksExample(sysconf(_SC_PAGESIZE)), IsOk());
}

TEST(OsExamples, Signals) {
  EXPECT_THAT(SignalsExample(pthread_self()), IsOk());
}

TEST(OsExamples, StatusMacros) {
  EXPECT_THAT(OpenCount("/dev/null").status(), IsOk());
  EXPECT_THAT(OpenCount("").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "empty path"));
}

}  // namespace
}  // namespace hv
