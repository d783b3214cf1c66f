#!/usr/bin/env bash
# hypervisor/kvm/run_with_kvm.sh: the test driver of every hv_kvm_test
# (hypervisor/kvm/kvm_test.bzl). Runs TEST_BINARY directly when this host
# can run it natively and has a usable /dev/kvm; otherwise runs it on the
# standard KVM of a throwaway QEMU VM of the binary's own architecture
# (tools/vmtest/run_in_vm.sh), saying so on stderr. HV_KVM_TEST_IN_VM=1 (set
# by --config=x86-svm-kvm and --config=aarch64-kvm) sends it to the VM even
# where the host has a /dev/kvm of its own.
#
#   run_with_kvm.sh hypervisor/kvm/kvm_vm_test_bin --gtest_filter='*Slot*'
#
# The VM's architecture comes from the test binary's ELF header (e_machine),
# not from this host: an aarch64 test cross-built with --config=aarch64 goes
# to the aarch64 VM (a real arm64 KVM at emulated EL2), never to qemu-user,
# which has no /dev/kvm.
set -euo pipefail
(($#)) || { echo "usage: run_with_kvm.sh TEST_BINARY [ARGS...]" >&2; exit 2; }

# elf_arch FILE: x86_64 or aarch64 from the ELF header (e_machine at byte
# 18, little-endian: 62 is EM_X86_64, 183 EM_AARCH64); fails for anything
# else. od and head are in coreutils, so this needs neither `file` nor python.
elf_arch() {
  local header
  header=$(od -An -tu1 -N20 -v "$1" 2>/dev/null | tr -s ' \n' ' ')
  local -a bytes
  read -r -a bytes <<<"$header"
  ((${#bytes[@]} == 20)) || return 1
  # \x7f E L F, ELFCLASS64 (2), ELFDATA2LSB (1).
  [[ "${bytes[*]:0:6}" == "127 69 76 70 2 1" ]] || return 1
  case $((bytes[18] | bytes[19] << 8)) in
    62) echo x86_64 ;;
    183) echo aarch64 ;;
    *) return 1 ;;
  esac
}

binary=$1
if ! arch=$(elf_arch "$binary"); then
  echo "run_with_kvm: $binary is not a 64-bit little-endian x86_64 or aarch64 ELF" \
       "executable; no VM runner for it" >&2
  exit 1
fi

host_arch=$(uname -m)
if [[ "$arch" == "$host_arch" && "${HV_KVM_TEST_IN_VM:-0}" != 1 &&
      -c /dev/kvm && -r /dev/kvm && -w /dev/kvm ]]; then
  exec "$@"
fi

runner="${TEST_SRCDIR:?}/${TEST_WORKSPACE:?}/tools/vmtest/run_in_vm.sh"
if [[ "$arch" != "$host_arch" ]]; then
  why="the test is an $arch binary on this $host_arch host"
elif [[ "${HV_KVM_TEST_IN_VM:-0}" == 1 ]]; then
  why="HV_KVM_TEST_IN_VM=1 asks for the VM"
else
  why="this host has no usable /dev/kvm"
fi
echo "run_with_kvm: $why; running ${TEST_TARGET:-$1} on the standard KVM" \
     "of a QEMU $arch VM (see tools/vmtest/README.md)" >&2
exec "$runner" "$arch" "$@"
