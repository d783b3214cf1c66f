#include "hypervisor/kvm/kvm_fault_injection.h"

#include <sys/mman.h>

#include <cerrno>
#include <utility>

namespace hv::testing {
namespace {

// KVM_CHECK_EXTENSION is _IO(KVMIO = 0xAE, 0x03); spelled out here so test
// support needs no kernel header (hypervisor/kvm keeps that to itself).
constexpr unsigned long kCheckExtension = (0xAEul << 8) | 0x03;

}  // namespace

void FaultInjectingKvmSys::FailCall(uint64_t index, int error) {
  plan_.FailCall(index, error);
}

void FaultInjectingKvmSys::FailIoctl(unsigned long request, int error,
                                     int skip) {
  plan_.FailNext(KvmIoctlName(request), error, skip);
}

void FaultInjectingKvmSys::OverrideExtension(int cap, int value) {
  std::lock_guard<std::mutex> lock(mutex_);
  extensions_[cap] = value;
}

void FaultInjectingKvmSys::IgnoreIoctls(
    std::function<bool(unsigned long, uintptr_t)> ignored) {
  std::lock_guard<std::mutex> lock(mutex_);
  ignored_ = std::move(ignored);
}

void FaultInjectingKvmSys::ClearFaults() {
  plan_.Clear();
  std::lock_guard<std::mutex> lock(mutex_);
  extensions_.clear();
  ignored_ = nullptr;
}

void FaultInjectingKvmSys::ResetCount() { plan_.Reset(); }

uint64_t FaultInjectingKvmSys::calls() const { return plan_.calls(); }

uint64_t FaultInjectingKvmSys::faults_injected() const {
  return plan_.faults_injected();
}

std::string FaultInjectingKvmSys::last_fault() const {
  return plan_.last_fault();
}

int FaultInjectingKvmSys::Open(const char* path, int flags) {
  if (std::optional<int> error = plan_.Count("open")) {
    errno = *error;
    return -1;
  }
  return next_->Open(path, flags);
}

int FaultInjectingKvmSys::Ioctl(int fd, unsigned long request,
                                uintptr_t arg) {
  if (std::optional<int> error = plan_.Count(KvmIoctlName(request))) {
    errno = *error;
    return -1;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (request == kCheckExtension) {
      auto it = extensions_.find(static_cast<int>(arg));
      if (it != extensions_.end()) return it->second;
    }
    if (ignored_ && ignored_(request, arg)) return 0;
  }
  return next_->Ioctl(fd, request, arg);
}

void* FaultInjectingKvmSys::Mmap(void* addr, size_t length, int prot,
                                 int flags, int fd, off_t offset) {
  if (std::optional<int> error = plan_.Count("mmap")) {
    errno = *error;
    return MAP_FAILED;
  }
  return next_->Mmap(addr, length, prot, flags, fd, offset);
}

int FaultInjectingKvmSys::Munmap(void* addr, size_t length) {
  std::optional<int> error = plan_.Count("munmap");
  int result = next_->Munmap(addr, length);
  if (error.has_value()) {
    errno = *error;
    return -1;
  }
  return result;
}

int FaultInjectingKvmSys::Close(int fd) {
  std::optional<int> error = plan_.Count("close");
  int result = next_->Close(fd);
  if (error.has_value()) {
    errno = *error;
    return -1;
  }
  return result;
}

}  // namespace hv::testing
