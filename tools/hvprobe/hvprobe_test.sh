#!/usr/bin/env bash
# Runs hvprobe as a user would, on this host: text and --json output, and a
# bad flag. Where the host has a usable /dev/kvm, kvm must be usable with
# memory slots; where it has none, kvm must be listed as not usable with a
# reason naming /dev/kvm. (probe_test checks a real KVM, on a VM where the
# host has none.)
set -euo pipefail
probe="$1"
if [[ -c /dev/kvm && -r /dev/kvm && -w /dev/kvm ]]; then have_kvm=1; else have_kvm=0; fi

text=$("$probe")
grep -q '^kvm \[options: device\]' <<<"$text" || { echo "no kvm line in: $text"; exit 1; }

json=$("$probe" --json)
/usr/bin/python3 - "$json" "$have_kvm" <<'PY'
import json, sys
report = json.loads(sys.argv[1])
have_kvm = sys.argv[2] == "1"
kvm = [b for b in report["backends"] if b["kind"] == "kvm"]
assert len(kvm) == 1, report
kvm = kvm[0]
assert kvm["options"] == ["device"], kvm
if have_kvm:
  assert kvm["usable"] is True and kvm["error"] is None, kvm
  assert kvm["memory_slots"] > 0 and kvm["max_vcpus"] > 0, kvm
  assert kvm["hypervisor_caps"]["immediate_exit"] is True, kvm
  assert "mem_noncoherent_dma" in kvm["vm_caps"], kvm
  print("kvm usable, memory slots:", kvm["memory_slots"])
else:
  assert kvm["usable"] is False, kvm
  assert "/dev/kvm" in kvm["error"], kvm
  print("kvm not usable here, as expected:", kvm["error"])
PY

if "$probe" --no_such_flag >"$TEST_TMPDIR/out.txt" 2>&1; then
  echo "a bad flag exited 0"; exit 1
fi
grep -q no_such_flag "$TEST_TMPDIR/out.txt" || { cat "$TEST_TMPDIR/out.txt"; exit 1; }
echo PASS
