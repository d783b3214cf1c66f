#!/usr/bin/env python3
"""hvrun against QEMU and a raw KVM loop, side by side, in one run.

The same 64 KiB real-mode guest image runs under each contender:
  hvrun        hvrun --payload IMAGE --load_addr=0xf0000 --entry=0xffff0 --mem=1M
  raw          raw_kvm_loop (this folder): KVM ioctls only, no VMM
  qemu-pc      qemu-system-x86_64 -accel kvm -M pc -bios IMAGE
  qemu-microvm qemu-system-x86_64 -accel kvm -M microvm -bios IMAGE
The guest takes N exits of one kind (PIO writes to an unbacked port, or MMIO
writes to an unbacked address), reports its loop count on the serial port and
ends through the debug-exit port 0xf4. Every process is timed from start to
exit; a least-squares fit of time against N per contender and exit kind gives
the cost per exit (slope) and the start-up (intercept). See README.md.
"""

import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# host_facts.py (tools/host_facts) lies beside this script's folder, in
# the source tree and in Bazel's runfiles alike.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir, "host_facts"))
import host_facts  # noqa: E402

# ---------------------------------------------------------------------------
# The guest image.
#
# 64 KiB laid out like a PC BIOS: QEMU maps the -bios file below 4 GiB and its
# last 64 KiB at 0xf0000, and the CPU starts at F000:FFF0 (image offset
# 0xfff0). hvrun and raw_kvm_loop load the same bytes at 0xf0000 and start at
# 0xf000:0xfff0 (CS base 0xf0000). The reset vector far-jumps to F000:0010,
# so from the first instruction of the loop on every contender runs the same
# code with CS base 0xf0000 and DS = ES = 0 as after reset.
#
# Image offsets:
#   0x0000  "HVQB"          magic
#   0x0004  dword N         exits to take (patched per run)
#   0x0008  byte kind       0: PIO writes to port 0x500, 1: MMIO writes to 0x100000
#   0x0010  code
#   0xfff0  jmp far F000:0010
#
# 0x100000 (FFFF:0010, reached in real mode without A20 masking, which KVM
# does not apply) is past every contender's RAM: all get exactly 1 MiB
# (QEMU -m 1M), so the write is an MMIO exit to user space everywhere.
# Port 0x500 is unassigned in QEMU's pc and microvm machines and in hvrun.
# After the loop the guest writes "exits=XXXXXXXX\n" (its loop count in hex,
# 15 PIO exits to 0x3f8) and then 0x20|kind to port 0xf4, so the process
# exit status is ((0x20|kind) << 1) | 1: 65 for PIO, 67 for MMIO.
# ---------------------------------------------------------------------------

IMAGE_SIZE = 0x10000

# `taskset -c CPU` before every contender's command line when --pin is
# given: all its threads then run on that one CPU, so no contender pays for
# migrations between CPUs (a vCPU that moves costs KVM a vcpu_load on the
# new CPU) and each shares the same core with nothing of ours.
PIN_PREFIX = []
LOAD_ADDR = 0xF0000
ENTRY = 0xFFFF0
MEM = 0x100000  # 1 MiB for every contender
N_OFFSET = 0x0004
KIND_OFFSET = 0x0008
CODE_OFFSET = 0x0010
RESET_OFFSET = 0xFFF0
BENCH_PORT = 0x0500
MMIO_ADDR = 0x100000
KINDS = ("pio", "mmio")
SERIAL_BYTES = len("exits=00000000\n")


def _label(name):
    return ("label", name)


def _jcc(opcode, name):
    return ("jump", opcode, name)


def _assemble(items, base):
    """Bytes from `items`: bytes objects, labels and 2-byte rel8 jumps."""
    labels, pos = {}, base
    for it in items:
        if isinstance(it, tuple) and it[0] == "label":
            labels[it[1]] = pos
        else:
            pos += 2 if isinstance(it, tuple) else len(it)
    out, pos = bytearray(), base
    for it in items:
        if isinstance(it, tuple) and it[0] == "label":
            continue
        if isinstance(it, tuple):
            rel = labels[it[2]] - (pos + 2)
            if not -128 <= rel <= 127:
                raise ValueError("jump to %s out of rel8 range" % it[2])
            out += bytes([it[1], rel & 0xFF])
            pos += 2
        else:
            out += it
            pos += len(it)
    return bytes(out)


def _le16(v):
    return v.to_bytes(2, "little")


JNZ, JZ, JB, JMP = 0x75, 0x74, 0x72, 0xEB

# 16-bit real-mode code; every instruction is written out by hand
# (objdump -D -b binary -mi8086 --start-address=0x10 shows it).
_CODE = [
    b"\xfa",                                        # cli
    b"\x2e\x66\x8b\x0e" + _le16(N_OFFSET),          # mov ecx, cs:[N]
    b"\x66\x31\xf6",                                # xor esi, esi   (loop count)
    b"\xba" + _le16(BENCH_PORT),                    # mov dx, BENCH_PORT
    b"\xb8\xff\xff",                                # mov ax, 0xffff
    b"\x8e\xc0",                                    # mov es, ax
    b"\xbf" + _le16(MMIO_ADDR - 0xFFFF0),           # mov di, 0x10  (es:di = 0x100000)
    b"\x66\x85\xc9",                                # test ecx, ecx
    _jcc(JZ, "done"),                               # jz done
    b"\x2e\x80\x3e" + _le16(KIND_OFFSET) + b"\x00",  # cmp byte cs:[kind], 0
    _jcc(JNZ, "mmio"),                              # jnz mmio
    _label("pio"),
    b"\xee",                                        # out dx, al
    b"\x66\x46",                                    # inc esi
    b"\x66\x49",                                    # dec ecx
    _jcc(JNZ, "pio"),                               # jnz pio
    _jcc(JMP, "done"),                              # jmp done
    _label("mmio"),
    b"\x26\x88\x05",                                # mov es:[di], al
    b"\x66\x46",                                    # inc esi
    b"\x66\x49",                                    # dec ecx
    _jcc(JNZ, "mmio"),                              # jnz mmio
    _label("done"),
    b"\xba" + _le16(0x3F8),                         # mov dx, 0x3f8
]
for _ch in b"exits=":
    _CODE.append(b"\xb0" + bytes([_ch]))            # mov al, ch
    _CODE.append(b"\xee")                           # out dx, al
_CODE += [
    b"\xb9\x08\x00",                                # mov cx, 8
    _label("hex"),
    b"\x66\xc1\xc6\x04",                            # rol esi, 4
    b"\x89\xf0",                                    # mov ax, si
    b"\x24\x0f",                                    # and al, 0x0f
    b"\x3c\x0a",                                    # cmp al, 10
    _jcc(JB, "digit"),                              # jb digit
    b"\x04\x27",                                    # add al, 'a' - '0' - 10
    _label("digit"),
    b"\x04\x30",                                    # add al, '0'
    b"\xee",                                        # out dx, al
    _jcc(0xE2, "hex"),                              # loop hex
    b"\xb0\x0a",                                    # mov al, '\n'
    b"\xee",                                        # out dx, al
    b"\x2e\xa0" + _le16(KIND_OFFSET),               # mov al, cs:[kind]
    b"\x0c\x20",                                    # or al, 0x20
    b"\xe6\xf4",                                    # out 0xf4, al
    _label("halt"),
    b"\xf4",                                        # hlt
    _jcc(JMP, "halt"),                              # jmp halt
]


def build_image(n, kind):
    """The guest image taking `n` exits of `kind` ("pio" or "mmio")."""
    if not 0 <= n <= 0xFFFFFFFF:
        raise ValueError("N must fit in 32 bits")
    img = bytearray(b"\xf4" * IMAGE_SIZE)  # hlt everywhere else
    img[0:4] = b"HVQB"
    img[N_OFFSET:N_OFFSET + 4] = n.to_bytes(4, "little")
    img[KIND_OFFSET] = KINDS.index(kind)
    code = _assemble(_CODE, CODE_OFFSET)
    img[CODE_OFFSET:CODE_OFFSET + len(code)] = code
    # jmp far F000:0010
    img[RESET_OFFSET:RESET_OFFSET + 5] = b"\xea" + _le16(CODE_OFFSET) + _le16(0xF000)
    return bytes(img)


def expected_status(kind):
    return (((0x20 | KINDS.index(kind)) << 1) | 1) & 0xFF


def expected_serial(n):
    return "exits=%08x" % n


# Exits every contender sees besides the N benchmark ones: the serial line
# and the debug exit, all PIO.
FIXED_PIO_EXITS = SERIAL_BYTES + 1

# ---------------------------------------------------------------------------
# Contenders.
# ---------------------------------------------------------------------------


class Contender:
    def __init__(self, name, describe):
        self.name = name
        self.describe = describe

    def command(self, image):
        raise NotImplementedError

    def check(self, n, kind, proc):
        """Raises if the finished process did not take n exits of kind."""
        out = proc.stdout.decode(errors="replace")
        err = proc.stderr.decode(errors="replace")
        if proc.returncode != expected_status(kind):
            raise CheckFailed(self, n, kind, "exit status %d, expected %d" %
                              (proc.returncode, expected_status(kind)), out, err)
        if expected_serial(n) not in out:
            raise CheckFailed(self, n, kind, "serial output lacks %r" %
                              expected_serial(n), out, err)
        if getattr(proc, "guest_end_us", 0) is None:
            raise CheckFailed(self, n, kind, "the serial line never ended with a newline",
                              out, err)
        self.check_counts(n, kind, out, err)

    def check_counts(self, n, kind, out, err):
        pass


class CheckFailed(Exception):
    def __init__(self, contender, n, kind, why, out, err):
        super().__init__("%s, %s, N=%d: %s\n--- stdout:\n%s\n--- stderr:\n%s" %
                         (contender.name, kind, n, why, out[-2000:], err[-2000:]))


def _expect_counts(contender, n, kind, io, mmio, out, err):
    want_io = FIXED_PIO_EXITS + (n if kind == "pio" else 0)
    want_mmio = n if kind == "mmio" else 0
    if io != want_io or mmio != want_mmio:
        raise CheckFailed(contender, n, kind,
                          "counted io=%s mmio=%s exits, expected io=%d mmio=%d" %
                          (io, mmio, want_io, want_mmio), out, err)


class Hvrun(Contender):
    """Timed runs are plain hvrun; the untimed check adds --stats (its exit
    counts), which times every exit, as QEMU's check adds its trace."""

    def __init__(self, path):
        super().__init__("hvrun", "hvrun --payload (hv, --config=opt)")
        self.path = path
        self.stats = False

    def command(self, image):
        cmd = [self.path, "--payload=" + image, "--load_addr=%#x" % LOAD_ADDR,
               "--entry=%#x" % ENTRY, "--mem=1M"]
        return cmd + ["--stats"] if self.stats else cmd

    def check_counted(self, n, kind, image):
        """One untimed run with --stats: its io/mmio counts must be exact."""
        self.stats = True
        try:
            self.check(n, kind, run_timed(self, image, n))
        finally:
            self.stats = False

    def check_counts(self, n, kind, out, err):
        if not self.stats:
            return
        counts = {}
        for line in err.splitlines():
            m = re.match(r"^(\S+)\s+(\d+)\s+[\d.]+%", line)
            if m:
                counts[m.group(1)] = int(m.group(2))
        io = counts.get("io", 0)
        mmio = counts.get("mmio", 0)
        if not counts:
            raise CheckFailed(self, n, kind, "no --stats table on stderr", out, err)
        _expect_counts(self, n, kind, io, mmio, out, err)


class Raw(Contender):
    def __init__(self, path):
        super().__init__("raw", "raw_kvm_loop (KVM ioctls only, no VMM)")
        self.path = path

    def command(self, image):
        return [self.path, image, "%#x" % LOAD_ADDR, "%#x" % ENTRY, "%#x" % MEM]

    def check_counts(self, n, kind, out, err):
        m = re.search(r"raw_kvm_loop: io=(\d+) io_other=(\d+) mmio=(\d+) other=(\d+)", err)
        if not m:
            raise CheckFailed(self, n, kind, "no exit counts on stderr", out, err)
        # The debug exit itself is counted too.
        _expect_counts(self, n, kind, int(m.group(1)), int(m.group(3)), out, err)


class Qemu(Contender):
    def __init__(self, path, machine):
        super().__init__("qemu-" + machine, "qemu-system-x86_64 -accel kvm -M " + machine)
        self.path = path
        self.machine = machine

    def command(self, image, trace_file=None):
        cmd = [self.path, "-accel", "kvm", "-M", self.machine,
               "-smp", "1", "-m", "1M", "-nodefaults", "-no-user-config",
               "-display", "none", "-monitor", "none", "-serial", "stdio",
               "-bios", image, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
        if trace_file:
            cmd += ["-trace", "kvm_run_exit", "-D", trace_file]
        return cmd

    def check_traced(self, n, kind, image, tmpdir):
        """One untimed run with QEMU's kvm_run_exit trace: counts the exits
        KVM returned to QEMU (which exist only under KVM, so also proves it
        was not TCG)."""
        trace = os.path.join(tmpdir, "trace-%s-%s.log" % (self.machine, kind))
        proc = subprocess.run(PIN_PREFIX + self.command(image, trace), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=300)
        self.check(n, kind, proc)
        io = mmio = other = 0
        with open(trace, errors="replace") as f:
            for line in f:
                m = re.search(r"kvm_run_exit.*reason (\d+)", line)
                if not m:
                    continue
                reason = int(m.group(1))
                if reason == 2:
                    io += 1
                elif reason == 6:
                    mmio += 1
                else:
                    other += 1
        if io == 0 and mmio == 0:
            raise CheckFailed(self, n, kind,
                              "QEMU's kvm_run_exit trace is empty: no KVM exits seen "
                              "(trace backend missing, or not KVM)",
                              proc.stdout.decode(errors="replace"),
                              proc.stderr.decode(errors="replace"))
        _expect_counts(self, n, kind, io, mmio, proc.stdout.decode(errors="replace"),
                       proc.stderr.decode(errors="replace"))
        return io, mmio, other


class Finished:
    """A finished process: what subprocess.run returns, plus the three measures."""

    def __init__(self, returncode, stdout, stderr, guest_end_us, exit_us, cpu_us):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.guest_end_us = guest_end_us  # start to the guest's serial line
        self.exit_us = exit_us            # start to the process's exit
        self.cpu_us = cpu_us              # its user + system CPU time, all threads


def run_timed(contender, image, n):
    """Runs contender on image; times, from just before the fork, (1) the
    arrival of the guest's final serial line "exits=...\n" on our end of the
    stdout pipe (the guest's end: it writes 0xf4 right after) and (2) the
    process's exit (wait4() returning), and takes (3) the process's CPU time
    (user + system, all threads; KVM_RUN's time in the kernel is system
    time) from wait4()'s rusage. (3) hardly moves when other work competes
    for the CPUs; (1) and (2) do."""
    cmd = PIN_PREFIX + contender.command(image)
    want = (expected_serial(n) + "\n").encode()
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter_ns()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        out = bytearray()
        guest_end = None
        fd = proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            out += chunk
            if guest_end is None and want in out:
                guest_end = time.perf_counter_ns()
        proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)
        end = time.perf_counter_ns()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read()
    return Finished(proc.returncode, bytes(out), stderr,
                    None if guest_end is None else (guest_end - start) / 1e3,
                    (end - start) / 1e3, (usage.ru_utime + usage.ru_stime) * 1e6)


# ---------------------------------------------------------------------------
# Fitting and reporting.
# ---------------------------------------------------------------------------


def fit(points):
    """Least squares t = a + b n over (n, t): (b, a, stderr of b, r^2)."""
    k = len(points)
    mx = sum(p[0] for p in points) / k
    my = sum(p[1] for p in points) / k
    sxx = sum((p[0] - mx) ** 2 for p in points)
    sxy = sum((p[0] - mx) * (p[1] - my) for p in points)
    b = sxy / sxx
    a = my - b * mx
    res = sum((p[1] - a - b * p[0]) ** 2 for p in points)
    syy = sum((p[1] - my) ** 2 for p in points)
    se = (res / (k - 2) / sxx) ** 0.5 if k > 2 else float("nan")
    r2 = 1 - res / syy if syy > 0 else float("nan")
    return b, a, se, r2


def read_first_line(path):
    try:
        with open(path) as f:
            return f.readline().strip()
    except OSError:
        return None


def host_info(qemu):
    info = {}
    info["kernel"] = host_facts.kernel()
    info["kvm"] = host_facts.kvm_modules()
    info["cpu"] = "%s, %d CPUs" % (host_facts.cpu_model(), os.cpu_count() or 0)
    v = subprocess.run([qemu, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    info["qemu"] = v.stdout.decode(errors="replace").splitlines()[0] if v.stdout else "?"
    return info




def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hvrun", required=True, help="hvrun binary (hvrun_bin)")
    ap.add_argument("--raw", required=True, help="raw_kvm_loop binary")
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--n", default="0,12500,25000,50000",
                    help="comma-separated exit counts (default %(default)s)")
    ap.add_argument("--reps", type=int, default=15, help="repetitions (default %(default)s)")
    ap.add_argument("--quick", action="store_true",
                    help="N=0,2000, 1 repetition: proves it runs and checks exit counts")
    ap.add_argument("--kinds", default="pio,mmio")
    ap.add_argument("--pin", type=int, default=None, metavar="CPU",
                    help="run every contender (all its threads) on this one CPU, "
                         "under taskset -c CPU")
    ap.add_argument("--contenders", default="raw,hvrun,qemu-pc,qemu-microvm")
    ap.add_argument("--note", default="", help="a sentence about the machine's state, "
                    "added to the report (e.g. another build running)")
    ap.add_argument("--out", help="also write the Markdown section to this file")
    ap.add_argument("--dump_image", help="write the N=--n[0] image of the first kind here and stop")
    args = ap.parse_args()

    global PIN_PREFIX
    if args.pin is not None:
        taskset = shutil.which("taskset")
        if taskset is None:
            ap.error("--pin needs taskset (util-linux)")
        if args.pin < 0 or args.pin >= (os.cpu_count() or 1):
            ap.error("--pin %d: this host has CPUs 0-%d" % (args.pin, (os.cpu_count() or 1) - 1))
        PIN_PREFIX = [taskset, "-c", str(args.pin)]
    if args.quick:
        args.n, args.reps = "0,2000", 1
    ns = sorted({int(x) for x in args.n.split(",") if x.strip()})
    kinds = [k for k in args.kinds.split(",") if k]
    for k in kinds:
        if k not in KINDS:
            ap.error("unknown kind %r" % k)
    if args.dump_image:
        with open(args.dump_image, "wb") as f:
            f.write(build_image(ns[0], kinds[0]))
        return 0
    if len(ns) < 2:
        ap.error("need at least two N values to fit a line")

    usable, why = host_facts.kvm_usable()
    if not usable:
        print("vs_qemu: this host has no usable /dev/kvm (%s); nothing measured. "
              "Run it on a host with KVM." % why)
        return 0
    if platform.machine() != "x86_64":
        print("vs_qemu: the guest is x86 real-mode code; this host is %s; nothing measured."
              % platform.machine())
        return 0
    qemu = shutil.which(args.qemu)
    if qemu is None:
        print("vs_qemu: %s not found (tools/bazel installs qemu-system-x86); "
              "cannot compare." % args.qemu, file=sys.stderr)
        return 1

    all_contenders = {
        "raw": Raw(os.path.abspath(args.raw)),
        "hvrun": Hvrun(os.path.abspath(args.hvrun)),
        "qemu-pc": Qemu(qemu, "pc"),
        "qemu-microvm": Qemu(qemu, "microvm"),
    }
    names = [c for c in args.contenders.split(",") if c]
    for c in names:
        if c not in all_contenders:
            ap.error("unknown contender %r" % c)
    contenders = [all_contenders[c] for c in names]

    info = host_info(qemu)
    load_before = os.getloadavg()
    tmpdir = tempfile.mkdtemp(prefix="vs_qemu.")
    try:
        images = {}
        for kind in kinds:
            for n in ns:
                path = os.path.join(tmpdir, "guest-%s-%d.bin" % (kind, n))
                with open(path, "wb") as f:
                    f.write(build_image(n, kind))
                images[(kind, n)] = path

        # 1. Untimed checks: every contender once per kind at the largest N,
        #    with QEMU's exits counted by its kvm_run_exit trace.
        n_check = ns[-1]
        traced = {}
        for c in contenders:
            for kind in kinds:
                if isinstance(c, Qemu):
                    traced[(c.name, kind)] = c.check_traced(n_check, kind,
                                                            images[(kind, n_check)], tmpdir)
                elif isinstance(c, Hvrun):
                    c.check_counted(n_check, kind, images[(kind, n_check)])
                else:
                    c.check(n_check, kind, run_timed(c, images[(kind, n_check)], n_check))
        print("vs_qemu: exit counts checked at N=%d for %s" % (n_check, ", ".join(names)),
              file=sys.stderr)

        # 2. Timed runs, interleaved: each repetition goes round all
        #    (N, kind, contender) once, contenders innermost, the order
        #    rotated every repetition. One warm-up round first, thrown away.
        samples = {(c.name, kind): [] for c in contenders for kind in kinds}
        exit_samples = {(c.name, kind): [] for c in contenders for kind in kinds}
        cpu_samples = {(c.name, kind): [] for c in contenders for kind in kinds}
        combos = [(n, kind) for n in ns for kind in kinds]
        t0 = time.monotonic()
        for rep in range(-1, args.reps):
            for i, (n, kind) in enumerate(combos):
                order = contenders[(rep + i) % len(contenders):] + \
                    contenders[:(rep + i) % len(contenders)]
                for c in order:
                    proc = run_timed(c, images[(kind, n)], n)
                    c.check(n, kind, proc)
                    if rep >= 0:
                        samples[(c.name, kind)].append((n, proc.guest_end_us))
                        exit_samples[(c.name, kind)].append((n, proc.exit_us))
                        cpu_samples[(c.name, kind)].append((n, proc.cpu_us))
            print("vs_qemu: repetition %d/%d done (%.0f s)" %
                  (rep + 1, args.reps, time.monotonic() - t0), file=sys.stderr)
        load_after = os.getloadavg()

        report = format_report(info, contenders, kinds, ns, args.reps, samples, exit_samples,
                               cpu_samples, traced, n_check, load_before, load_after, args.quick,
                               args.note)
        sys.stdout.write(report)
        if args.out:
            with open(args.out, "w") as f:
                f.write(report)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return 0


def _fmt_se(se):
    return "n/a" if se != se else "%.2f" % se  # NaN with two points


def median_points(points):
    """(n, median t at n) for each n in points."""
    by_n = {}
    for n, t in points:
        by_n.setdefault(n, []).append(t)
    return [(n, statistics.median(ts)) for n, ts in sorted(by_n.items())]


def _fit_table(L, contenders, kinds, ns, samples, what):
    """Appends one table; returns {key: (all-runs fit, per-N-medians fit)}."""
    fits = {key: (fit(pts), fit(median_points(pts))) for key, pts in samples.items()}
    L.append("| exit | contender | µs/exit, all runs (± s.e.) | added over raw | µs/exit, "
             "per-N medians | added over raw | %s, all runs, ms | %s, per-N medians, ms | "
             "median at N=%d, ms | r², all runs |" % (what, what, ns[0]))
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind in kinds:
        raw = fits.get(("raw", kind))
        for c in contenders:
            (b, a, se, r2), (mb, ma, _, _) = fits[(c.name, kind)]
            if c.name == "raw" or raw is None:
                added = madded = "—"
            else:
                added = "%+.2f" % (b - raw[0][0])
                madded = "%+.2f" % (mb - raw[1][0])
            med0 = statistics.median(t for n, t in samples[(c.name, kind)] if n == ns[0])
            L.append("| %s | %s | %.2f ± %s | %s | %.2f | %s | %.2f | %.2f | %.2f | %.4f |" %
                     (kind, c.name, b, _fmt_se(se), added, mb, madded, a / 1e3, ma / 1e3,
                      med0 / 1e3, r2))
    L.append("")
    return fits


def format_report(info, contenders, kinds, ns, reps, samples, exit_samples, cpu_samples, traced,
                  n_check, load_before, load_after, quick, note):
    L = []
    L.append("## hvrun vs QEMU vs raw KVM: one guest, one run (`//tools/vs_qemu`)\n")
    flags = (["--quick"] if quick else []) + \
        (["--pin=%s" % PIN_PREFIX[-1]] if PIN_PREFIX else [])
    L.append("Measured %s UTC with `tools/bazel run --config=opt //tools/vs_qemu%s`.\n" %
             (datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
              (" -- " + " ".join(flags)) if flags else ""))
    L.append("- Host: kernel `%s`, KVM module: **%s**, %s." %
             (info["kernel"], info["kvm"], info["cpu"]))
    L.append("- QEMU: `%s`, run as `-accel kvm -M pc|microvm -m 1M -nodefaults "
             "-bios IMAGE -device isa-debug-exit,iobase=0xf4,iosize=0x04 -serial stdio`."
             % info["qemu"])
    L.append("- Guest: one 64 KiB real-mode image in BIOS layout, entered at F000:FFF0. "
             "Every contender gets the same bytes; only N differs between runs. "
             "Each contender has 1 MiB of RAM. PIO: `out` to port %#x. MMIO: a byte write "
             "to %#x, which no contender backs." % (BENCH_PORT, MMIO_ADDR))
    L.append("- N = %s, with %d repetition(s) of each (contender, kind, N). The runs are "
             "interleaved round-robin, after one warm-up round that is thrown away."
             % (", ".join(str(n) for n in ns), reps))
    L.append("- Load average (1 min) before and after: %.2f and %.2f.%s" %
             (load_before[0], load_after[0], (" " + note) if note else ""))
    if PIN_PREFIX:
        L.append("- Every contender ran pinned to CPU %s (`taskset -c %s`: all its "
                 "threads on that one CPU)." % (PIN_PREFIX[-1], PIN_PREFIX[-1]))
    checks = ["hvrun by its `--stats` io/mmio counts in one extra untimed run per kind at "
              "N=%d (timed runs are without --stats, which times every exit)" % n_check,
              "raw_kvm_loop by its own counts"]
    if traced:
        checks.append("QEMU by `-trace kvm_run_exit` in one extra untimed run per machine "
                      "and kind at N=%d (that trace fires only under KVM, so the run was "
                      "not TCG)" % n_check)
    L.append("- Checks: on every timed run, the exit status and the guest's serial line "
             "`exits=<N in hex>`. Exact exit counts (N plus %d fixed PIO exits) are checked: "
             "%s." % (FIXED_PIO_EXITS, "; ".join(checks)))
    L.append("")
    if quick:
        L.append("**--quick run:** it proves that the tool runs and that the exit counts "
                 "are right. With two N values and one repetition, the fits and the goal "
                 "verdicts below are noise.\n")
    L.append("Contenders: " + "; ".join("`%s` = %s" % (c.name, c.describe)
                                         for c in contenders) + ".\n")
    L.append("Each contender and exit kind gets a least-squares fit: time = intercept + "
             "N × (µs per exit). There are two fits: one over all runs, and one over the "
             "per-N medians, which resists load spikes better. \"Added\" is the per-exit "
             "cost above raw KVM.\n")
    L.append("**Up to the guest's end:** from just before the fork until the guest's last serial "
             "line reaches the script through the stdout pipe. The guest's next instruction "
             "ends the run.\n")
    fits = _fit_table(L, contenders, kinds, ns, samples, "start-up to guest end")
    L.append("**Up to process exit:** from just before the fork until `wait4()` returns, "
             "so it includes each VMM's teardown.\n")
    exit_fits = _fit_table(L, contenders, kinds, ns, exit_samples, "process lifetime")
    L.append("**CPU time:** the process's user + system time over all its threads, from "
             "`wait4()`. KVM_RUN's time in the kernel counts as system time. Unlike the "
             "wall-clock figures, this hardly changes when other work competes for the "
             "CPUs.\n")
    cpu_fits = _fit_table(L, contenders, kinds, ns, cpu_samples, "CPU time")
    names = {c.name for c in contenders}
    if {"raw", "hvrun", "qemu-pc"} <= names:
        L.append("Goals from issue 21, item 2. Per-exit costs come from the all-runs fits:\n")
        L.append("| goal | measured | met? |")
        L.append("|---|---|---|")
        for kind in kinds:
            for label, fs in (("wall clock to the guest's end", fits), ("CPU time", cpu_fits)):
                (hv, _, hv_se, _), (pc, _, pc_se, _), (raw, _, raw_se, _) = [
                    fs[(c, kind)][0] for c in ("hvrun", "qemu-pc", "raw")]
                hv_add, pc_add = hv - raw, pc - raw
                # hvrun's added cost minus its limit, and that difference's s.e.
                diff = hv_add - pc_add / 3
                se = (hv_se ** 2 + (4 / 9) * raw_se ** 2 + (1 / 9) * pc_se ** 2) ** 0.5
                verdict = "yes" if diff <= 0 else "**no**"
                if se == se and abs(diff) < 2 * se:
                    verdict += " (within 2 s.e. = %.2f µs: not decisive)" % (2 * se)
                L.append("| %s, %s: hvrun adds at most ⅓ of what QEMU -M pc adds per "
                         "exit | hvrun %+.2f µs, QEMU pc %+.2f µs, so the limit is %.2f µs | "
                         "%s |" % (kind, label, hv_add, pc_add, pc_add / 3, verdict))
        for kind in kinds:
            # Start-up is judged on the medians at the smallest N (a direct
            # measurement when that N is 0); the all-runs intercepts move
            # with the load's outliers at large N.
            a = fits[("hvrun", kind)][0][1] / 1e3
            m0 = statistics.median(t for n, t in samples[("hvrun", kind)] if n == ns[0]) / 1e3
            e0 = statistics.median(t for n, t in exit_samples[("hvrun", kind)]
                                   if n == ns[0]) / 1e3
            L.append("| hvrun start-up under 5 ms (%s, N=%d medians) | %.2f ms to the guest's "
                     "end, %.2f ms to process exit (all-runs intercept to the guest's end: "
                     "%.2f ms) | %s |" %
                     (kind, ns[0], m0, e0, a, "yes" if max(m0, e0) < 5 else
                      ("to the guest's end only" if m0 < 5 else "**no**")))
        L.append("")
    if traced:
        L.append("QEMU's exits as counted by its kvm_run_exit trace at N=%d (io / mmio / "
                 "other): %s.\n" % (n_check, "; ".join(
                     "%s %s: %d / %d / %d" % (name, kind, io, mmio, other)
                     for (name, kind), (io, mmio, other) in sorted(traced.items()))))
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CheckFailed as e:
        print("vs_qemu: CHECK FAILED: %s" % e, file=sys.stderr)
        sys.exit(1)
