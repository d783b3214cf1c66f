#!/usr/bin/env python3
"""hvrun's memory overhead and start-up time, as a Markdown report.

  tools/bazel run --config=opt //tools/hvrun:overhead_report
  tools/bazel run --config=opt //tools/hvrun:overhead_report -- --runs=101

For 1 and 8 vCPUs it runs hvrun_bin on two tiny real-mode guests it writes
itself, each with --mem=16M:

- exit: `mov al, 0; out 0xf4, al` (4 bytes). The run's first exit ends it,
  so its wall time (fork to reaped, median of --runs) is hvrun's start-up:
  process start to the guest's one exit, plus the way out. Its peak
  resident memory (ru_maxrss of that child, from wait4) is hvrun's peak.
  Both come from rusage_spawn.c, a small static program: a child's
  ru_maxrss also counts the process it was forked from, which from Python
  would be ~15 MiB.
- spin: `jmp $` (2 bytes), the same layout. While it runs the report reads
  /proc/PID/smaps for where the resident memory is (guest RAM, hvrun's
  binary, shared libraries, heap, thread stacks, kvm_run pages), then ends
  it with SIGTERM. Guest RAM touched is the resident part of the guest-RAM
  memfd there: the payload's page (the exit guest touches only that page
  too).

Overhead = peak RSS - guest RAM touched. A host without a usable /dev/kvm
gets a note saying so, and the exit status is 0 (nothing to measure).
A Linux guest is not measured (see LINUX_NOTE).
"""

import argparse
import os
import re
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

# host_facts.py (tools/host_facts) lies beside this script's folder, in
# the source tree and in Bazel's runfiles alike.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir, "host_facts"))
import host_facts  # noqa: E402

EXIT_GUEST = bytes([0xB0, 0x00, 0xE6, 0xF4])  # mov al, 0; out 0xf4, al
SPIN_GUEST = bytes([0xEB, 0xFE])  # jmp $
EXIT_STATUS_VALUE_0 = 1  # hvrun: debug-exit value v -> (v << 1) | 1

LINUX_NOTE = (
    "Linux guest: not measured. hvrun_linux_boot_test boots Debian's kernel "
    "only inside a QEMU (TCG) VM, whose timing and memory are the emulator's; "
    "on a kvm_pvm host the guest kernel's code is emulated by KVM (hours per "
    "boot). On an SVM/VMX host, `/usr/bin/time -v hvrun_bin --kernel=... "
    "--initrd=...` gives the peak; subtract the guest's touched RAM."
)








def is_static(path):
    """True when the ELF file has no PT_INTERP (no dynamic loader)."""
    with open(path, "rb") as f:
        header = f.read(64)
        if header[:4] != b"\x7fELF" or header[4] != 2:
            return None
        phoff, = struct.unpack_from("<Q", header, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", header, 0x36)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            p_type, = struct.unpack("<I", f.read(4))
            if p_type == 3:  # PT_INTERP
                return False
    return True


def spawn(argv):
    """Starts argv with stdin, stdout and stderr on /dev/null; returns the pid."""
    actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
               (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
    return os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)


def timed_runs(spawner, argv, runs):
    """Runs argv `runs` times through rusage_spawn: (wall ms, maxrss KiB, exits)."""
    out = subprocess.run([spawner, str(runs)] + argv, check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    walls, rss, statuses = [], [], []
    for line in out.splitlines():
        wall_ns, maxrss, code = line.split()
        walls.append(int(wall_ns) / 1e6)
        rss.append(int(maxrss))
        statuses.append(int(code))
    return walls, rss, statuses


def read_smaps(pid):
    """[(name, size KiB, rss KiB, anonymous KiB, perms)] from /proc/PID/smaps."""
    rows = []
    head = re.compile(r"^[0-9a-f]+-[0-9a-f]+ ")
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            if head.match(line):
                parts = line.split(None, 5)
                rows.append([parts[5].strip() if len(parts) > 5 else "", 0, 0, 0, parts[1]])
            elif line.startswith("Size:"):
                rows[-1][1] = int(line.split()[1])
            elif line.startswith("Rss:"):
                rows[-1][2] = int(line.split()[1])
            elif line.startswith("Anonymous:"):
                rows[-1][3] = int(line.split()[1])
    return rows


def thread_count(pid):
    return len(os.listdir("/proc/%d/task" % pid))


def breakdown(binary, spin_path, vcpus, mem):
    """Starts the spin guest and splits its resident memory; None on failure."""
    argv = [binary, "--payload=" + spin_path, "--mem=" + mem, "--vcpus=%d" % vcpus,
            "--timeout=60s"]
    pid = spawn(argv)
    try:
        rows = None
        deadline = time.monotonic() + 20
        # Ready when every vCPU's kvm_run is mapped and the threads are up
        # (main, signal watcher, timeout watchdog and one per vCPU); then
        # a little longer, for the vCPU threads to enter the guest.
        while time.monotonic() < deadline:
            time.sleep(0.05)
            try:
                rows = read_smaps(pid)
                threads = thread_count(pid)
            except (OSError, IndexError):
                return None
            mapped = sum(1 for r in rows if r[0].startswith("anon_inode:kvm-vcpu"))
            if mapped == vcpus and threads >= vcpus + 3:
                time.sleep(0.3)
                rows = read_smaps(pid)
                threads = thread_count(pid)
                break
        else:
            return None
    finally:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    real_binary = os.path.realpath(binary)
    parts = {"guest": 0, "kvm_run": 0, "binary": 0, "libs_file": 0, "libs_anon": 0,
             "heap": 0, "stacks": 0, "other_anon": 0, "other": 0}
    libs = set()
    for name, size, rss, anon, perms in rows:
        if name.startswith("/memfd:hvrun-ram"):
            parts["guest"] += rss
        elif name.startswith("anon_inode:kvm-vcpu"):
            parts["kvm_run"] += rss
        elif name and os.path.realpath(name.split(" (deleted)")[0]) == real_binary:
            parts["binary"] += rss
        elif ".so" in os.path.basename(name):
            libs.add(name)
            parts["libs_file"] += rss - anon
            parts["libs_anon"] += anon
        elif name == "[heap]":
            parts["heap"] += rss
        elif name == "[stack]" or (name == "" and size in (8192, 8196)):
            parts["stacks"] += rss  # the main stack and glibc's 8 MiB thread stacks
        elif name == "":
            parts["other_anon"] += rss
        else:
            parts["other"] += rss  # vdso, vvar
    parts["total"] = sum(r[2] for r in rows)
    # hvrun's own pages, private to this process (anonymous, and the kvm_run
    # pages the kernel shares with it alone); the rest beside guest RAM is
    # file-backed, the page cache every hvrun process maps alike.
    parts["private"] = sum(r[3] for r in rows) + parts["kvm_run"]
    parts["libs"] = len(libs)
    parts["threads"] = threads
    return parts


def mib(kib):
    return "%.2f MiB" % (kib / 1024.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("hvrun", help="hvrun_bin (Bazel passes it)")
    parser.add_argument("rusage_spawn", help="rusage_spawn (Bazel passes it)")
    parser.add_argument("--runs", type=int, default=51, help="runs per start-up median")
    parser.add_argument("--mem", default="16M", help="guest RAM (--mem)")
    parser.add_argument("--vcpus", default="1,8", help="comma-separated vCPU counts")
    args = parser.parse_args()
    binary = os.path.abspath(args.hvrun)
    spawner = os.path.abspath(args.rusage_spawn)

    print("# hvrun memory overhead and start-up\n")
    print("Written by `tools/bazel run --config=opt //tools/hvrun:overhead_report` "
          "(tools/hvrun/overhead_report.py).\n")
    print("- date: %s" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    print("- host: %s, %d CPUs, kernel %s; KVM modules: %s; load average %.2f at the "
          "start (times are only as quiet as the machine)" %
          (host_facts.cpu_model(), os.cpu_count(), host_facts.kernel(),
           host_facts.kvm_modules(),
           os.getloadavg()[0]))
    static = is_static(binary)
    mode = next((m for m in ("opt", "fastbuild", "dbg") if "-%s/" % m in binary), "unknown")
    print("- hvrun_bin: compilation mode %s, %s, %d bytes" %
          (mode, {True: "static", False: "dynamic", None: "not an ELF64 file"}[static],
           os.path.getsize(binary)))
    if mode != "opt":
        print("- **not an opt build**: run with `--config=opt` for the numbers that count")
    usable, why = host_facts.kvm_usable()
    if not usable:
        print("\nNo usable /dev/kvm on this host (%s): nothing measured." % why)
        return 0

    with tempfile.TemporaryDirectory(prefix="hvrun_overhead.") as tmp:
        exit_path = os.path.join(tmp, "exit.bin")
        spin_path = os.path.join(tmp, "spin.bin")
        with open(exit_path, "wb") as f:
            f.write(EXIT_GUEST)
        with open(spin_path, "wb") as f:
            f.write(SPIN_GUEST)
        # Round-robin, one run of each at a time, so that load from other
        # processes on the machine falls on every column alike.
        counts = [int(v) for v in args.vcpus.split(",")]
        commands = {"true": ["/bin/true"]}
        for vcpus in counts:
            commands[vcpus] = [binary, "--payload=" + exit_path, "--mem=" + args.mem,
                               "--vcpus=%d" % vcpus]
        samples = {key: ([], [], []) for key in commands}
        for _ in range(args.runs):
            for key, argv in commands.items():
                walls, rss, statuses = timed_runs(spawner, argv, 1)
                for total, part in zip(samples[key], (walls, rss, statuses)):
                    total.extend(part)
        true_walls, true_rss, _ = samples["true"]
        results = []
        for vcpus in counts:
            walls, rss, statuses = samples[vcpus]
            bad = [s for s in statuses if s != EXIT_STATUS_VALUE_0]
            parts = breakdown(binary, spin_path, vcpus, args.mem)
            results.append((vcpus, walls, rss, bad, parts))

    print("- guests: 4-byte `mov al,0; out 0xf4,al` (its one exit ends the run) for "
          "start-up and peak, 2-byte `jmp $` for the breakdown; `--mem=%s`, "
          "%d runs each, taken in turn with `/bin/true`'s" % (args.mem, args.runs))
    print("- start-up: fork to reaped (process start to the guest's only exit, "
          "and hvrun's way out), by rusage_spawn; `/bin/true` the same way: %.2f ms "
          "median, %d KiB peak RSS (a dynamically linked C program)" %
          (statistics.median(true_walls), statistics.median(true_rss)))
    print()
    print("| vCPUs | peak RSS | guest RAM touched | **overhead** | of it private "
          "(while running) | shared libs loaded | threads | start-up median (min) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for vcpus, walls, rss, bad, parts in results:
        if bad:
            print("| %d | hvrun exited %s (expected %d) | | | | | | |" %
                  (vcpus, sorted(set(bad)), EXIT_STATUS_VALUE_0))
            continue
        peak = statistics.median(rss)
        guest = parts["guest"] if parts else 0
        print("| %d | %s | %s | **%s** | %s | %s | %s | %.2f ms (%.2f) |" %
              (vcpus, mib(peak), "%d KiB" % guest if parts else "?", mib(peak - guest),
               "%d KiB" % parts["private"] if parts else "?",
               parts["libs"] if parts else "?", parts["threads"] if parts else "?",
               statistics.median(walls), min(walls)))
    print()
    print("Where the resident memory is, while the spin guest runs (KiB, /proc/PID/smaps):")
    print()
    print("| vCPUs | total | guest RAM | hvrun binary (file) | shared libs file / anon "
          "| heap | stacks (main + threads) | other anon (bss, TLS, arenas) | kvm_run | other |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for vcpus, _, _, _, parts in results:
        if not parts:
            print("| %d | the spin guest did not come up | | | | | | | | |" % vcpus)
            continue
        print("| %d | %d | %d | %d | %d / %d | %d | %d | %d | %d | %d |" %
              (vcpus, parts["total"], parts["guest"], parts["binary"], parts["libs_file"],
               parts["libs_anon"], parts["heap"], parts["stacks"], parts["other_anon"],
               parts["kvm_run"], parts["other"]))
    print()
    print(LINUX_NOTE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
