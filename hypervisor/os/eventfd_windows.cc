// EventFd on Windows: a semaphore whose count is the eventfd counter. Write
// releases `value` units; Read takes every unit there is (one wait each, so
// the counts an event carries in practice, kicks and interrupts, are cheap);
// Wait blocks for the first unit. The handle (fd()) can be waited on with
// WaitForSingleObject / WaitForMultipleObjects like an event, but taking a
// unit that way consumes it. The counter is limited to LONG_MAX (eventfd's is
// 2^64 - 2): a Write past it fails with OUT_OF_RANGE and changes nothing.
#include <windows.h>

#include <climits>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "hypervisor/os/eventfd.h"
#include "hypervisor/os/windows_handle.h"

namespace hv {

absl::StatusOr<EventFd> EventFd::Create() {
  HANDLE semaphore = ::CreateSemaphoreW(/*lpSemaphoreAttributes=*/nullptr,
                                        /*lInitialCount=*/0,
                                        /*lMaximumCount=*/LONG_MAX,
                                        /*lpName=*/nullptr);
  if (semaphore == nullptr) return LastErrorStatus("CreateSemaphore (eventfd)");
  return EventFd(UniqueFd(HandleToFd(semaphore)));
}

absl::Status EventFd::Write(uint64_t value) const {
  if (value == 0) return absl::OkStatus();  // eventfd: adding 0 is allowed.
  if (value > static_cast<uint64_t>(LONG_MAX)) {
    return absl::OutOfRangeError(absl::StrCat(
        "write eventfd ", fd_.get(), ": ", value,
        " exceeds the Windows counter limit ", LONG_MAX));
  }
  if (!::ReleaseSemaphore(FdToHandle(fd_.get()), static_cast<LONG>(value),
                          /*lpPreviousCount=*/nullptr)) {
    return LastErrorStatus(absl::StrCat("write eventfd ", fd_.get(),
                                        " (ReleaseSemaphore ", value, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> EventFd::Read() const {
  uint64_t count = 0;
  for (;;) {
    DWORD r = ::WaitForSingleObject(FdToHandle(fd_.get()), 0);
    if (r == WAIT_OBJECT_0) {
      ++count;
      continue;
    }
    if (r == WAIT_TIMEOUT) break;
    return LastErrorStatus(absl::StrCat("read eventfd ", fd_.get(),
                                        " (WaitForSingleObject)"));
  }
  if (count == 0) {
    return absl::UnavailableError(
        absl::StrCat("read eventfd ", fd_.get(), ": counter is zero"));
  }
  return count;
}

absl::StatusOr<uint64_t> EventFd::Wait(absl::Duration timeout) const {
  DWORD ms;
  if (timeout == absl::InfiniteDuration()) {
    ms = INFINITE;
  } else if (timeout <= absl::ZeroDuration()) {
    ms = 0;
  } else {
    int64_t requested = absl::ToInt64Milliseconds(timeout);
    ms = requested >= static_cast<int64_t>(INFINITE) ? INFINITE - 1
                                                     : static_cast<DWORD>(requested);
  }
  DWORD r = ::WaitForSingleObject(FdToHandle(fd_.get()), ms);
  if (r == WAIT_TIMEOUT) {
    return absl::DeadlineExceededError(absl::StrCat(
        "wait eventfd ", fd_.get(), ": nothing within ",
        absl::FormatDuration(timeout)));
  }
  if (r != WAIT_OBJECT_0) {
    return LastErrorStatus(absl::StrCat("wait eventfd ", fd_.get(),
                                        " (WaitForSingleObject)"));
  }
  // One unit taken; the rest of the counter comes with it.
  absl::StatusOr<uint64_t> rest = Read();
  if (rest.ok()) return *rest + 1;
  if (absl::IsUnavailable(rest.status())) return uint64_t{1};
  return rest.status();
}

}  // namespace hv
