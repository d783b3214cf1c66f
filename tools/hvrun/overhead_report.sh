#!/usr/bin/env bash
# tools/hvrun/overhead_report.sh: the //tools/hvrun:overhead_report entry
# point. Runs overhead_report.py on the hvrun_bin and rusage_spawn Bazel
# passes as arguments (BUILD.bazel), printing the Markdown report on stdout.
#
#   tools/bazel run --config=opt //tools/hvrun:overhead_report
#   tools/bazel run --config=opt //tools/hvrun:overhead_report -- --runs=101
set -euo pipefail

# `bazel run` starts us in the runfiles tree, where the data paths resolve.
script=tools/hvrun/overhead_report.py
[[ -f "$script" ]] || { echo "overhead_report: run me with 'tools/bazel run'" >&2; exit 2; }
exec python3 "$script" "$@"
