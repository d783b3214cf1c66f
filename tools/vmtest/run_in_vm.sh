#!/usr/bin/env bash
# tools/vmtest/run_in_vm.sh: runs one Linux test binary (static, or dynamic
# with its shared libraries copied along) inside a throwaway QEMU (TCG)
# virtual machine whose Debian kernel provides a standard, in-tree KVM at
# /dev/kvm, streams the VM's console to stdout and exits with the test's exit
# code.
#
#   tools/vmtest/run_in_vm.sh x86_64 bazel-bin/tools/vmtest/kvm_smoke_test --gtest_filter='Kvm*'
#   HV_VMTEST_TIMEOUT=60 tools/vmtest/run_in_vm.sh x86_64 ./my_static_test arg1 arg2
#
# Usually reached through Bazel: `tools/bazel test --config=x86-svm-kvm ...`
# makes //tools/vmtest:run_in_svm_vm (which calls this with "x86_64") the
# --run_under wrapper of every test, `--config=aarch64-kvm` makes
# //tools/vmtest:run_in_arm64_vm ("aarch64") it, and every hv_kvm_test's
# driver (hypervisor/kvm/run_with_kvm.sh) calls this with the test binary's
# own architecture. See tools/vmtest/README.md.
#
# ARCH is x86_64 (AMD SVM + NPT KVM, kvm_amd, under `-cpu max`) or aarch64
# (arm64 KVM at emulated EL2, `-M virt,virtualization=on`). tools/bazel
# installs what each needs (for aarch64: qemu-system-arm, cpio, and the arm64
# dpkg architecture the kernel and busybox are downloaded for).
#
# On first use per kernel/busybox version it downloads, with `apt-get download`
# (no root needed), the kernel that the cloud kernel metapackage currently
# depends on and busybox-static, and builds a base initramfs in the cache
# ($HV_VMTEST_CACHE, default ${XDG_CACHE_HOME:-$HOME/.cache}/hv/vmtest); a
# flock makes concurrent runs share one build. Each run then appends one
# uncompressed cpio member with the test binary (and its runfiles tree, when
# run by Bazel) and boots it.
#
# Exit status: the test's own exit status when the guest reported one; 124 if
# the VM ran out of time; 125 if the VM could not be set up, booted, or ended
# (kernel panic, crash) without the guest's result marker. Never 0 unless the
# test itself returned 0.
#
# Environment:
#   HV_VMTEST_TIMEOUT    seconds before the VM is killed (default 600; capped
#                        at Bazel's TEST_TIMEOUT minus a margin when set)
#   HV_VMTEST_CACHE      cache directory (see above)
#   HV_VMTEST_MEM        guest RAM in MiB (default per ARCH)
#   HV_VMTEST_QEMU_ARGS  extra QEMU arguments (split on spaces)
#   HV_VMTEST_CMDLINE    extra kernel command line
#   HV_VMTEST_MAX_RUNFILES_MB  larger runfiles trees are not copied (default 256)
#   HV_VMTEST_SHARE_KERNEL=1   also put the VM's own kernel at /hv/vmlinuz in
#                        the guest (arm64's decompressed to its Image) and
#                        export HV_GUEST_KERNEL=/hv/vmlinuz to the test
#                        (tests that boot it under hv; the guest's
#                        /bin/busybox is Debian's busybox-static)
# Forwarded into the guest: GTEST_COLOR=no (the console is a log), GTEST_*
# (except GTEST_OUTPUT, GTEST_TMP_DIR and GTEST_COLOR), HV_* (except
# HV_VMTEST_*), TEST_SRCDIR/RUNFILES_DIR/
# TEST_WORKSPACE/TEST_TARGET/TEST_BINARY (same paths inside the guest),
# TEST_TMPDIR and GTEST_TMP_DIR (a fresh guest directory). When Bazel asks for
# XML_OUTPUT_FILE, the guest's gtest XML comes back through the console.
set -euo pipefail

readonly prog=vmtest
readonly exit_timeout=124
readonly exit_infra=125

log() { echo "$prog: $*" >&2; }
die() { log "error: $*"; exit "$exit_infra"; }

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

(($# >= 2)) || usage
arch=$1; shift
test_binary=$1; shift

# ---- per-architecture settings ---------------------------------------------
case "$arch" in
  x86_64)
    dpkg_arch=amd64
    kernel_meta=linux-image-cloud-amd64
    qemu=qemu-system-x86_64
    # -smp 2 hung once in four runs in the prototype; one vCPU is also faster.
    qemu_machine=(-accel tcg -cpu max -smp 1)
    default_mem=1024
    console=ttyS0
    kvm_modules=(kvm-amd)   # loaded with their dependencies (irqbypass, kvm)
    ;;
  aarch64)
    dpkg_arch=arm64
    kernel_meta=linux-image-cloud-arm64:arm64
    qemu=qemu-system-aarch64
    # pauth-impdef: the architected pointer-auth algorithm is ~3x slower in TCG.
    qemu_machine=(-M virt,virtualization=on,gic-version=3 -cpu max,pauth-impdef=on
                  -accel tcg,thread=multi -smp 2)
    default_mem=2048
    console=ttyAMA0
    kvm_modules=()          # KVM is built into the arm64 cloud kernel
    ;;
  *) die "unknown architecture '$arch' (x86_64 or aarch64)" ;;
esac
busybox_pkg=busybox-static
[[ "$dpkg_arch" == "$(dpkg --print-architecture)" ]] || busybox_pkg+=":$dpkg_arch"

for tool in "$qemu" cpio gzip flock dpkg-deb apt-get apt-cache timeout base64 od; do
  command -v "$tool" >/dev/null ||
    die "'$tool' not found; tools/bazel installs it for --config=x86-svm-kvm and --config=aarch64-kvm"
done
[[ -f "$test_binary" && -x "$test_binary" ]] || die "test binary '$test_binary' is not an executable file"

# elf_arch FILE: x86_64 or aarch64 from a 64-bit little-endian ELF header
# (e_machine at byte 18: 62 EM_X86_64, 183 EM_AARCH64); "other" for any
# other ELF file, nothing (status 1) for a file that is not ELF.
elf_arch() {
  local -a bytes
  read -r -a bytes <<<"$(od -An -tu1 -N20 -v "$1" 2>/dev/null | tr -s ' \n' ' ')"
  ((${#bytes[@]} == 20)) && [[ "${bytes[*]:0:4}" == "127 69 76 70" ]] || return 1
  if [[ "${bytes[*]:4:2}" != "2 1" ]]; then echo other; return 0; fi
  case $((bytes[18] | bytes[19] << 8)) in
    62) echo x86_64 ;;
    183) echo aarch64 ;;
    *) echo other ;;
  esac
}
# A binary of another architecture would only fail inside the guest with
# "Exec format error"; say so here. (Scripts pass: the guest's busybox sh
# may run them.)
if binary_arch=$(elf_arch "$test_binary") && [[ "$binary_arch" != "$arch" ]]; then
  die "'$test_binary' is an ELF file for $binary_arch, not $arch; build it for $arch"
fi

# init.sh sits beside this script (in the source tree or in runfiles).
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
[[ -f "$here/init.sh" ]] || die "no init.sh beside $(readlink -f "${BASH_SOURCE[0]}")"

cache_root=${HV_VMTEST_CACHE:-${XDG_CACHE_HOME:-${HOME:?neither HV_VMTEST_CACHE nor HOME is set}/.cache}/hv/vmtest}
cache=$cache_root/$arch
mkdir -p "$cache"

# ---- the base image: kernel + initramfs, cached per package version -------

# candidate_version PKG: the version `apt-get download PKG` would fetch.
candidate_version() {
  apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }'
}

# apt_state: a fingerprint of what decides apt's answers (the package lists,
# sources, preferences, configuration and dpkg architectures).
apt_state() {
  stat -c '%n %Y %s' /var/lib/apt/lists /etc/apt /etc/apt/sources.list \
      /etc/apt/sources.list.d /etc/apt/preferences.d /etc/apt/apt.conf.d \
      /var/lib/dpkg/arch 2>/dev/null | sha256sum | head -c 16
}

# resolve_key: sets kernel_pkg, kernel_ver, busybox_ver and key from the
# package lists. Fails (returns 1) when apt knows nothing about them.
#
# Each apt-cache call costs ~2-3 s where apt keeps no binary cache (Debian's
# Docker images set Dir::Cache::pkgcache ""), ~7 s per run, so the answer is
# memoised in $cache/.resolved against apt_state: it is asked again only
# after `apt-get update` or a change to apt's configuration.
resolve_key() {
  local state memo=$cache/.resolved memo_state
  state=$(apt_state)
  if [[ -f "$memo" ]] && read -r memo_state kernel_pkg kernel_ver busybox_ver <"$memo" &&
     [[ "$memo_state" == "$state" && -n "$busybox_ver" ]]; then
    :
  else
    kernel_pkg=$(apt-cache depends --no-recommends --no-suggests "$kernel_meta" 2>/dev/null |
                 awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
    [[ -n "$kernel_pkg" ]] || return 1
    # apt-cache names a foreign-architecture dependency with its ":arch".
    [[ "$kernel_meta" == *:* && "$kernel_pkg" != *:* ]] && kernel_pkg+=":${kernel_meta#*:}"
    kernel_ver=$(candidate_version "$kernel_pkg")
    busybox_ver=$(candidate_version "$busybox_pkg")
    [[ -n "$kernel_ver" && "$kernel_ver" != "(none)" && -n "$busybox_ver" && "$busybox_ver" != "(none)" ]] || return 1
    local tmp_memo
    tmp_memo=$(mktemp "$cache/.resolved.XXXXXX")
    chmod 644 "$tmp_memo"
    echo "$state $kernel_pkg $kernel_ver $busybox_ver" >"$tmp_memo"
    mv -f "$tmp_memo" "$memo"
  fi
  # The guest's /init is part of the base image, so a change to it makes a
  # new entry too.
  local init_hash
  init_hash=$(sha256sum "$here/init.sh" | head -c 12)
  key="${kernel_pkg%%:*}_${kernel_ver}+busybox_${busybox_ver}+init_${init_hash}"
  key=${key//:/_}
}

# module_depends KO: the comma-separated module names in KO's .modinfo.
module_depends() {
  tr '\0' '\n' <"$1" | sed -n 's/^depends=//p' | head -n 1
}

# build_base DIR: downloads the packages and writes DIR/{vmlinuz,base.cpio.gz,info}.
build_base() {
  local dir=$1 work=$1/work
  mkdir -p "$work/debs" "$work/kernel" "$work/busybox" "$work/root"/{bin,dev,proc,sys,tmp,etc/vmtest,lib/modules}
  log "first use of ${kernel_pkg} ${kernel_ver} + busybox ${busybox_ver}: downloading (one-time)"
  local download=(apt-get download -q "${kernel_pkg}=${kernel_ver}" "${busybox_pkg}=${busybox_ver}")
  if ! (cd "$work/debs" && "${download[@]}") >"$work/download.log" 2>&1; then
    # Stale package lists name files the mirror no longer has; root can
    # refresh them (the key is then resolved again on the next run).
    if ((EUID == 0)) && apt-get update -qq >>"$work/download.log" 2>&1 &&
       (cd "$work/debs" && "${download[@]}") >>"$work/download.log" 2>&1; then
      :
    else
      cat "$work/download.log" >&2
      die "apt-get download failed (try 'sudo apt-get update')"
    fi
  fi
  dpkg-deb -x "$work"/debs/linux-image-*.deb "$work/kernel"
  dpkg-deb -x "$work"/debs/busybox-static_*.deb "$work/busybox"

  local kver vmlinuz
  kver=$(ls "$work/kernel/lib/modules")
  [[ "$kver" != *$'\n'* && -n "$kver" ]] || die "expected exactly one kernel version in $kernel_pkg, found: $kver"
  vmlinuz=$work/kernel/boot/vmlinuz-$kver
  [[ -f "$vmlinuz" ]] || die "no $vmlinuz in $kernel_pkg"
  cp "$work/busybox/bin/busybox" "$work/root/bin/busybox"

  # Modules, dependencies first. The .deb has no modules.dep (depmod runs at
  # install time), so the order comes from each module's depends= field.
  local -A ko_path=() loaded=()
  local ko name
  while IFS= read -r ko; do
    name=$(basename "$ko" .ko); ko_path[${name//-/_}]=$ko
  done < <(find "$work/kernel/lib/modules/$kver" -name '*.ko')
  local order=()
  add_module() {
    local mod=${1//-/_} dep deps
    [[ -n "${loaded[$mod]:-}" ]] && return 0
    [[ -n "${ko_path[$mod]:-}" ]] || die "module $mod not found in $kernel_pkg (compressed or built in?)"
    deps=$(module_depends "${ko_path[$mod]}")
    for dep in ${deps//,/ }; do add_module "$dep"; done
    loaded[$mod]=1
    order+=("$mod")
  }
  local m
  for m in "${kvm_modules[@]}"; do add_module "$m"; done
  for m in "${order[@]}"; do
    cp "${ko_path[$m]}" "$work/root/lib/modules/$m.ko"
    echo "$m.ko" >>"$work/root/etc/vmtest/modules"
  done
  touch "$work/root/etc/vmtest/modules"

  install -m 0755 "$here/init.sh" "$work/root/init"
  {
    echo "kernel=$kernel_pkg $kernel_ver ($kver)"
    echo "busybox=$busybox_pkg $busybox_ver"
    echo "modules=${order[*]:-}"
  } >"$work/root/etc/vmtest/info"

  (cd "$work/root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$dir/base.cpio.gz"
  # The test's member is appended uncompressed; the kernel finds the next
  # cpio magic only at a 4-byte boundary, and zero padding is skipped.
  truncate -s %512 "$dir/base.cpio.gz"
  cp "$vmlinuz" "$dir/vmlinuz"
  cp "$work/root/etc/vmtest/info" "$dir/info"
  rm -rf "$work"
}

# ensure_base: sets base_dir to a complete cache entry, building it if needed.
ensure_base() {
  local key kernel_pkg kernel_ver busybox_ver
  if resolve_key; then
    base_dir=$cache/$key
    if [[ -f "$base_dir/ready" ]]; then
      touch "$base_dir/ready"   # last use, for pruning
      return 0
    fi
    exec {lock_fd}>"$cache/.lock"
    flock "$lock_fd"
    if [[ ! -f "$base_dir/ready" ]]; then
      local tmp
      tmp=$(mktemp -d "$cache/.build.XXXXXX")
      chmod 755 "$tmp"
      # On failure the half-built directory goes away (and the lock with us).
      trap 'rm -rf "$tmp"; cleanup' EXIT
      local started=$SECONDS
      build_base "$tmp"
      touch "$tmp/ready"
      rm -rf "$base_dir"
      mv -T "$tmp" "$base_dir"
      trap cleanup EXIT
      # Entries nobody used for a week (older kernels, older init.sh) go.
      find "$cache" -mindepth 2 -maxdepth 2 -name ready -mtime +7 -printf '%h\0' |
        xargs -0 -r rm -rf
      log "cached kernel and initramfs in $base_dir ($((SECONDS - started)) s)"
    fi
    exec {lock_fd}>&-
    return 0
  fi
  # No package lists (offline, or `apt-get update` never ran): use the newest
  # complete entry.
  local entry
  entry=$(ls -td "$cache"/*/ready 2>/dev/null | head -n 1 || true)
  [[ -n "$entry" ]] ||
    die "apt does not know $kernel_meta / $busybox_pkg and nothing is cached; run 'sudo apt-get update' once"
  base_dir=$(dirname "$entry")
  log "apt cannot resolve $kernel_meta; using cached $(basename "$base_dir")"
}

# ---- the test's initramfs member -------------------------------------------

# shell_quote ARG: ARG as one single-quoted word for the guest's busybox sh.
shell_quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

run_dir=$(mktemp -d "${TEST_TMPDIR:-${TMPDIR:-/tmp}}/vmtest.XXXXXX")
cleanup() { rm -rf "$run_dir"; }
trap cleanup EXIT

# list_shared_libraries ELF: `ldd`-style lines for a dynamically linked ELF
# of the VM's architecture. On a host of another architecture the target's
# dynamic loader lists them under qemu-user (Debian's multiarch libc6:arm64
# puts it and the libraries at the same paths as on an arm64 machine).
list_shared_libraries() {
  if [[ "$arch" == "$(uname -m)" ]]; then
    ldd "$1"
  else
    qemu-aarch64-static /lib/ld-linux-aarch64.so.1 --list "$1"
  fi
}

# stage_shared_libraries STAGE ELF...: copies the shared libraries the ELF
# files of the VM's architecture need (their `ldd` closure, the dynamic
# loader included) into STAGE at the same absolute paths, so dynamically
# linked tests run in the guest. Files of other architectures are skipped:
# the guest could not run them anyway.
stage_shared_libraries() {
  local stage=$1; shift
  local elf lib
  for elf in "$@"; do
    [[ "$(elf_arch "$elf" || true)" == "$arch" ]] || continue
    LC_ALL=C grep -qa 'ld-linux' <(head -c 4096 "$elf") || continue
    if [[ "$arch" != "$(uname -m)" ]]; then
      [[ "$arch" == aarch64 ]] || die "'$elf' is dynamically linked; no way to list its libraries on $(uname -m)"
      command -v qemu-aarch64-static >/dev/null ||
        die "'$elf' is dynamically linked: listing its libraries needs qemu-aarch64-static (qemu-user-static)"
      [[ -x /lib/ld-linux-aarch64.so.1 ]] ||
        die "'$elf' is dynamically linked: no /lib/ld-linux-aarch64.so.1 (libc6:arm64)"
    fi
    while read -r lib; do
      # Libraries found inside the staged tree are already there.
      [[ "$lib" == "$stage"/* || -e "$stage$lib" ]] && continue
      mkdir -p "$stage$(dirname "$lib")"
      cp -L "$lib" "$stage$lib"
    done < <(list_shared_libraries "$elf" 2>/dev/null | awk '
      $2 == "=>" && $3 ~ /^\// { print $3 }
      $1 ~ /^\// { print $1 }')
  done
}

ensure_base

stage=$run_dir/member
mkdir -p "$stage/hv/bin" "$stage/hv/out"
binary_abs=$(cd "$(dirname "$test_binary")" && pwd)/$(basename "$test_binary")

# The runfiles tree goes to the same absolute path in the guest so that
# TEST_SRCDIR, the working directory and data files resolve as on the host.
runfiles=${TEST_SRCDIR:-${RUNFILES_DIR:-}}
guest_binary=/hv/bin/$(basename "$test_binary")
guest_cwd=/
if [[ -n "$runfiles" && -d "$runfiles" ]]; then
  max_mb=${HV_VMTEST_MAX_RUNFILES_MB:-256}
  size_mb=$(du -sLm "$runfiles" 2>/dev/null | awk '{ print $1 }')
  if ((size_mb <= max_mb)); then
    mkdir -p "$stage$runfiles"
    cp -rL "$runfiles/." "$stage$runfiles/"
    [[ "$binary_abs" == "$runfiles"/* && -f "$stage$binary_abs" ]] && guest_binary=$binary_abs
    [[ "$PWD" == "$runfiles"* ]] && guest_cwd=$PWD
  else
    log "runfiles tree is ${size_mb} MiB (> HV_VMTEST_MAX_RUNFILES_MB=$max_mb); copying only the binary"
  fi
fi
[[ "$guest_binary" == /hv/bin/* ]] && cp -L "$test_binary" "$stage$guest_binary"
if [[ "${HV_VMTEST_SHARE_KERNEL:-0}" == 1 ]]; then
  # Debian's arm64 vmlinuz is a gzip of the Image, which a VMM loads
  # uncompressed (booting.rst); x86's bzImage decompresses itself.
  if [[ "$(od -An -N2 -tx1 "$base_dir/vmlinuz" | tr -d ' ')" == 1f8b ]]; then
    gzip -dc "$base_dir/vmlinuz" >"$stage/hv/vmlinuz"
  else
    cp "$base_dir/vmlinuz" "$stage/hv/vmlinuz"
  fi
fi

# Dynamically linked binaries (the default build, sanitizer builds) bring
# their shared libraries along: every ELF file staged for the guest gets its
# ldd closure copied to the same absolute paths.
mapfile -d '' staged_files < <(find "$stage" -type f -perm -u+x -print0)
stage_shared_libraries "$stage" "${staged_files[@]}"

nonce=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
echo "$nonce" >"$stage/hv/nonce"
echo "$guest_cwd" >"$stage/hv/cwd"

{
  while IFS='=' read -r -d '' name value; do
    case "$name" in
      GTEST_OUTPUT | GTEST_TMP_DIR | GTEST_COLOR | HV_VMTEST_*) ;;
      GTEST_* | HV_* | TEST_SRCDIR | RUNFILES_DIR | TEST_WORKSPACE | TEST_TARGET | TEST_BINARY)
        printf 'export %s=%s\n' "$name" "$(shell_quote "$value")" ;;
    esac
  done < <(env -0)
  # The serial console is a log, not a terminal: same as --gtest_color=no.
  echo "export GTEST_COLOR=no TEST_TMPDIR=/tmp/test_tmpdir GTEST_TMP_DIR=/tmp/test_tmpdir"
  [[ -f "$stage/hv/vmlinuz" ]] && echo "export HV_GUEST_KERNEL=/hv/vmlinuz"
  [[ -n "${XML_OUTPUT_FILE:-}" ]] && echo "export GTEST_OUTPUT=xml:/hv/out/test.xml"
} >"$stage/hv/env"

{
  printf 'exec %s' "$(shell_quote "$guest_binary")"
  for arg in "$@"; do printf ' %s' "$(shell_quote "$arg")"; done
  echo
} >"$stage/hv/cmd"

initrd=$run_dir/initrd
cp "$base_dir/base.cpio.gz" "$initrd"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >>"$initrd"

# ---- boot ------------------------------------------------------------------
timeout_s=${HV_VMTEST_TIMEOUT:-600}
if [[ -n "${TEST_TIMEOUT:-}" ]] && ((TEST_TIMEOUT - 15 < timeout_s)); then
  # End before Bazel kills us, so the console log and the reason survive.
  timeout_s=$((TEST_TIMEOUT > 30 ? TEST_TIMEOUT - 15 : TEST_TIMEOUT * 3 / 4))
fi
read -r -a extra_qemu <<<"${HV_VMTEST_QEMU_ARGS:-}"

log "booting $(sed -n 's/^kernel=//p' "$base_dir/info") in $qemu ${qemu_machine[*]} (timeout ${timeout_s} s)"
console_log=$run_dir/console.log
started=$SECONDS
set +e
timeout -k 5 "$timeout_s" "$qemu" "${qemu_machine[@]}" -m "${HV_VMTEST_MEM:-$default_mem}" \
    -nographic -nodefaults -no-reboot -serial stdio -monitor none \
    -kernel "$base_dir/vmlinuz" -initrd "$initrd" \
    -append "console=$console panic=-1 quiet ${HV_VMTEST_CMDLINE:-}" \
    "${extra_qemu[@]}" </dev/null 2>&1 |
  awk -v log_file="$console_log" -v nonce="$nonce" '
    # SeaBIOS clears the screen with escape sequences; drop them and the CRs.
    { gsub(/\033(c|\[[0-9;?]*[A-Za-z])|\r/, ""); print > log_file }
    $0 == "@@HV_XML_BEGIN run=" nonce "@@" { hide = 1 }
    !hide { print; fflush() }
    $0 == "@@HV_XML_END run=" nonce "@@" { hide = 0 }'
statuses=("${PIPESTATUS[@]}")
set -e
qemu_rc=${statuses[0]}
elapsed=$((SECONDS - started))

rc_line=$(grep -a "^@@TEST_EXIT_CODE=[0-9]*@@ run=$nonce\$" "$console_log" | tail -n 1 || true)
if [[ -n "$rc_line" ]]; then
  rc=${rc_line#@@TEST_EXIT_CODE=}; rc=${rc%%@@*}
  if [[ -n "${XML_OUTPUT_FILE:-}" ]]; then
    xml=$run_dir/test.xml
    if sed -n "/^@@HV_XML_BEGIN run=$nonce@@\$/,/^@@HV_XML_END run=$nonce@@\$/p" "$console_log" |
         sed '1d;$d' | base64 -d >"$xml" 2>/dev/null && [[ -s "$xml" ]]; then
      cp "$xml" "$XML_OUTPUT_FILE"
    fi
  fi
  log "test exited with $rc after ${elapsed} s in the VM"
  exit "$rc"
fi

if ((qemu_rc == 124 || qemu_rc == 137)); then
  log "FAILED: the VM did not finish within ${timeout_s} s (HV_VMTEST_TIMEOUT); killed"
  exit "$exit_timeout"
fi
if grep -qa 'Kernel panic' "$console_log"; then
  log "FAILED: kernel panic in the VM (see the console output above)"
elif grep -qa '^@@VMTEST_SETUP_FAILED@@' "$console_log"; then
  log "FAILED: the guest could not set up KVM (see the console output above)"
else
  log "FAILED: the VM ended (QEMU status $qemu_rc) without reporting the test's exit code"
fi
exit "$exit_infra"
