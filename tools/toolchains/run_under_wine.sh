#!/usr/bin/env bash
# The --run_under of `tools/bazel test --config=windows` (.bazelrc).
#
# Runs a Windows test program (a PE .exe from the mingw-w64 toolchain)
# headless under wine64 (Debian's wine64 package: /usr/lib/wine/wine64; there
# is no /usr/bin/wine64). Bazel hands gtest a Unix path in XML_OUTPUT_FILE,
# which a Windows program reads as relative to its drive, so it is rewritten
# to wine's Z: drive (Z: is /). Creating a wine prefix takes ~5 s, so all
# tests share one (HV_WINEPREFIX, which tools/bazel sets under ~/.cache/hv;
# a per-test prefix in TEST_TMPDIR otherwise). A script (sh_test) runs as it
# is, with HV_TARGET_EMULATOR naming the command that runs the .exe files it
# starts.
#
#   run_under_wine.sh TEST [ARGS...]
set -euo pipefail
(($#)) || { echo "usage: run_under_wine.sh TEST [ARGS...]" >&2; exit 2; }
wine=/usr/lib/wine/wine64
[[ -x "$wine" ]] || { echo "run_under_wine: no $wine (tools/bazel installs wine64)" >&2; exit 1; }

if [[ "${XML_OUTPUT_FILE:-}" == /* ]]; then
  export XML_OUTPUT_FILE="Z:${XML_OUTPUT_FILE}"
fi
export WINEPREFIX="${HV_WINEPREFIX:-${TEST_TMPDIR:-${TMPDIR:-/tmp}}/wineprefix}"
export WINEDEBUG="${WINEDEBUG:--all}"
# No display: wine must not try to open one (or offer to install Mono/Gecko).
unset DISPLAY WAYLAND_DISPLAY
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=}"

# A program must show that it ran. Once in a CI run, wine exited 0 having
# printed nothing and written no XML, and the test counted as passed; so a
# run that leaves neither output nor test XML is run once more (saying so),
# and fails if the second leaves nothing either.
xml=${XML_OUTPUT_FILE#Z:}
ran_silently() {  # OUTPUT_FILE
  [[ ! -s "$1" ]] && { [[ -z "$xml" ]] || [[ ! -s "$xml" ]]; }
}
if [[ "$(head -c 2 "$1" 2>/dev/null)" == "MZ" ]]; then
  out=$(mktemp)
  trap 'rm -f "$out"' EXIT
  for attempt in 1 2; do
    status=0
    "$wine" "$@" > >(tee "$out") 2>&1 || status=$?
    wait  # for tee
    if ((status != 0)) || ! ran_silently "$out"; then exit "$status"; fi
    echo "run_under_wine: wine exited 0 but $1 printed nothing and wrote no" \
         "test XML (attempt $attempt): it did not run" >&2
  done
  exit 1
fi
export HV_TARGET_EMULATOR="$wine"
exec "$@"
