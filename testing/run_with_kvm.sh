#!/usr/bin/env bash
# testing/run_with_kvm.sh: the test driver of every hv_kvm_test
# (testing/kvm_test.bzl). Runs TEST_BINARY directly when this host has a
# usable /dev/kvm; otherwise runs it on the standard KVM of a throwaway QEMU
# VM (tools/vmtest/run_in_vm.sh), saying so on stderr. HV_KVM_TEST_IN_VM=1
# (set by --config=x86-svm-kvm) sends it to the VM even where the host has a
# /dev/kvm of its own, so the same test also runs on a standard SVM KVM.
#
#   run_with_kvm.sh hypervisor/kvm/kvm_vm_test_bin --gtest_filter='*Slot*'
set -euo pipefail
(($#)) || { echo "usage: run_with_kvm.sh TEST_BINARY [ARGS...]" >&2; exit 2; }

if [[ "${HV_KVM_TEST_IN_VM:-0}" != 1 && -c /dev/kvm && -r /dev/kvm && -w /dev/kvm ]]; then
  exec "$@"
fi

case "$(uname -m)" in
  x86_64) arch=x86_64 ;;
  aarch64) arch=aarch64 ;;
  *) echo "run_with_kvm: no /dev/kvm and no VM runner for $(uname -m)" >&2; exit 1 ;;
esac
runner="${TEST_SRCDIR:?}/${TEST_WORKSPACE:?}/tools/vmtest/run_in_vm.sh"
if [[ "${HV_KVM_TEST_IN_VM:-0}" == 1 ]]; then
  why="HV_KVM_TEST_IN_VM=1 asks for the VM"
else
  why="this host has no usable /dev/kvm"
fi
echo "run_with_kvm: $why; running ${TEST_TARGET:-$1} on the standard KVM" \
     "of a QEMU VM (see tools/vmtest/README.md)" >&2
exec "$runner" "$arch" "$@"
