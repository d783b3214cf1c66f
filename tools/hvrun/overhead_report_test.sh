#!/usr/bin/env bash
# tools/hvrun/overhead_report_test.sh: //tools/hvrun:overhead_report_test.
# Runs overhead_report.py briefly (3 runs) on hvrun_bin and checks its
# report: the two tables with a row each for 1 and 8 vCPUs, hvrun_bin's
# debug exits as expected (no "hvrun exited" row), no shared library loaded
# by a static build; or, on a host without a usable /dev/kvm, the note that
# says so. A measurement, so nothing here checks a number against a goal.
set -euo pipefail
hvrun=$1 spawner=$2
report=$(python3 tools/hvrun/overhead_report.py --runs=3 "$hvrun" "$spawner")
echo "$report"
fail() { echo "overhead_report_test: $*" >&2; exit 1; }
grep -q '^# hvrun memory overhead and start-up' <<<"$report" || fail "no title"
if grep -q '^No usable /dev/kvm' <<<"$report"; then exit 0; fi
grep -q '^| vCPUs | peak RSS |' <<<"$report" || fail "no overhead table"
grep -q '^| vCPUs | total | guest RAM |' <<<"$report" || fail "no breakdown table"
for vcpus in 1 8; do
  rows=$(grep -c "^| $vcpus | [0-9]" <<<"$report" || true)
  ((rows == 2)) || fail "expected 2 rows for $vcpus vCPUs, got $rows"
done
! grep -q 'hvrun exited' <<<"$report" || fail "hvrun_bin did not end with the guest's debug exit"
! grep -q 'did not come up' <<<"$report" || fail "the spin guest did not come up"
if grep -q 'hvrun_bin: .*, static,' <<<"$report"; then
  grep -qE '^\| 1 \| [^|]+\| [^|]+\| [^|]+\| [^|]+\| 0 \|' <<<"$report" ||
    fail "a static hvrun_bin loaded shared libraries"
fi
