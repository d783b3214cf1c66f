// ConsoleInputPump on POSIX: poll() with a 100 ms timeout, then read().
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "tools/hvrun/console_input.h"

namespace hv {
namespace {

void Pump(int fd, const ConsoleInputPump::Sink& sink, const std::atomic<bool>& stop) {
  char buffer[256];
  while (!stop) {
    pollfd entry = {fd, POLLIN, 0};
    const int ready = ::poll(&entry, 1, 100);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return;
    if (ready == 0) continue;
    const ssize_t got = ::read(fd, buffer, sizeof(buffer));
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) return;  // end of input, or an error: stop copying
    sink(absl::string_view(buffer, static_cast<size_t>(got)));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<ConsoleInputPump>> ConsoleInputPump::Start(int fd,
                                                                          Sink sink) {
  absl::StatusOr<std::unique_ptr<PollingThread>> thread = PollingThread::Start(
      "the console input thread",
      [fd, sink = std::move(sink)](const std::atomic<bool>& stop) { Pump(fd, sink, stop); });
  if (!thread.ok()) return thread.status();
  return std::unique_ptr<ConsoleInputPump>(new ConsoleInputPump(*std::move(thread)));
}

}  // namespace hv
