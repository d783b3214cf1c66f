#!/usr/bin/env bash
# Unpacks Debian binary packages of another architecture into hv's source
# cache, outside the tree, for cross builds that link a library whose -dev
# package cannot be installed beside the host's (it is not Multi-Arch: same;
# libfdt-dev for the aarch64 build). Each package is taken at the version of
# the host's own installed package of that name, so both builds link the
# same code. `apt-get download` fetches the .deb (no root, nothing
# installed) and `dpkg-deb -x` unpacks it into $CACHE/<package>_<arch>, with
# a .hv-source stamp naming the version (WORKSPACE's apt_source_repository
# reads it). Silent when every tree is there; one line on stderr when it
# fetches.
#
#   fetch_debian_debs.sh CACHE_DIR PACKAGE:ARCH...
#   fetch_debian_debs.sh ~/.cache/hv/src libfdt-dev:arm64
set -euo pipefail

(($# >= 2)) || { echo "usage: fetch_debian_debs.sh CACHE_DIR PACKAGE:ARCH..." >&2; exit 2; }
cache=$1; shift
native_arch=$(dpkg --print-architecture)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
for item in "$@"; do
  package=${item%%:*} arch=${item#*:}
  version=$(dpkg-query -W -f='${Version}' "$package:$native_arch" 2>/dev/null || true)
  if [[ -z "$version" ]]; then
    echo "fetch_debian_debs: $package is not installed (tools/bazel installs it)" >&2
    exit 1
  fi
  tree=$cache/${package}_$arch
  [[ "$(cat "$tree/.hv-source" 2>/dev/null || true)" == "$package:$arch $version" ]] && continue
  echo "tools/bazel: fetching Debian's $package:$arch=$version into $tree" >&2
  download=$(mktemp -d)
  chmod 755 "$download"  # apt's _apt user downloads into it
  if ! (cd "$download" && apt-get download "$package:$arch=$version") >"$log" 2>&1; then
    cat "$log" >&2
    echo "fetch_debian_debs: apt-get download $package:$arch=$version failed" >&2
    exit 1
  fi
  rm -rf "$tree.new" && mkdir -p "$tree.new"
  dpkg-deb -x "$download"/*.deb "$tree.new"
  rm -rf "$download"
  echo "$package:$arch $version" >"$tree.new/.hv-source"
  rm -rf "$tree" && mv "$tree.new" "$tree"
done
