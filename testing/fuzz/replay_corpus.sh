#!/usr/bin/env bash
# Runs a fuzz target (built with the standalone main) over corpus files.
#   replay_corpus.sh FUZZER FILE...
set -euo pipefail
fuzzer=$1; shift
(($#)) || { echo "no corpus files given"; exit 1; }
# HV_TARGET_EMULATOR: how to run a target binary this machine cannot run by
# itself (qemu-user, set by the --run_under of --config=aarch64).
exec ${HV_TARGET_EMULATOR:+"$HV_TARGET_EMULATOR"} "$fuzzer" "$@"
