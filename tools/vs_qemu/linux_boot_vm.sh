#!/bin/sh
# tools/vs_qemu/linux_boot_vm.sh: the part of linux_boot.py that runs inside
# tools/vmtest's SVM VM (busybox sh, no bash, no python). It builds the guest's
# initramfs from the VM's busybox, then boots the VM's own kernel
# ($HV_GUEST_KERNEL) with the same initramfs and command line under each
# contender, REPS rounds, contenders interleaved with the order rotated each
# round, each boot timed by boot_timer. One result line per boot:
#
#   linux_boot: rep=R contender=NAME boot ... guest_used_kib=N
#
#   linux_boot_vm.sh REPS CONTENDERS MEM_MIB VCPUS      (e.g. 3 hvrun,qemu-pc 256 2)
#
# Beside this script: boot_timer, hvrun_bin, qemu-system-x86_64 (its shared
# libraries staged by run_in_vm.sh) and qemu-firmware/ (QEMU's -L folder).
reps=$1 contenders=$2 mem_mib=$3 vcpus=$4
here=$(cd "$(dirname "$0")" && pwd)
kernel=${HV_GUEST_KERNEL:?no HV_GUEST_KERNEL: run with HV_VMTEST_SHARE_KERNEL=1}
cmdline="console=ttyS0 reboot=k panic=-1"
work=/tmp/linux_boot
mkdir -p "$work/root/bin" "$work/root/dev" "$work/root/proc"

# The guest's /init: its first line is the start marker; the last one, the
# memory its kernel has in use, is the end marker. reboot -f acts at once, so
# the UART gets a second to send what is queued (as hvrun_linux_boot_test).
cp /bin/busybox "$work/root/bin/busybox"
mknod "$work/root/dev/console" c 5 1
cat >"$work/root/init" <<'EOF'
#!/bin/busybox sh
echo "hv-init: first line"
/bin/busybox mount -t proc proc /proc
echo "hv-init: end, guest_used_kib=$(/bin/busybox awk '/^MemTotal:/ { t = $2 } /^MemFree:/ { f = $2 } END { print t - f }' /proc/meminfo)"
/bin/busybox sleep 1
/bin/busybox reboot -f
EOF
chmod 755 "$work/root/init"
(cd "$work/root" && find . | sort | cpio -o -H newc -R 0:0 2>/dev/null) >"$work/initrd.cpio"
echo "linux_boot: vm kernel=$(uname -r) guest_kernel_bytes=$(wc -c <"$kernel") initrd_bytes=$(wc -c <"$work/initrd.cpio") cmdline='$cmdline' kvm=$(ls /sys/module | grep -E '^kvm_(amd|intel)$')"

# command NAME: the contender's command line, in "$@".
command_of() {
  case "$1" in
    hvrun)
      set -- "$here/hvrun_bin" --kernel="$kernel" --initrd="$work/initrd.cpio" \
        --cmdline="$cmdline" --mem="${mem_mib}M" --vcpus="$vcpus" --stats --timeout=600s ;;
    qemu-pc | qemu-microvm)
      set -- "$here/qemu-system-x86_64" -accel kvm -M "${1#qemu-}" -smp "$vcpus" -m "${mem_mib}M" \
        -nodefaults -no-user-config -display none -monitor none -serial stdio -no-reboot \
        -L "$here/qemu-firmware" -kernel "$kernel" -initrd "$work/initrd.cpio" -append "$cmdline" ;;
    *) echo "linux_boot: unknown contender $1" >&2; exit 2 ;;
  esac
  printf '%s\n' "$@"
}

names=$(echo "$contenders" | tr ',' ' ')
count=$(echo $names | wc -w)
rep=1
while [ "$rep" -le "$reps" ]; do
  # Rotate the order by one each round.
  shift_by=$(( (rep - 1) % count ))
  set -- $names
  i=0
  while [ "$i" -lt "$shift_by" ]; do first=$1; shift; set -- "$@" "$first"; i=$((i + 1)); done
  for name in "$@"; do
    log="$work/$name-$rep.log"
    # One argument a line: the command line has spaces in one argument.
    command_of "$name" >"$work/cmd" || exit 2
    result=$(
      IFS='
'
      "$here/boot_timer" 240 $((mem_mib * 1024)) "$log" $(cat "$work/cmd"))
    used=$(sed -n 's/.*guest_used_kib=\([0-9]*\).*/\1/p' "$log" | head -n 1)
    # hvrun --stats: io and total exit counts, and the total line's average
    # time inside Run() and handling an exit (us, two decimals) in ns.
    stats=$(awk '$1 == "io" { printf "io_exits=%s ", $2 }
                 $1 == "total" { printf "total_exits=%s run_avg_ns=%d handle_avg_ns=%d ",
                                 $2, $3 * 1000, $4 * 1000 }' "$log.err")
    # The kernel's own clock (printk time, us) at "Run /init as init
    # process": what the host's time to that line spends before it starts.
    kclock=$(sed -n 's/^\[ *\([0-9]*\)\.\([0-9]\{6\}\)\] Run \/init as init process.*/\1\2/p' "$log" |
      head -n 1 | sed 's/^0*\([0-9]\)/\1/')
    echo "linux_boot: rep=$rep contender=$name $result guest_used_kib=${used:--1} kernel_init_us=${kclock:--1} $stats"
    # The three longest silences between two timestamped kernel lines, by
    # the kernel's clock, with the line that ended each.
    awk 'match($0, /^\[ *[0-9]+\.[0-9]+\]/) {
           t = substr($0, 2, RLENGTH - 2) + 0
           if (seen) printf "%d\t%s\n", (t - last) * 1000000, substr($0, RLENGTH + 2, 70)
           last = t; seen = 1 }' "$log" | sort -rn | head -n 3 |
      while IFS='	' read -r gap text; do
        echo "linux_boot: gap rep=$rep contender=$name us=$gap before='$text'"
      done
    case "$result" in
      *" status=0"*) ;;
      *) echo "linux_boot: $name did not end cleanly; its console (last lines) and stderr:"
         tail -n 15 "$log"; tail -n 15 "$log.err" ;;
    esac
  done
  rep=$((rep + 1))
done
echo "linux_boot: done"
