#!/usr/bin/env python3
"""The same Linux kernel + initramfs + command line booted by hvrun and by
QEMU (-accel kvm -M pc, and -M microvm), interleaved, in one VM.

Each boot is timed from the fork to the kernel's "Run /init as init
process" line, to the init's first line, to its last line, and to the VMM's
exit (the guest's reboot), with the VMM's CPU time and peak RSS (ru_maxrss)
and the guest RAM it had touched at the init's last line (/proc/PID/smaps),
by boot_timer (boot_timer.c). All contenders run inside tools/vmtest's SVM
VM (linux_boot_vm.sh there): on a kvm_pvm host a guest kernel's code is
emulated and neither VMM gets past the decompressor in minutes. See
README.md, "Linux boot".
"""

import argparse
import datetime
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir, "host_facts"))
import host_facts  # noqa: E402

CONTENDERS = ("hvrun", "qemu-pc", "qemu-microvm")
# What QEMU's pc and microvm machines load for -kernel, found where Debian's
# QEMU looks (its -L folders, in order).
QEMU_FIRMWARE = ("bios-256k.bin", "linuxboot_dma.bin", "kvmvapic.bin", "bios-microvm.bin")
QEMU_DATA_DIRS = ("/usr/share/qemu", "/usr/share/seabios")


def stage(tmp, args, qemu):
    """A folder with everything the VM-side script needs, beside it."""
    d = os.path.join(tmp, "stage")
    os.makedirs(os.path.join(d, "qemu-firmware"))
    for src, name in ((args.driver, "linux_boot_vm.sh"), (args.boot_timer, "boot_timer"),
                      (args.hvrun, "hvrun_bin"), (qemu, "qemu-system-x86_64")):
        shutil.copy(src, os.path.join(d, name))
        os.chmod(os.path.join(d, name), 0o755)
    for name in QEMU_FIRMWARE:
        for data in QEMU_DATA_DIRS:
            if os.path.exists(os.path.join(data, name)):
                shutil.copy(os.path.join(data, name), os.path.join(d, "qemu-firmware", name))
                break
        else:
            raise SystemExit("linux_boot: no %s in %s" % (name, " or ".join(QEMU_DATA_DIRS)))
    return d


def parse(text):
    """(VM facts, [{rep, contender, field: value}], [{rep, contender, us,
    before}]: the longest silences in each boot's kernel log) from the VM's
    console."""
    facts, runs, gaps = {}, [], []
    for line in text.splitlines():
        m = re.match(r"linux_boot: vm (.*)", line)
        if m:
            for k, v in re.findall(r"(\w+)=('[^']*'|\S*)", m.group(1)):
                facts[k] = v.strip("'")
            continue
        m = re.match(r"linux_boot: gap rep=(\d+) contender=(\S+) us=(\d+) before='(.*)'", line)
        if m:
            gaps.append({"rep": int(m.group(1)), "contender": m.group(2),
                         "us": int(m.group(3)), "before": m.group(4).strip()})
            continue
        m = re.match(r"linux_boot: rep=(\d+) contender=(\S+) boot (.*)", line)
        if m:
            run = {"rep": int(m.group(1)), "contender": m.group(2)}
            for k, v in re.findall(r"(\w+)=(-?\d+)", m.group(3)):
                run[k] = int(v)
            runs.append(run)
    return facts, runs, gaps


def _ms(us):
    return "—" if us is None or us < 0 else "%.0f" % (us / 1e3)


def _med(runs, key):
    vals = [r[key] for r in runs if r.get(key, -1) >= 0]
    return statistics.median(vals) if vals else None


def _range(runs, key, scale, fmt):
    vals = [r[key] / scale for r in runs if r.get(key, -1) >= 0]
    if not vals:
        return "—"
    med = statistics.median(vals)
    return (fmt % med) + (" (" + fmt % min(vals) + "–" + fmt % max(vals) + ")"
                          if len(vals) > 1 else "")


def profile(names, ok, gaps):
    """Where the time to `Run /init` goes: before the kernel's own clock
    starts (VMM start-up, firmware, the bzImage's decompressor) and after
    (the kernel's boot by its printk clock); hvrun's exits and their
    handling; each contender's longest silences in the kernel's log."""
    L = ["Where the time to `Run /init` goes (medians over the rounds; the kernel's clock is "
         "its printk time on that line):\n",
         "| contender | host time to `Run /init`, ms | kernel's clock there, ms | before the "
         "kernel's clock starts, ms |", "|---|---:|---:|---:|"]
    for name in names:
        rs = [r for r in ok[name] if r.get("kernel_init_us", -1) >= 0]
        for r in rs:
            r["before_kernel_us"] = r["run_init_us"] - r["kernel_init_us"]
        L.append("| %s | %s | %s | %s |" % (
            name, _range(rs, "run_init_us", 1e3, "%.0f"), _range(rs, "kernel_init_us", 1e3, "%.0f"),
            _range(rs, "before_kernel_us", 1e3, "%.0f")))
    L.append("")
    hv = [r for r in ok.get("hvrun", []) if r.get("total_exits", -1) >= 0]
    if hv:
        for r in hv:
            r["in_run_us"] = r["total_exits"] * r["run_avg_ns"] / 1e3
            r["handling_us"] = r["total_exits"] * r["handle_avg_ns"] / 1e3
        L.append("hvrun's exits per boot (its `--stats`, to the guest's reboot): %s, of which "
                 "port I/O %s; time inside Run(), all vCPUs together, %s ms; time handling exits %s ms (%s µs an "
                 "exit).\n" % (_range(hv, "total_exits", 1, "%.0f"), _range(hv, "io_exits", 1, "%.0f"),
                               _range(hv, "in_run_us", 1e3, "%.0f"),
                               _range(hv, "handling_us", 1e3, "%.0f"),
                               _range(hv, "handle_avg_ns", 1e3, "%.2f")))
    rounds = {n: len(ok[n]) for n in names}
    for name in names:
        by_text = {}
        good = {r["rep"] for r in ok[name]}
        for g in gaps:
            if g["contender"] == name and g["rep"] in good:
                by_text.setdefault(re.sub(r"\d+", "#", g["before"])[:60], []).append(g)
        if not by_text:
            continue
        top = sorted(by_text.values(), key=lambda gs: -statistics.median(x["us"] for x in gs))[:3]
        L.append("%s's longest silences in the kernel's log (the line that ended each; median "
                 "ms, in how many of %d rounds it was among the three longest): %s.\n" % (
                     name, rounds[name], "; ".join(
                         "`%s` %.0f ms (%d)" % (gs[0]["before"].replace("`", "'"),
                                                statistics.median(x["us"] for x in gs) / 1e3,
                                                len(gs)) for gs in top)))
    return L


def report(args, facts, runs, gaps, names, host, load_before, load_after, qemu_version):
    L = ["## Linux boot: hvrun vs QEMU (`//tools/vs_qemu:linux_boot`)\n"]
    # The options that shape the run (not the binaries BUILD passes, nor outputs).
    shaping = [a for a in sys.argv[1:] if not a.startswith(
        ("--hvrun=", "--boot_timer=", "--driver=", "--run_in_vm=", "--out=", "--console="))]
    L.append("Measured %s UTC with `tools/bazel run --config=opt //tools/vs_qemu:linux_boot%s`."
             % (datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
                (" -- " + " ".join(shaping)) if shaping else ""))
    L.append("")
    L.append("- Where: inside tools/vmtest's x86_64 VM (QEMU TCG `-cpu max`, 1 vCPU, guest "
             "kernel `%s`, its KVM `%s`: a standard SVM KVM) on the host `%s` (KVM: %s, %s). "
             "Every contender ran there, one after another: on a kvm_pvm host the guest "
             "kernel's code is emulated instruction by instruction, and neither hvrun nor "
             "QEMU gets past the bzImage decompressor in minutes, so times are of this "
             "nested, emulated machine, not of hardware." %
             (facts.get("kernel", "?"), facts.get("kvm", "?"), host["kernel"], host["kvm"],
              host["cpu"]))
    L.append("- Guest: the VM's own Debian cloud kernel (bzImage, %s bytes), an initramfs of "
             "busybox-static and an /init (%s bytes), `%s`, %d MiB, %d vCPUs. The /init "
             "prints `hv-init: first line`, mounts /proc, prints the kernel's MemTotal - "
             "MemFree and `hv-init: end`, sleeps 1 s (for the UART) and reboots (`reboot -f`, "
             "8042)." % (facts.get("guest_kernel_bytes", "?"), facts.get("initrd_bytes", "?"),
                         facts.get("cmdline", "?"), args.mem, args.vcpus))
    L.append("- Contenders: `hvrun --kernel --initrd --cmdline --mem --vcpus --stats` "
             "(--config=opt); `%s -accel kvm -M pc|microvm -smp %d -m %dM -nodefaults "
             "-no-user-config -display none -monitor none -serial stdio -no-reboot -kernel "
             "-initrd -append` (`-accel kvm` has no fallback: QEMU refuses to start without "
             "KVM)." % (qemu_version, args.vcpus, args.mem))
    L.append("- %d round(s), contenders interleaved, the order rotated each round, no warm-up "
             "round. Host load average (1 min) before and after: %.2f and %.2f.%s"
             % (args.reps, load_before[0], load_after[0],
                (" " + args.note) if args.note else ""))
    L.append("- Times are from the fork to the line's arrival on the VMM's stdout pipe; "
             "\"exit\" is to `wait4()` returning (it includes the 1 s sleep, the reboot and "
             "teardown). CPU is the process's user + system time (all threads; the guest's "
             "time in KVM_RUN is system time). Overhead = peak RSS (ru_maxrss) - the resident "
             "size of the guest-RAM mapping(s) (those of at least the guest's RAM size in "
             "/proc/PID/smaps), read when `hv-init: end` arrived.")
    L.append("")
    L.append("Medians (min–max) over the rounds:\n")
    L.append("| contender | to `Run /init`, ms | to init's first line, ms | to init's end, ms "
             "| to exit, ms | CPU, ms | peak RSS, MiB | guest RAM touched, MiB | overhead, MiB "
             "| guest's MemTotal-MemFree, MiB | port I/O exits |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in names:
        rs = [r for r in runs if r["contender"] == name and r.get("status") == 0]
        for r in rs:
            if r.get("maxrss_kib", -1) >= 0 and r.get("guest_rss_kib", -1) >= 0:
                r["overhead_kib"] = r["maxrss_kib"] - r["guest_rss_kib"]
        L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, _range(rs, "run_init_us", 1e3, "%.0f"), _range(rs, "first_us", 1e3, "%.0f"),
            _range(rs, "end_us", 1e3, "%.0f"), _range(rs, "exit_us", 1e3, "%.0f"),
            _range(rs, "cpu_us", 1e3, "%.0f"), _range(rs, "maxrss_kib", 1024, "%.1f"),
            _range(rs, "guest_rss_kib", 1024, "%.1f"), _range(rs, "overhead_kib", 1024, "%.1f"),
            _range(rs, "guest_used_kib", 1024, "%.1f"),
            _range(rs, "io_exits", 1, "%.0f") if name == "hvrun" else "—"))
    L.append("")
    failed = [r for r in runs if r.get("status") != 0]
    if failed:
        L.append("Runs that did not end cleanly (left out above): " + "; ".join(
            "%s round %d: status %s%s" % (r["contender"], r["rep"], r.get("status"),
                                          ", timed out" if r.get("timed_out") else "")
            for r in failed) + ".\n")
    ok = {n: [r for r in runs if r["contender"] == n and r.get("status") == 0] for n in names}
    L.extend(profile(names, ok, gaps))
    if "hvrun" in names and ok["hvrun"]:
        hv = _med(ok["hvrun"], "first_us")
        verdicts = []
        for n in names:
            if n == "hvrun" or not ok[n]:
                continue
            q = _med(ok[n], "first_us")
            if hv is not None and q is not None:
                verdicts.append("%s %s ms vs hvrun %s ms: hv %s" % (
                    n, _ms(q), _ms(hv), "faster" if hv < q else "**not faster**"))
        if verdicts:
            L.append("Start to the init's first line (medians): " + "; ".join(verdicts) + ".\n")
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hvrun", required=True)
    ap.add_argument("--boot_timer", required=True)
    ap.add_argument("--driver", required=True, help="linux_boot_vm.sh")
    ap.add_argument("--run_in_vm", required=True, help="tools/vmtest/run_in_vm.sh")
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1 round")
    ap.add_argument("--contenders", default="hvrun,qemu-pc",
                    help="of %s (default %%(default)s; README.md says why microvm is "
                    "not in it)" % ",".join(CONTENDERS))
    ap.add_argument("--mem", type=int, default=256, help="guest MiB (default %(default)s)")
    ap.add_argument("--vcpus", type=int, default=2)
    ap.add_argument("--note", default="")
    ap.add_argument("--out", help="also write the Markdown section here")
    ap.add_argument("--console", help="also keep the VM's console log here")
    args = ap.parse_args()
    if args.quick:
        args.reps = 1
    names = [n for n in args.contenders.split(",") if n]
    for n in names:
        if n not in CONTENDERS:
            ap.error("unknown contender %r" % n)
    qemu = shutil.which(args.qemu)
    if qemu is None:
        print("linux_boot: no %s" % args.qemu, file=sys.stderr)
        return 1
    version = subprocess.run([qemu, "--version"], stdout=subprocess.PIPE,
                             universal_newlines=True).stdout.splitlines()[0]
    host = {"kernel": host_facts.kernel(), "kvm": host_facts.kvm_modules(),
            "cpu": "%s, %d CPUs" % (host_facts.cpu_model(), os.cpu_count() or 0)}
    tmp = tempfile.mkdtemp(prefix="linux_boot.")
    try:
        d = stage(tmp, args, qemu)
        env = dict(os.environ)
        for k in ("TEST_SRCDIR", "RUNFILES_DIR", "RUNFILES_MANIFEST_FILE", "TEST_TMPDIR"):
            env.pop(k, None)
        env["RUNFILES_DIR"] = d  # run_in_vm.sh copies this folder into the VM
        env["HV_VMTEST_SHARE_KERNEL"] = "1"
        env.setdefault("HV_VMTEST_MEM", str(max(1024, 4 * args.mem + 512)))
        env.setdefault("HV_VMTEST_TIMEOUT", str(120 + 240 * args.reps * len(names)))
        load_before = os.getloadavg()
        proc = subprocess.Popen([args.run_in_vm, "x86_64", os.path.join(d, "linux_boot_vm.sh"),
                                 str(args.reps), ",".join(names), str(args.mem),
                                 str(args.vcpus)], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, env=env, universal_newlines=True,
                                errors="replace", bufsize=1)
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("linux_boot:") or line.startswith("vmtest"):
                sys.stderr.write(line)
        rc = proc.wait()
        load_after = os.getloadavg()
        text = "".join(lines)
        if args.console:
            with open(args.console, "w") as f:
                f.write(text)
        facts, runs, gaps = parse(text)
        complete = rc == 0 and "linux_boot: done" in text
        if not complete:
            sys.stderr.write(text[-4000:])
            print("linux_boot: the VM run failed (exit %d)" % rc, file=sys.stderr)
            if not runs:
                return 1
        out = report(args, facts, runs, gaps, names, host, load_before, load_after, version)
        if not complete:
            # The boots that finished still say something; say what is missing.
            out += ("**Incomplete:** the VM run ended early (run_in_vm.sh exit %d) after "
                    "%d of %d boots.\n" % (rc, len(runs), args.reps * len(names)))
        sys.stdout.write(out)
        if args.out:
            with open(args.out, "w") as f:
                f.write(out)
        return 0 if complete and all(r.get("status") == 0 for r in runs) else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
