#!/usr/bin/env bash
# Runs a fuzz target (built with the standalone main) over corpus files.
#   replay_corpus.sh FUZZER FILE...
set -euo pipefail
fuzzer=$1; shift
(($#)) || { echo "no corpus files given"; exit 1; }
exec "$fuzzer" "$@"
