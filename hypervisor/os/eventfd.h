// EventFd: an eventfd(2) counter, used for ioeventfds and irqfds.
//
// Example:
//   ASSIGN_OR_RETURN(hv::EventFd event, hv::EventFd::Create());
//   RETURN_IF_ERROR(vm->RegisterIoEvent(
//       event, {hv::IoEventAddress::Space::kPio, 0x20, 1}));
//   ASSIGN_OR_RETURN(uint64_t count, event.Read());
#ifndef HV_HYPERVISOR_OS_EVENTFD_H_
#define HV_HYPERVISOR_OS_EVENTFD_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "hypervisor/os/unique_fd.h"

namespace hv {

class EventFd {
 public:
  // EventFd::Create(): a non-semaphore eventfd, close-on-exec, non-blocking.
  static absl::StatusOr<EventFd> Create();

  EventFd(EventFd&&) = default;
  EventFd& operator=(EventFd&&) = default;

  int fd() const { return fd_.get(); }

  // EventFd::Write(): adds `value` to the counter.
  absl::Status Write(uint64_t value = 1) const;
  // EventFd::Read(): returns the counter and resets it to zero;
  // UNAVAILABLE when the counter is zero.
  absl::StatusOr<uint64_t> Read() const;
  // EventFd::Wait(): waits up to `timeout` for a non-zero counter, then reads
  // it; DEADLINE_EXCEEDED on timeout.
  absl::StatusOr<uint64_t> Wait(absl::Duration timeout) const;

 private:
  explicit EventFd(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_OS_EVENTFD_H_
