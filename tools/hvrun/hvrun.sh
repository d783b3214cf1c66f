#!/usr/bin/env bash
# tools/hvrun/hvrun.sh: what `tools/bazel run //tools/hvrun` runs.
#
# Runs the hvrun binary (//tools/hvrun:hvrun_bin) with the given flags. On a
# host without a usable /dev/kvm the built-in demo (no --payload) runs on
# the standard KVM of a throwaway QEMU VM instead (tools/vmtest), so the
# demo still shows a real guest on a real KVM; this is said on stderr.
#
#   tools/bazel run //tools/hvrun
#   tools/bazel run //tools/hvrun -- --stats
set -euo pipefail
runfiles=${RUNFILES_DIR:-$0.runfiles}
hvrun="$runfiles/hv/tools/hvrun/hvrun_bin"

if [[ -c /dev/kvm && -r /dev/kvm && -w /dev/kvm ]]; then
  exec "$hvrun" "$@"
fi
for arg in "$@"; do
  case "$arg" in
    --payload=* | --payload | --help* | --hypervisor=* | --hypervisor) exec "$hvrun" "$@" ;;
  esac
done
echo "hvrun: this host has no usable /dev/kvm; running the demo on the standard" \
     "KVM of a QEMU VM (tools/vmtest/README.md), which takes a few seconds" >&2
# The runner streams the VM's whole console; keep the demo's own lines.
set +e
"$runfiles/hv/tools/vmtest/run_in_vm.sh" x86_64 "$hvrun" "$@" 2>/dev/null |
  grep -vE '^(SeaBIOS |Booting from |vmtest-init: |@@TEST_EXIT_CODE=|\[ *[0-9.]+\] )'
exit "${PIPESTATUS[0]}"
