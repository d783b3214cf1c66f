#include "testing/kvm_fault_injection.h"

#include <sys/mman.h>

#include <cerrno>

namespace hv::testing {
namespace {

// KVM_CHECK_EXTENSION is _IO(KVMIO = 0xAE, 0x03); spelled out here so test
// support needs no kernel header (hypervisor/kvm keeps that to itself).
constexpr unsigned long kCheckExtension = (0xAEul << 8) | 0x03;

}  // namespace

void FaultInjectingKvmSys::FailCall(uint64_t index, int error) {
  std::lock_guard<std::mutex> lock(mutex_);
  fail_index_ = index;
  fail_index_error_ = error;
}

void FaultInjectingKvmSys::FailIoctl(unsigned long request, int error,
                                     int skip) {
  std::lock_guard<std::mutex> lock(mutex_);
  fail_request_ = request;
  fail_request_error_ = error;
  fail_request_skip_ = skip;
}

void FaultInjectingKvmSys::OverrideExtension(int cap, int value) {
  std::lock_guard<std::mutex> lock(mutex_);
  extensions_[cap] = value;
}

void FaultInjectingKvmSys::ClearFaults() {
  std::lock_guard<std::mutex> lock(mutex_);
  fail_index_.reset();
  fail_request_.reset();
  extensions_.clear();
}

void FaultInjectingKvmSys::ResetCount() {
  std::lock_guard<std::mutex> lock(mutex_);
  calls_ = 0;
}

uint64_t FaultInjectingKvmSys::calls() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return calls_;
}

uint64_t FaultInjectingKvmSys::faults_injected() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return faults_;
}

std::string FaultInjectingKvmSys::last_fault() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_fault_;
}

std::optional<int> FaultInjectingKvmSys::Count(
    const std::string& name, std::optional<unsigned long> request) {
  std::lock_guard<std::mutex> lock(mutex_);
  const uint64_t index = calls_++;
  std::optional<int> error;
  if (fail_index_.has_value() && *fail_index_ == index) {
    error = fail_index_error_;
    fail_index_.reset();
  } else if (fail_request_.has_value() && request == fail_request_) {
    if (fail_request_skip_ > 0) {
      --fail_request_skip_;
    } else {
      error = fail_request_error_;
      fail_request_.reset();
    }
  }
  if (error.has_value()) {
    ++faults_;
    last_fault_ = name;
  }
  return error;
}

int FaultInjectingKvmSys::Open(const char* path, int flags) {
  if (std::optional<int> error = Count("open", std::nullopt)) {
    errno = *error;
    return -1;
  }
  return next_->Open(path, flags);
}

int FaultInjectingKvmSys::Ioctl(int fd, unsigned long request,
                                uintptr_t arg) {
  if (std::optional<int> error = Count(KvmIoctlName(request), request)) {
    errno = *error;
    return -1;
  }
  if (request == kCheckExtension) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = extensions_.find(static_cast<int>(arg));
    if (it != extensions_.end()) return it->second;
  }
  return next_->Ioctl(fd, request, arg);
}

void* FaultInjectingKvmSys::Mmap(void* addr, size_t length, int prot,
                                 int flags, int fd, off_t offset) {
  if (std::optional<int> error = Count("mmap", std::nullopt)) {
    errno = *error;
    return MAP_FAILED;
  }
  return next_->Mmap(addr, length, prot, flags, fd, offset);
}

int FaultInjectingKvmSys::Munmap(void* addr, size_t length) {
  std::optional<int> error = Count("munmap", std::nullopt);
  int result = next_->Munmap(addr, length);
  if (error.has_value()) {
    errno = *error;
    return -1;
  }
  return result;
}

int FaultInjectingKvmSys::Close(int fd) {
  std::optional<int> error = Count("close", std::nullopt);
  int result = next_->Close(fd);
  if (error.has_value()) {
    errno = *error;
    return -1;
  }
  return result;
}

}  // namespace hv::testing
