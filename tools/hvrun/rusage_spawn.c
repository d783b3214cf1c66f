// rusage_spawn: runs a program RUNS times (stdin, stdout and stderr on
// /dev/null) and prints one line per run: "<wall ns> <maxrss KiB> <exit>",
// the wall time from fork() to the child reaped, the child's peak resident
// set (wait4's ru_maxrss) and its exit status (128 + n for signal n).
// For overhead_report.py: a child's ru_maxrss counts the memory of the
// process it was forked from (exec records the old image's peak), so the
// forking process must be small; this one is static C, a few hundred KiB,
// where Python's fork would count its ~15 MiB.
//
//   rusage_spawn 51 hvrun_bin --payload=exit.bin --mem=16M
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long NowNs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char** argv) {
  if (argc < 3 || atoi(argv[1]) <= 0) {
    fprintf(stderr, "usage: rusage_spawn RUNS PROGRAM [ARGS...]\n");
    return 2;
  }
  const int runs = atoi(argv[1]);
  for (int i = 0; i < runs; ++i) {
    const long long start = NowNs();
    const pid_t pid = fork();
    if (pid < 0) {
      perror("rusage_spawn: fork");
      return 1;
    }
    if (pid == 0) {
      const int null_fd = open("/dev/null", O_RDWR);
      if (null_fd >= 0) {
        dup2(null_fd, 0);
        dup2(null_fd, 1);
        dup2(null_fd, 2);
      }
      execv(argv[2], argv + 2);
      _exit(127);
    }
    int status = 0;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) < 0) {
      perror("rusage_spawn: wait4");
      return 1;
    }
    const long long wall = NowNs() - start;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    printf("%lld %ld %d\n", wall, usage.ru_maxrss, code);
  }
  return 0;
}
