// boot_timer: runs one VMM process that boots a Linux guest and times it
// from the fork to the lines the guest prints on the VMM's stdout, for
// linux_boot.py (README.md, "Linux boot").
//
//   boot_timer TIMEOUT_S MEM_KIB LOG PROGRAM [ARGS...]
//
// The child's stdin is /dev/null, its stdout a pipe read here (and copied to
// LOG), its stderr LOG.err. Times, in µs from just before fork():
//   run_init  the kernel's "Run /init as init process" line arrived
//   first     the init's first line, "hv-init: first line", arrived
//   end       the init's last line, "hv-init: end ...", arrived; at that moment
//             /proc/PID/smaps is read: the resident size of the mappings at
//             least MEM_KIB large is the guest RAM the VMM has touched
//   exit      wait4() returned (the guest rebooted and the VMM tore down)
// plus the child's user + system CPU time and peak RSS (ru_maxrss) from
// wait4(). ru_maxrss counts the image the child was forked from until it
// execs, so the forking process must be small: this one is static C.
// Prints one line on stdout:
//   boot run_init_us=N first_us=N end_us=N exit_us=N cpu_us=N maxrss_kib=N
//        guest_rss_kib=N guest_maps=N status=N
// A time is -1 when its line never came. After TIMEOUT_S seconds the child
// is killed (status 137).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long NowUs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

// GuestRss: the summed Rss (KiB) of pid's mappings of at least min_kib, and
// how many there were, from /proc/PID/smaps.
static long GuestRss(pid_t pid, long min_kib, int* maps) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
  FILE* f = fopen(path, "r");
  *maps = 0;
  if (f == NULL) return -1;
  char line[512];
  long total = 0;
  int big = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    long kib;
    if (sscanf(line, "Size: %ld kB", &kib) == 1) {
      big = kib >= min_kib;
      if (big) ++*maps;
    } else if (big && sscanf(line, "Rss: %ld kB", &kib) == 1) {
      total += kib;
    }
  }
  fclose(f);
  return total;
}

int main(int argc, char** argv) {
  if (argc < 5 || atoi(argv[1]) <= 0 || atol(argv[2]) <= 0) {
    fprintf(stderr, "usage: boot_timer TIMEOUT_S MEM_KIB LOG PROGRAM [ARGS...]\n");
    return 2;
  }
  const long long timeout_us = atoll(argv[1]) * 1000000LL;
  const long mem_kib = atol(argv[2]);
  FILE* log = fopen(argv[3], "w");
  char err_path[4096];
  snprintf(err_path, sizeof err_path, "%s.err", argv[3]);
  const int err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int out[2];
  if (log == NULL || err_fd < 0 || pipe(out) != 0) {
    perror("boot_timer: log or pipe");
    return 1;
  }
  const long long start = NowUs();
  const pid_t pid = fork();
  if (pid < 0) {
    perror("boot_timer: fork");
    return 1;
  }
  if (pid == 0) {
    const int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    dup2(out[1], 1);
    dup2(err_fd, 2);
    close(out[0]);
    execv(argv[4], argv + 4);
    _exit(127);
  }
  close(out[1]);
  long long run_init = -1, first = -1, end = -1;
  long guest_rss = -1;
  int guest_maps = 0, killed = 0;
  char line[4096];
  size_t len = 0;
  for (;;) {
    const long long left_ms = (start + timeout_us - NowUs()) / 1000;
    if (left_ms <= 0) {
      kill(pid, SIGKILL);
      killed = 1;
      break;
    }
    struct pollfd p = {out[0], POLLIN, 0};
    const int ready = poll(&p, 1, left_ms > 1000 ? 1000 : (int)left_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char buf[4096];
    const ssize_t n = read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    const long long now = NowUs();
    fwrite(buf, 1, (size_t)n, log);
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] != '\n' && len + 1 < sizeof line) {
        line[len++] = buf[i];
        continue;
      }
      line[len] = '\0';
      len = 0;
      if (run_init < 0 && strstr(line, "Run /init as init process") != NULL) run_init = now - start;
      if (first < 0 && strstr(line, "hv-init: first line") != NULL) first = now - start;
      if (end < 0 && strstr(line, "hv-init: end") != NULL) {
        end = now - start;
        guest_rss = GuestRss(pid, mem_kib, &guest_maps);
      }
    }
  }
  int status = 0;
  struct rusage usage;
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      perror("boot_timer: wait4");
      return 1;
    }
  }
  const long long exit_us = NowUs() - start;
  fclose(log);
  const long long cpu_us = (long long)usage.ru_utime.tv_sec * 1000000LL + usage.ru_utime.tv_usec +
                           (long long)usage.ru_stime.tv_sec * 1000000LL + usage.ru_stime.tv_usec;
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  printf("boot run_init_us=%lld first_us=%lld end_us=%lld exit_us=%lld cpu_us=%lld "
         "maxrss_kib=%ld guest_rss_kib=%ld guest_maps=%d status=%d%s\n",
         run_init, first, end, exit_us, cpu_us, usage.ru_maxrss, guest_rss, guest_maps, code,
         killed ? " timed_out=1" : "");
  return 0;
}
