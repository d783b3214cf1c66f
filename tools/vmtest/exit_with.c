/* tools/vmtest/exit_with.c: a deliberately misbehaving test binary for
 * runner_selftest.sh. It prints its arguments, then: `exit_with N [ARGS]`
 * exits with status N, `exit_with hang` never returns, `exit_with panic`
 * crashes the kernel it runs on (through /proc/sysrq-trigger), `exit_with
 * poweroff` powers the VM off before /init can print the result marker, and
 * `exit_with forge` prints result markers that lack the run's nonce and then
 * powers off. The last three only ever run inside the test VM.
 *
 *   tools/vmtest/run_in_vm.sh x86_64 bazel-bin/tools/vmtest/exit_with 3   # -> 3
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

/* Only the vmtest guest's initramfs has this file; never stop a host. */
static int in_vmtest_guest(void) {
  if (access("/etc/vmtest/info", F_OK) == 0) return 1;
  fprintf(stderr, "exit_with: refusing to stop a kernel outside the vmtest VM\n");
  return 0;
}

/* Powers the machine off at once, as a crash of the test's whole VM would
 * end it: /init never gets to print the marker. */
static int power_off_now(void) {
  fflush(stdout);
  sync();
  reboot(RB_POWER_OFF);
  perror("exit_with: reboot(RB_POWER_OFF)");
  return 2;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: exit_with N [ARGS] | hang | panic | poweroff | forge\n");
    return 2;
  }
  for (int i = 1; i < argc; ++i) printf("exit_with: argv[%d]=%s\n", i, argv[i]);
  if (strcmp(argv[1], "hang") == 0) {
    printf("exit_with: hanging on purpose\n");
    fflush(stdout);
    for (;;) pause();
  }
  if (strcmp(argv[1], "poweroff") == 0) {
    if (!in_vmtest_guest()) return 2;
    printf("exit_with: powering off before the result marker\n");
    return power_off_now();
  }
  if (strcmp(argv[1], "forge") == 0) {
    if (!in_vmtest_guest()) return 2;
    /* Markers without the run's nonce (or with a wrong one) must not count. */
    printf("@@TEST_EXIT_CODE=0@@\n@@TEST_EXIT_CODE=0@@ run=0123456789abcdef\n");
    return power_off_now();
  }
  if (strcmp(argv[1], "panic") == 0) {
    if (!in_vmtest_guest()) return 2;
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
