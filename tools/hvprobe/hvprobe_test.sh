#!/usr/bin/env bash
# Runs hvprobe as a user would: text and --json output, and a bad flag.
set -euo pipefail
probe="$1"

text=$("$probe")
grep -q '^kvm \[options: device\]' <<<"$text" || { echo "no kvm line in: $text"; exit 1; }

json=$("$probe" --json)
/usr/bin/python3 - "$json" <<'PY'
import json, sys
report = json.loads(sys.argv[1])
kvm = [b for b in report["backends"] if b["kind"] == "kvm"]
assert len(kvm) == 1, report
kvm = kvm[0]
assert kvm["usable"] is True, kvm
assert kvm["memory_slots"] > 0, kvm
assert kvm["max_vcpus"] > 0, kvm
assert kvm["hypervisor_caps"]["immediate_exit"] is True, kvm
assert "mem_noncoherent_dma" in kvm["vm_caps"], kvm
print("kvm memory slots:", kvm["memory_slots"])
PY

if "$probe" --no_such_flag >"$TEST_TMPDIR/out.txt" 2>&1; then
  echo "a bad flag exited 0"; exit 1
fi
grep -q no_such_flag "$TEST_TMPDIR/out.txt" || { cat "$TEST_TMPDIR/out.txt"; exit 1; }
echo PASS
