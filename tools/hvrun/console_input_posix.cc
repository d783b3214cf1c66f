// ConsoleInputPump on POSIX: poll() on the fd and on a wake pipe, then
// read(). The pump's end writes to the pipe, so it is joined at once; where
// the pipe cannot be made, poll() looks at the stop flag every 100 ms.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <memory>

#include "tools/hvrun/console_input.h"

namespace hv {
namespace {

// The pipe that wakes the pump; -1s where pipe2() failed.
struct WakePipe {
  int read_end = -1;
  int write_end = -1;
  WakePipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
      read_end = fds[0];
      write_end = fds[1];
    }
  }
  ~WakePipe() {
    if (read_end >= 0) ::close(read_end);
    if (write_end >= 0) ::close(write_end);
  }
  WakePipe(const WakePipe&) = delete;
  WakePipe& operator=(const WakePipe&) = delete;
};

void Pump(int fd, int wake_fd, const ConsoleInputPump::Sink& sink,
          const std::atomic<bool>& stop) {
  char buffer[256];
  while (!stop) {
    pollfd entries[2] = {{fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    const int ready = ::poll(entries, wake_fd >= 0 ? 2 : 1, wake_fd >= 0 ? -1 : 100);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return;
    if (ready == 0 || entries[0].revents == 0) continue;
    const ssize_t got = ::read(fd, buffer, sizeof(buffer));
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) return;  // end of input, or an error: stop copying
    sink(absl::string_view(buffer, static_cast<size_t>(got)));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<ConsoleInputPump>> ConsoleInputPump::Start(int fd,
                                                                          Sink sink) {
  auto wake = std::make_shared<WakePipe>();
  absl::StatusOr<std::unique_ptr<PollingThread>> thread = PollingThread::Start(
      "the console input thread",
      [fd, wake, sink = std::move(sink)](const std::atomic<bool>& stop) {
        Pump(fd, wake->read_end, sink, stop);
      },
      [wake](std::thread&) {
        if (wake->write_end < 0) return;
        const char byte = 0;
        while (::write(wake->write_end, &byte, 1) < 0 && errno == EINTR) {
        }
      });
  if (!thread.ok()) return thread.status();
  return std::unique_ptr<ConsoleInputPump>(new ConsoleInputPump(*std::move(thread)));
}

}  // namespace hv
