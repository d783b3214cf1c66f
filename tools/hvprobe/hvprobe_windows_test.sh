#!/usr/bin/env bash
# Runs hvprobe.exe as a Windows user would (under wine in
# `tools/bazel test --config=windows`, which names the program that runs .exe
# files in HV_TARGET_EMULATOR): text and --json output, and a bad flag. The
# whpx backend must be listed; where the Windows Hypervisor Platform is not
# there (wine has no winhvplatform.dll) it must say so with the reason, and
# the exit status must agree with the report (1 when no backend is usable).
set -euo pipefail
probe="$1"
run=()
[[ -n "${HV_TARGET_EMULATOR:-}" ]] && run=("$HV_TARGET_EMULATOR")

set +e
"${run[@]}" "$probe" >"$TEST_TMPDIR/text.txt"; text_status=$?
text=$(tr -d '\r' <"$TEST_TMPDIR/text.txt")
set -e
grep -q '^whpx \[options: max_vcpus\]' <<<"$text" || { echo "no whpx line in: $text"; exit 1; }
if grep -q 'not usable here' <<<"$text"; then
  grep -q 'not usable here: WHPX: .*winhvplatform.dll' <<<"$text" ||
    { echo "unusable whpx without the reason: $text"; exit 1; }
fi

set +e
json=$("${run[@]}" "$probe" --json | tr -d '\r')
set -e
/usr/bin/python3 - "$json" "$text_status" <<'PY'
import json, sys
report = json.loads(sys.argv[1])
usable = [b for b in report["backends"] if b["usable"]]
assert int(sys.argv[2]) == (0 if usable else 1), (sys.argv[2], report)
whpx = [b for b in report["backends"] if b["kind"] == "whpx"]
assert len(whpx) == 1, report
whpx = whpx[0]
if not whpx["usable"]:
    assert whpx["error"].startswith("UNAVAILABLE: WHPX:"), whpx
    assert "winhvplatform.dll" in whpx["error"], whpx
else:
    assert whpx["hypervisor"]["max_vcpus"] > 0, whpx
PY

if "${run[@]}" "$probe" --bogus >/dev/null 2>&1; then
  echo "hvprobe --bogus exited 0"; exit 1
fi
echo "hvprobe.exe: $(head -2 <<<"$text" | tail -1 | sed 's/^ *//')"
