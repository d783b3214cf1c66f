#!/usr/bin/env bash
# tools/examples_check.sh: every header whose file comment has an
# "// Example" block is compiled by its package's examples_test.cc, which
# marks each pasted example with a line "// <header path>" (the header's path
# from the workspace root; a note may follow after a space) above it. Prints each header that lacks one and
# exits 1; exits 0 when none does.
#
#   tools/examples_check.sh [workspace root]
#
# As the test //tools:examples_check_test it finds the workspace through its
# runfiles: the runfile README.md is a link to the source tree's own.
set -euo pipefail

root=${1:-}
if [[ -z "$root" ]]; then
  readme=${RUNFILES_DIR:-$0.runfiles}/hv/README.md
  [[ -e "$readme" ]] || { echo "examples_check: no workspace root given" >&2; exit 2; }
  root=$(dirname "$(readlink -f "$readme")")
fi
cd "$root"

missing=0
checked=0
while IFS= read -r header; do
  # The package: the nearest folder up from the header with a BUILD file.
  package=$(dirname "$header")
  while [[ "$package" != . && ! -f "$package/BUILD.bazel" ]]; do
    package=$(dirname "$package")
  done
  examples=$package/examples_test.cc
  [[ "$package" == . ]] && examples=examples_test.cc
  checked=$((checked + 1))
  # "// <header>" alone, or followed by a space and a note.
  if ! awk -v want="// $header" '$0 == want || index($0, want " ") == 1 {found = 1}
                                  END {exit !found}' "$examples" 2>/dev/null; then
    echo "examples_check: $header has an Example block, but $examples has no line \"// $header\" above a copy of it"
    missing=$((missing + 1))
  fi
done < <(find . \( -name third_party -o -name 'bazel-*' -o -name '.?*' \) -prune \
           -o -name '*.h' -type f -print0 |
         xargs -0 grep -lE '^// Example\b' | sed 's|^\./||' | LC_ALL=C sort)

if ((checked == 0)); then
  echo "examples_check: found no header with an Example block under $root" >&2
  exit 2
fi
if ((missing)); then
  echo "examples_check: $missing of $checked headers' examples are compiled nowhere"
  exit 1
fi
echo "examples_check: all $checked headers' examples are in their packages' examples_test.cc"
