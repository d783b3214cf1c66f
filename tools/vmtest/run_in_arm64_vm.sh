#!/usr/bin/env bash
# tools/vmtest/run_in_arm64_vm.sh: Bazel --run_under wrapper that runs an
# aarch64 test inside an arm64 Linux VM whose KVM is real (qemu-system-aarch64
# with emulated EL2; run_in_vm.sh aarch64).
#
#   tools/bazel test --config=aarch64-kvm //hypervisor/kvm/...
#   tools/vmtest/run_in_arm64_vm.sh bazel-bin/tools/vmtest/kvm_smoke_test_aarch64
#
# --run_under runs this file from the test's runfiles tree; run_in_vm.sh and
# init.sh are its data, so they sit beside it (symlinks to the sources).
set -euo pipefail
(($#)) || { echo "usage: run_in_arm64_vm.sh TEST [ARGS...]" >&2; exit 2; }
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# A test that is a script (an hv_kvm_test's driver
# hypervisor/kvm/run_with_kvm.sh, the runner's self-test) runs here, on the
# host: the driver sends its test binary to the VM by itself, and the guest
# has no bash.
if ! LC_ALL=C grep -qa $'^\x7fELF' <(head -c 4 "$1"); then
  exec "$@"
fi
exec "$here/run_in_vm.sh" aarch64 "$@"
