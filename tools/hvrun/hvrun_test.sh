#!/usr/bin/env bash
# Runs hvrun as a user would: the demo, flat payloads in real and long mode,
# several vCPUs, --stats, and bad flags.
#   hvrun_test.sh HVRUN HELLO_REAL_BIN HELLO_LONG_BIN SPIN_REAL_BIN
set -uo pipefail
hvrun=$1 real_bin=$2 long_bin=$3 spin_bin=$4
out=$TEST_TMPDIR/out.txt err=$TEST_TMPDIR/err.txt
failures=0

fail() { echo "FAIL: $*"; echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"; failures=$((failures + 1)); }
expect_line() { grep -qF -- "$1" "$2" || fail "missing \"$1\""; }

# The demo: no arguments, exit 0, the guest's serial lines and the blob.
"$hvrun" >"$out" 2>"$err"; rc=$?
((rc == 0)) || fail "demo exited $rc"
expect_line "hv demo: guest running in 32-bit protected mode" "$out"
expect_line "hv demo: found virtio PCI device 0x1050 in slot 0x0003" "$out"
expect_line "hv demo: shared memory at 0x" "$out"
expect_line "hv demo: the host's blob says: greetings from the host, read through the virtio shared-memory BAR" "$out"

# A real-mode payload that prints a line and exits 7 through port 0xf4.
"$hvrun" --payload="$real_bin" --mode=real --stats >"$out" 2>"$err"; rc=$?
((rc == 7)) || fail "real-mode payload exited $rc, expected 7"
expect_line "hello from a real-mode payload" "$out"
expect_line "io" "$err"        # the --stats table names the exit kinds
expect_line "total" "$err"

# A long-mode payload on three vCPUs: each prints its index and halts.
"$hvrun" --payload="$long_bin" --mode=long --vcpus=3 --mem=32M >"$out" 2>"$err"; rc=$?
((rc == 0)) || fail "long-mode payload exited $rc"
for i in 0 1 2; do expect_line "vcpu $i" "$out"; done

# A guest that never finishes hits the timeout: a clear message, non-zero.
"$hvrun" --payload="$spin_bin" --timeout=1s >"$out" 2>"$err"; rc=$?
((rc == 1)) || fail "a spinning guest exited $rc, expected 1"
expect_line "the guest did not finish within 1s" "$err"

# Bad flags: one clear line on stderr and a non-zero exit, never a crash.
check_bad() {
  local expect=$1; shift
  "$hvrun" "$@" >"$out" 2>"$err"; rc=$?
  ((rc != 0 && rc < 128)) || fail "$* exited $rc"
  expect_line "$expect" "$err"
}
check_bad 'x86 mode "virtual8086": expected real, protected or long' --payload="$real_bin" --mode=virtual8086
check_bad 'memory size "lots"' --payload="$real_bin" --mem=lots
check_bad '--load_addr=zero: expected a number' --payload="$real_bin" --load_addr=zero
check_bad 'hypervisor "nosuch" is not linked into this build; linked: kvm' --hypervisor=nosuch
check_bad 'hypervisor "kvm" has no option "speed"; it accepts: device' --hypervisor='kvm[speed=9]'
check_bad 'open /nonexistent/kvm' --hypervisor='kvm[device=/nonexistent/kvm]'
check_bad '--payload=/nonexistent.bin: cannot open it' --payload=/nonexistent.bin
check_bad 'does not fit' --payload="$real_bin" --mem=64K --load_addr=0x10000
check_bad 'unexpected argument "extra"' extra
check_bad 'Unknown command line flag' --no_such_flag

if ((failures)); then echo "$failures failure(s)"; exit 1; fi
echo PASS
