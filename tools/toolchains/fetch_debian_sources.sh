#!/usr/bin/env bash
# Unpacks Debian source packages into hv's source cache, outside the tree, for
# builds that compile a library from source (--config=windows: Abseil and re2
# for mingw-w64, which Debian ships no Windows build of).
#
# Each source package is fetched at the version of the installed binary
# package named after it, so a Windows build compiles exactly the code the
# Linux build links (abseil for libabsl-dev, re2 for libre2-dev). apt
# downloads it with a private state directory (its own deb-src list derived
# from this machine's apt sources, its own package lists and archive cache),
# so the system's apt configuration is never changed; dpkg-source unpacks it
# with Debian's patches applied. The unpacked tree lands in
# $HV_SRC_CACHE/<source package>, with a .hv-source stamp naming the version
# (WORKSPACE's apt_source_repository reads it). Silent when every tree is
# there; one line on stderr when it fetches.
#
#   fetch_debian_sources.sh CACHE_DIR BINARY_PACKAGE...
#   fetch_debian_sources.sh ~/.cache/hv/src libabsl-dev libre2-dev
set -euo pipefail

(($# >= 2)) || { echo "usage: fetch_debian_sources.sh CACHE_DIR BINARY_PACKAGE..." >&2; exit 2; }
cache=$1; shift
native_arch=$(dpkg --print-architecture)

# source package and version for each binary package, fetched only when its
# stamp is missing or names another version.
wanted=()
for binary in "$@"; do
  line=$(dpkg-query -W -f='${source:Package} ${source:Version}\n' "$binary:$native_arch" 2>/dev/null || true)
  if [[ -z "$line" ]]; then
    echo "fetch_debian_sources: $binary is not installed (tools/bazel installs it)" >&2
    exit 1
  fi
  read -r source version <<<"$line"
  if [[ "$(cat "$cache/$source/.hv-source" 2>/dev/null || true)" != "$source $version" ]]; then
    wanted+=("$source=$version")
  fi
done
((${#wanted[@]})) || exit 0

echo "tools/bazel: fetching Debian sources ${wanted[*]} into $cache" >&2
apt_dir=$cache/.apt
mkdir -p "$apt_dir/parts" "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$cache/.download"

# deb-src twins of the machine's own enabled apt sources: deb822 files get
# Types: deb-src (keeping URIs, suites and Signed-By), one-line files get
# their `deb` lines as `deb-src`.
rm -f "$apt_dir"/parts/* "$apt_dir/sources.list"
touch "$apt_dir/sources.list"
for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [[ -f "$file" ]] || continue
  sed -n 's/^[[:space:]]*deb\([[:space:]]\)/deb-src\1/p' "$file" >>"$apt_dir/sources.list"
done
for file in /etc/apt/sources.list.d/*.sources; do
  [[ -f "$file" ]] || continue
  sed 's/^Types:.*/Types: deb-src/' "$file" >"$apt_dir/parts/$(basename "$file")"
done

apt_opts=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list"
  -o "Dir::Etc::SourceParts=$apt_dir/parts"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache::Archives=$apt_dir/archives"
  -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
  -o "Debug::NoLocking=1"
)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# A third-party source without a source index makes `update` fail as a whole
# while the Debian lists still arrive; `apt-get source` below is the check.
apt-get "${apt_opts[@]}" update >"$log" 2>&1 || true

for item in "${wanted[@]}"; do
  source=${item%%=*} version=${item#*=}
  download=$cache/.download/$source
  rm -rf "$download" && mkdir -p "$download"
  if ! (cd "$download" && apt-get "${apt_opts[@]}" source --download-only "$item") >>"$log" 2>&1; then
    cat "$log" >&2
    echo "fetch_debian_sources: apt-get source $item failed" >&2
    exit 1
  fi
  dsc=("$download"/*.dsc)
  unpacked=$cache/.unpack-$source
  rm -rf "$unpacked"
  if ! dpkg-source -x "${dsc[0]}" "$unpacked" >>"$log" 2>&1; then
    cat "$log" >&2
    echo "fetch_debian_sources: dpkg-source -x ${dsc[0]} failed" >&2
    exit 1
  fi
  # What Debian's build generates before compiling: re2's tables (its +dfsg
  # source drops the generated files; debian/rules builds with
  # REBUILD_TABLES=1, from the unicode-data package).
  case "$source" in
    re2)
      if ! make -C "$unpacked" REBUILD_TABLES=1 re2/perl_groups.cc \
           re2/unicode_casefold.cc re2/unicode_groups.cc >>"$log" 2>&1; then
        cat "$log" >&2
        echo "fetch_debian_sources: generating re2's tables failed" >&2
        exit 1
      fi ;;
  esac
  echo "$source $version" >"$unpacked/.hv-source"
  rm -rf "${cache:?}/$source"
  mv "$unpacked" "$cache/$source"
  # dpkg-source leaves a copy of the upstream tarball beside the tree.
  rm -rf "$download" "$cache/${source}_"*
done
