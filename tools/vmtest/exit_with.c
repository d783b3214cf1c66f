/* tools/vmtest/exit_with.c: a deliberately misbehaving test binary for
 * runner_selftest.sh. It prints its arguments, then: `exit_with N [ARGS]`
 * exits with status N, `exit_with hang` never returns, `exit_with panic`
 * crashes the kernel it runs on (through /proc/sysrq-trigger; only ever run
 * it inside the test VM).
 *
 *   tools/vmtest/run_in_vm.sh x86_64 bazel-bin/tools/vmtest/exit_with 3   # -> 3
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: exit_with N [ARGS] | hang | panic\n");
    return 2;
  }
  for (int i = 1; i < argc; ++i) printf("exit_with: argv[%d]=%s\n", i, argv[i]);
  if (strcmp(argv[1], "hang") == 0) {
    printf("exit_with: hanging on purpose\n");
    fflush(stdout);
    for (;;) pause();
  }
  if (strcmp(argv[1], "panic") == 0) {
    /* Only the vmtest guest's initramfs has this file; never crash a host. */
    if (access("/etc/vmtest/info", F_OK) != 0) {
      fprintf(stderr, "exit_with: refusing to crash a kernel outside the vmtest VM\n");
      return 2;
    }
    printf("exit_with: crashing the kernel on purpose\n");
    fflush(stdout);
    FILE* sysrq = fopen("/proc/sysrq-trigger", "w");
    if (sysrq == NULL) return 2;
    fputs("c", sysrq);
    fclose(sysrq);
    return 2; /* not reached when the crash works */
  }
  int status = atoi(argv[1]);
  printf("exit_with: exiting with %d on purpose\n", status);
  return status;
}
