#!/usr/bin/env bash
# tools/vs_qemu/linux_boot.sh: the //tools/vs_qemu:linux_boot entry point.
# Runs linux_boot.py with the binaries Bazel passes (see BUILD.bazel).
#
#   tools/bazel run --config=opt //tools/vs_qemu:linux_boot
#   tools/bazel run --config=opt //tools/vs_qemu:linux_boot -- --quick
set -euo pipefail

# `bazel run` starts us in the runfiles tree, where the data paths resolve.
script=tools/vs_qemu/linux_boot.py
[[ -f "$script" ]] || { echo "linux_boot: run me with 'tools/bazel run'" >&2; exit 2; }
exec python3 "$script" "$@"
