#!/bin/busybox sh
# tools/vmtest/init.sh: /init of the vmtest guest (see run_in_vm.sh, which
# copies this file into the cached base initramfs).
#
#   (in the guest, as PID 1)  /init
#
# It mounts proc, sysfs and devtmpfs, loads the KVM modules listed in
# /etc/vmtest/modules (dependencies first), runs the test command that
# run_in_vm.sh put in the appended cpio member (/hv/env, /hv/cwd, /hv/cmd),
# sends back the gtest XML when there is one, prints
# `@@TEST_EXIT_CODE=<rc>@@ run=<nonce>` and powers off.
#
# This runs under busybox ash in a guest with no bash, so it is POSIX sh
# without `set -e`: PID 1 must never exit (the kernel would panic), so every
# failure is reported on the console and ends in `poweroff -f`.

/bin/busybox mkdir -p /bin /proc /sys /dev /tmp
/bin/busybox --install -s /bin
export PATH=/bin

mount -t devtmpfs devtmpfs /dev
# The initramfs has no /dev/console node, so the kernel could not give PID 1
# a console; take it now.
exec </dev/null >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys

setup_failed() {
  echo "vmtest-init: $*"
  echo "@@VMTEST_SETUP_FAILED@@"
  poweroff -f
  sleep 3600
}

[ -r /hv/nonce ] && [ -r /hv/cmd ] || setup_failed "no test member in the initramfs"
nonce=$(cat /hv/nonce)

for module in $(cat /etc/vmtest/modules); do
  insmod "/lib/modules/$module" || setup_failed "insmod $module failed"
done
[ -c /dev/kvm ] || setup_failed "no /dev/kvm after loading: $(cat /etc/vmtest/modules)"

# One line of context for the log: kernel, CPU and KVM module parameters.
params=""
for p in /sys/module/kvm_amd/parameters/nested /sys/module/kvm_amd/parameters/npt \
         /sys/module/kvm_intel/parameters/nested /sys/module/kvm_intel/parameters/ept; do
  [ -r "$p" ] && params="$params ${p#/sys/module/}=$(cat "$p")"
done
echo "vmtest-init: $(uname -r) $(uname -m); $(grep -m 1 -E '^(model name|CPU part)' /proc/cpuinfo | sed 's/.*: //');${params}"

mkdir -p /tmp/test_tmpdir /hv/out
. /hv/env
cd "$(cat /hv/cwd)" || setup_failed "cannot cd to $(cat /hv/cwd)"
/bin/sh /hv/cmd
rc=$?
cd /

if [ -s /hv/out/test.xml ]; then
  echo "@@HV_XML_BEGIN run=$nonce@@"
  base64 /hv/out/test.xml
  echo "@@HV_XML_END run=$nonce@@"
fi
echo "@@TEST_EXIT_CODE=$rc@@ run=$nonce"
sync
poweroff -f
sleep 3600
