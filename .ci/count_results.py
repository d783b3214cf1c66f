"""Counts test results of one `bazel test --test_summary=short` run.

Usage: count_results.py BAZEL_LOG TESTLOGS_DIR
Prints "PASSED FAILED". Each test case in a target's test.xml counts once;
a target that failed without a readable XML (crash, timeout, build failure)
counts as one failure. Skipped test cases are not counted.
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

STATUS = re.compile(
    r"^(//\S+)\s+(?:\(cached\)\s+)?"
    r"(PASSED|FAILED TO BUILD|FAILED|TIMEOUT|NO STATUS|FLAKY|INCOMPLETE|SKIPPED)")


def xml_counts(path):
  try:
    root = ET.parse(path).getroot()
  except (OSError, ET.ParseError):
    return None
  passed = failed = 0
  for case in root.iter("testcase"):
    if case.get("result") == "skipped" or case.find("skipped") is not None:
      continue
    if case.find("failure") is not None or case.find("error") is not None:
      failed += 1
    else:
      passed += 1
  return passed, failed


def main():
  log, testlogs = sys.argv[1], sys.argv[2]
  passed = failed = 0
  saw_target = False
  with open(log, errors="replace") as f:
    lines = f.read().splitlines()
  for line in lines:
    m = STATUS.match(line)
    if not m:
      continue
    saw_target = True
    label, status = m.groups()
    if status == "SKIPPED":
      continue
    package, _, name = label[2:].partition(":")
    counts = xml_counts(os.path.join(testlogs, package, name, "test.xml"))
    if status in ("PASSED", "FLAKY") and counts:
      passed += counts[0]
      failed += counts[1]
    elif status in ("PASSED", "FLAKY"):
      passed += 1
    elif counts and counts[1] > 0:
      passed += counts[0]
      failed += counts[1]
    else:
      failed += 1
  if not saw_target and any(l.startswith("ERROR") for l in lines):
    failed += 1  # the build failed before any test ran
  print(passed, failed)


if __name__ == "__main__":
  main()
