#!/usr/bin/env bash
# tools/hvrun/boot_linux.sh: boots Debian's cloud kernel with hvrun on this
# host's KVM, with a busybox initramfs whose /init prints what the guest
# sees (kernel, CPUs, memory, PCI devices: hvrun's host bridge and its demo
# virtio device with the shared-memory BAR) and then gives you a shell on
# the console (exit it, or run `reboot -f`, to end).
#
#   tools/bazel run //tools/hvrun:boot_linux              # 2 vCPUs, 512 MiB
#   tools/bazel run //tools/hvrun:boot_linux -- --vcpus=4 --stats
#
# Extra arguments go to hvrun. The first run downloads, with `apt-get
# download` (no root), linux-image-cloud-amd64's kernel and busybox-static
# into ${XDG_CACHE_HOME:-~/.cache}/hv/linux (about 20 MB). It needs a KVM
# that runs guest kernel code natively (VMX or SVM): on a kvm_pvm host,
# where that code is emulated instruction by instruction, it says so and
# stops; `tools/bazel test //tools/hvrun:hvrun_linux_boot_test` boots the
# same kernel there, in tools/vmtest's SVM VM.
set -euo pipefail
runfiles=${RUNFILES_DIR:-$0.runfiles}
hvrun="$runfiles/hv/tools/hvrun/hvrun_bin"
[[ -x "$hvrun" ]] || { echo "boot_linux: no $hvrun; run me with 'tools/bazel run'" >&2; exit 2; }

if [[ ! -c /dev/kvm || ! -r /dev/kvm || ! -w /dev/kvm ]]; then
  echo "boot_linux: this host has no usable /dev/kvm; run" \
       "'tools/bazel test //tools/hvrun:hvrun_linux_boot_test' (boots it in a QEMU VM)" >&2
  exit 6
fi
if [[ -d /sys/module/kvm_pvm ]]; then
  echo "boot_linux: /dev/kvm is kvm_pvm, which emulates all guest kernel code (a boot" \
       "would take hours); run 'tools/bazel test //tools/hvrun:hvrun_linux_boot_test'" \
       "(boots it in tools/vmtest's SVM VM)" >&2
  exit 6
fi

for tool in apt-get apt-cache dpkg-deb cpio; do
  command -v "$tool" >/dev/null || { echo "boot_linux: needs $tool (Debian)" >&2; exit 2; }
done

cache=${XDG_CACHE_HOME:-$HOME/.cache}/hv/linux
mkdir -p "$cache"
if [[ ! -f "$cache/vmlinuz" || ! -f "$cache/busybox" ]]; then
  echo "boot_linux: downloading the kernel and busybox-static into $cache (once)" >&2
  work=$(mktemp -d "$cache/.work.XXXXXX")
  kernel_pkg=$(apt-cache depends --no-recommends linux-image-cloud-amd64 |
               awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
  [[ -n "$kernel_pkg" ]] || { echo "boot_linux: apt knows no linux-image-cloud-amd64 (apt-get update?)" >&2; exit 4; }
  (cd "$work" && apt-get download -q "$kernel_pkg" busybox-static >/dev/null)
  dpkg-deb -x "$work"/linux-image-*.deb "$work/kernel"
  dpkg-deb -x "$work"/busybox-static_*.deb "$work/busybox"
  cp "$work"/kernel/boot/vmlinuz-* "$cache/vmlinuz"
  cp "$work/busybox/bin/busybox" "$cache/busybox"
  rm -rf "$work"
fi

# The initramfs: busybox, /dev/console and an /init, built fresh each run.
root=$(mktemp -d)
initrd=$(mktemp)
trap 'rm -rf "$root" "$initrd"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys}
cp "$cache/busybox" "$root/bin/busybox"
cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "hv guest: $(uname -sr), $(grep -c '^processor' /proc/cpuinfo) CPUs, $(free -m | awk '/Mem:/ { print $2 }') MiB"
for d in /sys/bus/pci/devices/*; do
  echo "hv guest: PCI ${d##*/} $(cat $d/vendor):$(cat $d/device) class $(cat $d/class)"
done
echo "hv guest: a shell on the console; 'reboot -f' (or exit) ends hvrun"
setsid cttyhack sh
reboot -f
EOF
chmod 755 "$root/init"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$initrd"
rc=0
"$hvrun" --kernel="$cache/vmlinuz" --initrd="$initrd" --vcpus=2 --mem=512M \
    --timeout=168h "$@" || rc=$?
exit "$rc"
