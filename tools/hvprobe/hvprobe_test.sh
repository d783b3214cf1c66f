#!/usr/bin/env bash
# Runs hvprobe as a user would, on this host: text and --json output, the
# exit status, --help and a bad flag. Where the host has a usable /dev/kvm,
# kvm must be usable with memory slots and hvprobe must exit 0; where it has
# none, kvm must be listed as not usable with a reason naming /dev/kvm, and
# the exit status must agree with the report (1 when no backend is usable).
# (probe_test checks a real KVM, on a VM where the host has none.)
set -euo pipefail
probe="$1"
if [[ -c /dev/kvm && -r /dev/kvm && -w /dev/kvm ]]; then have_kvm=1; else have_kvm=0; fi

set +e
text=$("$probe"); text_status=$?
json=$("$probe" --json); json_status=$?
set -e
grep -q '^kvm \[options: device\]' <<<"$text" || { echo "no kvm line in: $text"; exit 1; }
[[ "$text_status" == "$json_status" ]] ||
  { echo "text exit $text_status, --json exit $json_status"; exit 1; }

/usr/bin/python3 - "$json" "$have_kvm" "$json_status" <<'PY'
import json, sys
report = json.loads(sys.argv[1])
have_kvm = sys.argv[2] == "1"
status = int(sys.argv[3])
usable = [b for b in report["backends"] if b["usable"]]
assert report["any_usable"] is bool(usable), report
assert status == (0 if usable else 1), (status, report)
kvm = [b for b in report["backends"] if b["kind"] == "kvm"]
assert len(kvm) == 1, report
kvm = kvm[0]
assert kvm["options"] == ["device"], kvm
if have_kvm:
  assert kvm["usable"] is True and kvm["error"] is None, kvm
  assert kvm["vm"]["memory_slots"] > 0 and kvm["hypervisor"]["max_vcpus"] > 0, kvm
  assert kvm["hypervisor"]["caps"]["immediate_exit"] is True, kvm
  assert "mem_noncoherent_dma" in kvm["vm"]["caps"], kvm
  assert "immediate_exit" not in kvm["vm"]["caps"], kvm
  print("kvm usable, memory slots:", kvm["vm"]["memory_slots"])
else:
  assert kvm["usable"] is False and kvm["vm"] is None, kvm
  assert "/dev/kvm" in kvm["error"], kvm
  print("kvm not usable here, as expected:", kvm["error"])
PY

"$probe" --help >"$TEST_TMPDIR/help.txt" || { echo "--help did not exit 0"; exit 1; }
grep -q -- '--json' "$TEST_TMPDIR/help.txt" || { cat "$TEST_TMPDIR/help.txt"; exit 1; }

set +e
"$probe" --no_such_flag >"$TEST_TMPDIR/out.txt" 2>"$TEST_TMPDIR/err.txt"; status=$?
set -e
[[ "$status" == 2 ]] || { echo "a bad flag exited $status, not 2"; exit 1; }
[[ "$(wc -l <"$TEST_TMPDIR/err.txt")" == 1 ]] || { cat "$TEST_TMPDIR/err.txt"; exit 1; }
grep -q '^hvprobe: unknown flag "--no_such_flag"' "$TEST_TMPDIR/err.txt" ||
  { cat "$TEST_TMPDIR/err.txt"; exit 1; }
echo PASS
