#!/usr/bin/env bash
# tools/vmtest/run_in_svm_vm.sh: Bazel --run_under wrapper that runs a test
# inside a VM with a standard AMD SVM + NPT KVM (run_in_vm.sh x86_64).
#
#   tools/bazel test --config=x86-svm-kvm //hypervisor/kvm:all
#   tools/vmtest/run_in_svm_vm.sh bazel-bin/tools/vmtest/kvm_smoke_test
#
# --run_under runs this file from the test's runfiles tree; run_in_vm.sh and
# init.sh are its data, so they sit beside it (symlinks to the sources).
set -euo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# An hv_kvm_test's driver script (hypervisor/kvm/run_with_kvm.sh) is not an
# ELF file: it sends its test binary to the VM by itself
# (HV_KVM_TEST_IN_VM=1), so it runs here, on the host.
if ! LC_ALL=C grep -qa $'^\x7fELF' <(head -c 4 "$1"); then
  exec "$@"
fi
exec "$here/run_in_vm.sh" x86_64 "$@"
