#!/usr/bin/env bash
# tools/vmtest/runner_selftest.sh: checks that the vmtest runner returns the
# test's exit status and never 0 for a failure: a passing binary gives 0, a
# failing one its own status (also when dynamically linked), a hang the
# timeout status, a guest kernel panic non-zero, and a VM that ends without
# the run's result marker (powered off early, or after printing markers that
# lack the run's nonce) non-zero. Arguments are forwarded intact.
#
#   runner_selftest.sh RUNNER EXIT_WITH [DYNAMIC_BINARY|-]
#
# RUNNER is the --run_under wrapper of one architecture and EXIT_WITH a
# static build of exit_with.c for it; DYNAMIC_BINARY (default /bin/false, "-"
# to skip) is a dynamically linked program of that architecture that exits 1.
#
#   tools/bazel test --config=x86-svm-kvm-static //tools/vmtest:runner_selftest
#   tools/bazel test --config=aarch64-kvm //tools/vmtest:runner_selftest_aarch64
#   tools/vmtest/runner_selftest.sh tools/vmtest/run_in_svm_vm.sh bazel-bin/tools/vmtest/exit_with
set -euo pipefail

runner=$1
exit_with=$2
dynamic=${3:-/bin/false}
out=$(mktemp -d "${TEST_TMPDIR:-/tmp}/selftest.XXXXXX")
failures=0

# expect NAME WANT_STATUS COMMAND...: runs COMMAND, compares its exit status
# (WANT_STATUS "nonzero" accepts any non-zero status). Output in $out/NAME.
expect() {
  local name=$1 want=$2; shift 2
  local rc=0 started=$SECONDS
  "$@" >"$out/$name" 2>&1 || rc=$?
  if [[ "$want" == nonzero && $rc -ne 0 ]] || [[ "$rc" == "$want" ]]; then
    echo "ok   $name: status $rc ($((SECONDS - started)) s)"
  else
    echo "FAIL $name: status $rc, want $want; its output:"
    sed 's/^/     | /' "$out/$name"
    failures=$((failures + 1))
  fi
}

# expect_output NAME PATTERN: the output of case NAME has a line matching PATTERN.
expect_output() {
  if grep -qE -- "$2" "$out/$1"; then
    echo "ok   $1 output has /$2/"
  else
    echo "FAIL $1 output lacks /$2/"
    failures=$((failures + 1))
  fi
}

expect pass 0 "$runner" "$exit_with" 0 "it's" 'two  words' '$HOME' '*'
expect_output pass "^exit_with: argv\[2\]=it's\$"
expect_output pass '^exit_with: argv\[3\]=two  words$'
expect_output pass '^exit_with: argv\[4\]=\$HOME$'
expect_output pass '^exit_with: argv\[5\]=\*$'
expect_output pass '^@@TEST_EXIT_CODE=0@@'

expect fail 3 "$runner" "$exit_with" 3
expect_output fail '^@@TEST_EXIT_CODE=3@@'

expect hang 124 env HV_VMTEST_TIMEOUT=15 "$runner" "$exit_with" hang
expect_output hang 'did not finish within 15 s'

expect panic nonzero "$runner" "$exit_with" panic
expect_output panic 'Kernel panic'

# No marker of this run: the VM powers off before /init prints it, or the
# test prints markers without the run's nonce first.
expect poweroff 125 "$runner" "$exit_with" poweroff
expect_output poweroff 'without reporting the test.s exit code'
expect forge 125 "$runner" "$exit_with" forge
expect_output forge 'without reporting the test.s exit code'

# A dynamically linked binary brings its shared libraries along (ldd closure).
if [[ "$dynamic" != - ]]; then
  expect dynamic 1 "$runner" "$dynamic"
  expect_output dynamic '^@@TEST_EXIT_CODE=1@@'
fi

((failures == 0)) || { echo "$failures check(s) failed"; exit 1; }
echo "all runner checks passed"
