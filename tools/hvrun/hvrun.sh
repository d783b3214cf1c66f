#!/usr/bin/env bash
# tools/hvrun/hvrun.sh: what `tools/bazel run //tools/hvrun` runs.
#
# Runs the hvrun binary (//tools/hvrun:hvrun_bin) with the given flags. When
# this host cannot run it on a /dev/kvm of its own -- it has no usable
# /dev/kvm, or hvrun_bin is built for another architecture
# (`tools/bazel run --config=aarch64 //tools/hvrun` on an x86_64 host) --
# the built-in demo (no --payload) runs on the standard KVM of a throwaway
# QEMU VM of hvrun_bin's architecture instead (tools/vmtest), so the demo
# still shows a real guest on a real KVM; this is said on stderr.
#
#   tools/bazel run //tools/hvrun
#   tools/bazel run //tools/hvrun -- --stats
#   tools/bazel run --config=aarch64 //tools/hvrun     # the aarch64 demo
set -euo pipefail
runfiles=${RUNFILES_DIR:-$0.runfiles}
hvrun="$runfiles/hv/tools/hvrun/hvrun_bin"

# hvrun_bin's architecture from its ELF header (e_machine at byte 18:
# 62 x86_64, 183 aarch64).
machine=$(od -An -tu2 -j18 -N2 "$hvrun" | tr -d ' ')
case "$machine" in
  62) arch=x86_64 ;;
  183) arch=aarch64 ;;
  # 6, hvrun's "cannot run a guest here" (README: exit statuses); 1 is a guest's.
  *) echo "hvrun: $hvrun is not an x86_64 or aarch64 ELF file (e_machine $machine)" >&2; exit 6 ;;
esac

if [[ "$arch" == "$(uname -m)" && -c /dev/kvm && -r /dev/kvm && -w /dev/kvm ]]; then
  exec "$hvrun" "$@"
fi
for arg in "$@"; do
  case "$arg" in
    --payload=* | --payload | --help* | --hypervisor=* | --hypervisor)
      if [[ "$arch" == "$(uname -m)" ]]; then exec "$hvrun" "$@"; fi
      echo "hvrun: $hvrun is an $arch binary; on this $(uname -m) host only the demo runs" \
           "(in an $arch VM); run $arg where it runs natively" >&2
      exit 2 ;;
  esac
done
if [[ "$arch" == "$(uname -m)" ]]; then
  why="this host has no usable /dev/kvm"
else
  why="hvrun_bin is built for $arch"
fi
echo "hvrun: $why; running the demo on the standard KVM of a QEMU $arch VM" \
     "(tools/vmtest/README.md), which takes a few seconds" >&2
# The runner streams the VM's whole console; keep the demo's own lines.
set +e
"$runfiles/hv/tools/vmtest/run_in_vm.sh" "$arch" "$hvrun" "$@" 2>/dev/null |
  grep -vE '^(SeaBIOS |Booting from |vmtest-init: |@@TEST_EXIT_CODE=|\[ *[0-9.]+\] )'
exit "${PIPESTATUS[0]}"
