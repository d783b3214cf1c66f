#!/usr/bin/env bash
# The --run_under of `tools/bazel test --config=aarch64` (.bazelrc).
#
# This machine cannot run aarch64 programs by itself (no binfmt_misc
# handler), so an ELF test binary runs under qemu-aarch64-static; Debian's
# libc6:arm64 provides the dynamic loader and libraries it needs, in the
# multiarch paths qemu finds with no QEMU_LD_PREFIX. A test that is a script
# (sh_test) runs as it is, with HV_TARGET_EMULATOR naming the emulator for
# the target binaries it starts (testing/fuzz/replay_corpus.sh uses it).
#
#   run_under_qemu_aarch64.sh TEST [ARGS...]
set -euo pipefail
(($#)) || { echo "usage: run_under_qemu_aarch64.sh TEST [ARGS...]" >&2; exit 2; }
qemu=/usr/bin/qemu-aarch64-static
[[ -x "$qemu" ]] || { echo "run_under_qemu_aarch64: no $qemu (tools/bazel installs qemu-user-static)" >&2; exit 1; }

if [[ "$(head -c 4 "$1" 2>/dev/null)" == $'\x7fELF' ]]; then
  exec "$qemu" "$@"
fi
export HV_TARGET_EMULATOR="$qemu"
exec "$@"
