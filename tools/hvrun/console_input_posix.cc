// ConsoleInputPump on POSIX: poll() with a 100 ms timeout, then read().
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "tools/hvrun/console_input.h"

namespace hv {

absl::StatusOr<std::unique_ptr<ConsoleInputPump>> ConsoleInputPump::Start(int fd,
                                                                          Sink sink) {
  std::unique_ptr<ConsoleInputPump> pump(new ConsoleInputPump(fd, std::move(sink)));
  try {
    pump->thread_ = std::thread([p = pump.get()] { p->Pump(); });
  } catch (const std::system_error& e) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot start the console input thread: ", e.what()));
  }
  return pump;
}

ConsoleInputPump::~ConsoleInputPump() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ConsoleInputPump::Pump() {
  char buffer[256];
  while (!stop_) {
    pollfd entry = {fd_, POLLIN, 0};
    const int ready = ::poll(&entry, 1, 100);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return;
    if (ready == 0) continue;
    const ssize_t got = ::read(fd_, buffer, sizeof(buffer));
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) return;  // end of input, or an error: stop copying
    sink_(absl::string_view(buffer, static_cast<size_t>(got)));
  }
}

}  // namespace hv
