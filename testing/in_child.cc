#include "testing/in_child.h"

#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace hv::testing {

std::string InChild(absl::FunctionRef<std::string()> body) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return "error: pipe";
  const pid_t child = ::fork();
  if (child < 0) return "error: fork";
  if (child == 0) {
    ::close(pipe_fds[0]);
    const std::string message = body();
    const ssize_t written =
        ::write(pipe_fds[1], message.data(), message.size());
    ::_exit(written == static_cast<ssize_t>(message.size()) ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  std::string message;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof(buffer))) > 0;) {
    message.append(buffer, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  int wait_status = 0;
  if (::waitpid(child, &wait_status, 0) != child || !WIFEXITED(wait_status) ||
      WEXITSTATUS(wait_status) != 0) {
    absl::StrAppend(&message, " (the child failed)");
  }
  return message;
}

}  // namespace hv::testing
