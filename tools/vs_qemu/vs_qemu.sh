#!/usr/bin/env bash
# tools/vs_qemu/vs_qemu.sh: the //tools/vs_qemu entry point. Runs vs_qemu.py
# with the hvrun and raw_kvm_loop binaries Bazel passes (see BUILD.bazel).
#
#   tools/bazel run --config=opt //tools/vs_qemu
#   tools/bazel run --config=opt //tools/vs_qemu -- --quick
#   tools/bazel run --config=opt //tools/vs_qemu -- --out=/tmp/vs_qemu.md
set -euo pipefail

# `bazel run` starts us in the runfiles tree, where the data paths resolve.
script=tools/vs_qemu/vs_qemu.py
[[ -f "$script" ]] || { echo "vs_qemu: run me with 'tools/bazel run'" >&2; exit 2; }
exec python3 "$script" "$@"
