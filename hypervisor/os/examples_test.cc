// The Example block of each header in hypervisor/os, pasted as it stands
// there under a line naming the header (tools/examples_check.sh checks
// that every such header has one), so an example that no longer matches the
// API stops the build. Linux compiles the Linux headers' examples and
// Windows the Windows ones; those that open a device are compiled, not run;
// the rest also run.
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/os/unique_fd.h"
#include "testing/status_matchers.h"

#if defined(_WIN32)
#include <windows.h>

#include "hypervisor/os/win_status.h"
#include "hypervisor/os/windows_handle.h"
#else
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "hypervisor/os/errno_status.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/os/ioctl_seam.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/mmap_region_checks.h"
#include "hypervisor/os/run_kicker.h"
#include "hypervisor/os/seam_fd.h"
#include "hypervisor/os/signals.h"
#include "hypervisor/vm.h"
#include "testing/fakes/fake_vm.h"
#endif

namespace hv::examples {
namespace {

using ::hv::testing::IsOk;
using ::hv::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// hypervisor/os/status_macros.h
// What the example calls.
absl::Status CheckPath(std::string_view path) {
  return path.empty() ? absl::InvalidArgumentError("empty path")
                      : absl::OkStatus();
}
absl::StatusOr<UniqueFd> OpenPath(std::string_view path) {
#if defined(_WIN32)
  return OpenFile(std::string(path), 0);
#else
  return OpenFile(std::string(path), O_RDONLY);
#endif
}
int Count(const UniqueFd& fd) { return fd.get() >= 0 ? 1 : 0; }

absl::StatusOr<int> OpenCount(std::string_view path) {
  RETURN_IF_ERROR(CheckPath(path));
  ASSIGN_OR_RETURN(UniqueFd fd, OpenPath(path));
  return Count(fd);
}

TEST(OsExamples, StatusMacros) {
  EXPECT_THAT(OpenCount("").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "empty path"));
#if !defined(_WIN32)
  EXPECT_THAT(OpenCount("/dev/null").status(), IsOk());
#endif
}

#if defined(_WIN32)

// hypervisor/os/win_status.h
// What the example calls: WHvCreatePartition as a host without the Windows
// Hypervisor Platform answers it.
HRESULT WHvCreatePartition(void** partition) {
  *partition = nullptr;
  return E_NOTIMPL;
}

absl::Status WinStatusExample(void* p) {
  void* partition = nullptr;
  if (!VirtualFree(p, 0, MEM_RELEASE)) return hv::LastErrorStatus("VirtualFree");
  // -> INVALID_ARGUMENT "VirtualFree: ERROR_INVALID_PARAMETER (Win32 error 87)"
  HRESULT hr = WHvCreatePartition(&partition);
  if (FAILED(hr)) return hv::HresultStatus("WHvCreatePartition", hr);
  // -> e.g. UNIMPLEMENTED "WHvCreatePartition: E_NOTIMPL (HRESULT 0x80004001)"
  return absl::OkStatus();
}

TEST(OsExamples, WinStatus) {
  EXPECT_THAT(WinStatusExample(nullptr), StatusIs(absl::StatusCode::kInvalidArgument,
                                                  StartsWith("VirtualFree: ")));
  void* page = VirtualAlloc(nullptr, 4096, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
  ASSERT_NE(page, nullptr);
  EXPECT_THAT(WinStatusExample(page),
              StatusIs(absl::StatusCode::kUnimplemented,
                       "WHvCreatePartition: E_NOTIMPL (HRESULT 0x80004001)"));
}

// hypervisor/os/windows_handle.h
// Compiled, not run: it opens the HAXM device.
absl::Status WindowsHandleExample() {
  HANDLE device = CreateFileW(L"\\\\.\\HAX", GENERIC_READ | GENERIC_WRITE, 0,
                              nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (device == INVALID_HANDLE_VALUE) return hv::LastErrorStatus("open HAX");
  hv::UniqueFd owned(hv::HandleToFd(device));
  DWORD returned = 0;
  DeviceIoControl(hv::FdToHandle(owned.get()), 0, nullptr, 0, nullptr, 0,
                  &returned, nullptr);
  return absl::OkStatus();
}

TEST(OsExamples, WindowsHandle) {
  EXPECT_NE(&WindowsHandleExample, nullptr);
}

#else  // !_WIN32

// hypervisor/os/eventfd.h
absl::Status EventFdExample(hv::Vm* vm) {
  ASSIGN_OR_RETURN(hv::EventFd event, hv::EventFd::Create());
  RETURN_IF_ERROR(vm->RegisterIoEvent(
      event, {hv::IoEventAddress::Space::kPio, 0x20, 1}));
  ASSIGN_OR_RETURN(uint64_t count, event.Read());
  (void)count;
  return absl::OkStatus();
}

TEST(OsExamples, EventFd) {
  auto vm = testing::FakeVm::Create();
  ASSERT_THAT(vm.status(), IsOk());
  // The event is registered, but no guest has written to port 0x20.
  EXPECT_THAT(EventFdExample(vm->get()),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("counter is zero")));
}

// hypervisor/os/ioctl_seam.h
// Compiled, not run: it opens /dev/kvm.
void IoctlSeamExample() {
  class KvmSys : public hv::IoctlSeam {};
  KvmSys* sys = hv::RealSeam<KvmSys>();
  int fd = sys->Open("/dev/kvm", O_RDWR | O_CLOEXEC);
  int version = sys->Ioctl(fd, KVM_GET_API_VERSION, 0);
  sys->Close(fd);
  (void)version;
}

TEST(OsExamples, IoctlSeam) { EXPECT_NE(&IoctlSeamExample, nullptr); }

// hypervisor/os/memfd.h
// hypervisor/os/mmap_region.h
absl::Status MemfdAndMmapRegionExample() {
  ASSIGN_OR_RETURN(hv::UniqueFd blob, hv::CreateMemfd("blob", 0x10000));
  ASSIGN_OR_RETURN(hv::MmapRegion arena,
                   hv::MmapRegion::Anonymous(64 << 20, PROT_READ));
  RETURN_IF_ERROR(arena.MapFdAt(0x10000, 0x10000, blob.get(), 0,
                                PROT_READ | PROT_WRITE));
  return absl::OkStatus();
}

TEST(OsExamples, MemfdAndMmapRegion) {
  EXPECT_THAT(MemfdAndMmapRegionExample(), IsOk());
}

// hypervisor/os/mmap_region_checks.h
absl::Status MmapRegionChecksExample(size_t size) {
  RETURN_IF_ERROR(hv::internal_mmap::CheckSize("mmap anonymous", size));
  return absl::OkStatus();
}

TEST(OsExamples, MmapRegionChecks) {
  EXPECT_THAT(MmapRegionChecksExample(sysconf(_SC_PAGESIZE)), IsOk());
  EXPECT_THAT(MmapRegionChecksExample(0),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// hypervisor/os/run_kicker.h
// The members the example's backend vCPU uses.
class KvmVcpu {
 public:
  int RunOnce();
  absl::Status Kick() { return kicker_.Kick(); }
  bool immediate_exit() const { return immediate_exit_ != 0; }

 private:
  class KvmSys : public hv::IoctlSeam {};
  KvmSys* sys_ = hv::RealSeam<KvmSys>();
  hv::UniqueFd fd_;  // none: KVM_RUN fails
  uint8_t immediate_exit_ = 0;  // kvm_run's byte
  hv::RunKicker kicker_{&immediate_exit_};
};

int KvmVcpu::RunOnce() {
  const int error =
      kicker_.Run([&] { return sys_->Ioctl(fd_.get(), KVM_RUN, 0); });
  return error;
}

TEST(OsExamples, RunKicker) {
  KvmVcpu vcpu;
  // EBADF (ENOSYS under qemu-user, which passes on no unknown ioctl).
  EXPECT_NE(vcpu.RunOnce(), 0);
  // No thread is inside Run(): the request is written into the byte and
  // nothing is signalled.
  EXPECT_THAT(vcpu.Kick(), IsOk());
  EXPECT_TRUE(vcpu.immediate_exit());
}

// hypervisor/os/seam_fd.h
class KvmSys : public hv::IoctlSeam {};
using KvmFd = SeamFd<KvmSys>;

absl::Status SeamFdExample(KvmSys* sys, int kvm_fd) {
  KvmFd vm(sys, sys->Ioctl(kvm_fd, KVM_CREATE_VM, 0));
  if (!vm.valid()) return ErrnoStatus("KVM_CREATE_VM");
  return absl::OkStatus();
}

TEST(OsExamples, SeamFd) {
  const absl::Status status = SeamFdExample(hv::RealSeam<KvmSys>(), -1);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), StartsWith("KVM_CREATE_VM: "));
}

// hypervisor/os/signals.h
absl::Status SignalsExample(pthread_t vcpu_thread) {
  RETURN_IF_ERROR(hv::InstallKickSignalHandler());
  //   ... on another thread:
  RETURN_IF_ERROR(hv::KickThread(vcpu_thread));
  return absl::OkStatus();
}

TEST(OsExamples, Signals) {
  EXPECT_THAT(SignalsExample(pthread_self()), IsOk());
}

// hypervisor/os/unique_fd.h
// Compiled, not run: it opens /dev/kvm.
absl::Status UniqueFdExample() {
  ASSIGN_OR_RETURN(hv::UniqueFd kvm, hv::OpenFile("/dev/kvm", O_RDWR));
  int version = ioctl(kvm.get(), KVM_GET_API_VERSION, 0);
  (void)version;
  return absl::OkStatus();
}

TEST(OsExamples, UniqueFd) { EXPECT_NE(&UniqueFdExample, nullptr); }

#endif  // _WIN32

}  // namespace
}  // namespace hv::examples
