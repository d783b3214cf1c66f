#!/usr/bin/env bash
# tools/bench_report/bench_report.sh: the //tools/bench_report entry point.
# Runs bench_report.py on the benchmark binaries Bazel passes as arguments
# (see BUILD.bazel), with the VM runner for machines without /dev/kvm.
#
#   tools/bazel run --config=opt //tools/bench_report
#   tools/bazel run --config=opt //tools/bench_report -- --min_time=0.5
set -euo pipefail

# `bazel run` starts us in the runfiles tree, where the data paths resolve.
script=tools/bench_report/bench_report.py
runner=tools/vmtest/run_in_vm
[[ -f "$script" ]] || { echo "bench_report: run me with 'tools/bazel run'" >&2; exit 2; }
exec python3 "$script" --vm_runner="$PWD/$runner" "$@"
