"""Runs hv's benchmark binaries and writes BENCHMARKS.md.

  tools/bazel run --config=opt //tools/bench_report
  tools/bazel run --config=opt //tools/bench_report -- --min_time=0.5 --repetitions=7

Each benchmark binary is run once with --benchmark_format=json, repeated
with random interleaving, and each benchmark's median over the repetitions is
reported. Where this machine has no usable /dev/kvm the binaries run inside a
QEMU VM with a standard KVM (--vm_runner, tools/vmtest/run_in_vm.sh), and the
report says so: the times then describe that VM, not this machine.

The hv/raw benchmarks also report `paired_hv_ns` / `paired_raw_ns`: medians
of the two operations run alternately (MeasurePaired in
hypervisor/kvm/kvm_benchmark_support.h). Where they exist, their ratio
decides the hv/raw targets, since it is much steadier on a noisy machine.
tools/bench_report/notes.md is appended to the report.

snapshot_benchmark's BM_Snapshot* steps get a section of their own,
"Snapshot and restore (256 MiB guest)": each step's time and the size of
the file it made or read (its `file_bytes` counter).

Benchmarks come in pairs named by suffix, measured in the same process:
  <Name>_Hv / <Name>_Raw              hv's path vs the raw syscall path
  <Name>_Prepared / <Name>_Dynamic    virtio BAR prepare modes
(an argument suffix such as "/1000" is kept in the pair's name). The report
gives each pair's times and ratio, checks them against the targets, and
records the machine, the kernel and the date. It never fails on a missed
target: benchmarks are measurements, not tests.
"""
import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys

# host_facts.py (tools/host_facts) lies beside this script's folder, in
# the source tree and in Bazel's runfiles alike.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir, "host_facts"))
import host_facts  # noqa: E402

# Targets: (pair kind, pair-name regex, limit on first/second, text).
TARGETS = [
    ("_Hv", r"^BM_FdMapping$", 1.10, "AddFdMapping pair <= 1.10x raw mmap pair"),
    ("_Hv", r"^BM_(Pio|Mmio|Hlt|ImmediateExit)", 1.02,
     "hv/raw <= 1.02 on the run path"),
    ("_Hv", r"^BM_MemoryRegion", 1.02, "hv/raw <= 1.02 on the region path"),
    ("_Hv", r"^BM_PreparedBar", 1.10,
     "prepared BAR map+unmap <= 1.10x the raw mmap pair into a registered region"),
    ("_Prepared", r"^BM_BarMapUnmap", 0.10,
     "prepared BAR mapping >= 10x faster than dynamic"),
]
PAIRS = [("_Hv", "_Raw", "hv", "raw"),
         ("_Prepared", "_Dynamic", "prepared", "dynamic")]




def extract_json(console):
  """The benchmark's JSON object from a VM console log (other lines around)."""
  lines = console.splitlines()
  try:
    start = lines.index("{")
    end = len(lines) - 1 - lines[::-1].index("}")
  except ValueError:
    raise RuntimeError("no JSON object in the VM's output:\n" + console[-4000:])
  # Kernel messages could land between JSON lines on the serial console.
  body = [l for l in lines[start:end + 1] if not re.match(r"^\[\s*\d+\.\d+\] ", l)]
  return json.loads("\n".join(body))


def run_binary(path, args, vm_runner):
  flags = [f"--benchmark_min_time={args.min_time}",
           f"--benchmark_repetitions={args.repetitions}",
           "--benchmark_enable_random_interleaving=true",
           "--benchmark_format=json"]
  if args.filter:
    flags.append(f"--benchmark_filter={args.filter}")
  if vm_runner is None:
    out = subprocess.run([path] + flags, check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)
  env = dict(os.environ)
  # Copy only the binary (and its shared libraries) into the VM.
  for name in ("RUNFILES_DIR", "RUNFILES_MANIFEST_FILE", "TEST_SRCDIR"):
    env.pop(name, None)
  env.setdefault("HV_VMTEST_TIMEOUT", "1800")
  print(f"bench_report: running {os.path.basename(path)} in the VM", file=sys.stderr)
  done = subprocess.run([vm_runner, "x86_64", os.path.abspath(path)] + flags,
                        capture_output=True, text=True, env=env)
  if done.returncode != 0:
    sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
    raise RuntimeError(f"{path} failed in the VM (exit {done.returncode})")
  return extract_json(done.stdout)


def split_name(name):
  """'BM_PioOut_Hv/1000' -> ('BM_PioOut', '_Hv', '/1000')."""
  base, slash, arg = name.partition("/")
  for a, b, _, _ in PAIRS:
    for suffix in (a, b):
      if base.endswith(suffix):
        return base[: -len(suffix)], suffix, slash + arg
  return base, None, slash + arg




def kvm_kind(kvm_module):
  """What kind of KVM the module list names."""
  if "kvm_pvm" in kvm_module:
    return ("kvm_pvm: nested PVM, shadow paging, guest code at CPL0 run by "
            "KVM's instruction emulator")
  if "kvm_amd" in kvm_module:
    return "kvm_amd: AMD SVM"
  if "kvm_intel" in kvm_module:
    return "kvm_intel: Intel VMX"
  return f"KVM modules: {kvm_module}"


def where_prose(in_vm, kvm_module, kernel):
  """The report's paragraph on where its numbers were measured."""
  if in_vm:
    return (
        "This host had no usable /dev/kvm, so every binary ran in the "
        "throwaway QEMU VM of tools/vmtest: QEMU **TCG** emulates the L1 "
        "machine (one vCPU, `-cpu max`), whose Debian kernel runs a standard "
        "**AMD SVM + NPT KVM**, itself emulated by TCG. Absolute times "
        "describe that nested, emulated machine, not any real one; both "
        "sides of each pair ran in the same process on the same kernel, so "
        "the ratios compare like with like.")
  if "kvm_pvm" in kvm_module:
    return (
        f"Measured on this host's own /dev/kvm (kernel {kernel}), which is "
        "served by **kvm_pvm** (a nested Pagetable-based VM: shadow paging, "
        "a software world switch, every vCPU ioctl ~5 µs for vcpu_load/put; "
        "see ../shared/notes/kvm-on-these-machines.md). The run-path guests "
        "run at CPL3, the only code kvm_pvm runs natively. Memslot changes "
        "and MAP_FIXED into a registered slot cost what that kernel's "
        "shadow MMU makes them cost. Both sides of each pair ran in the same "
        "process on the same KVM, so the ratios compare like with like; the "
        "absolute times are of this nested host, not of bare-metal KVM.")
  return (
      f"Measured on this host's own /dev/kvm ({kvm_kind(kvm_module)}, kernel "
      f"{kernel}). Both sides of each pair ran in the same process on the same "
      "KVM, so the ratios compare like with like.")


def fmt_ns(ns):
  return f"{ns / 1000:.1f} µs" if ns >= 10000 else f"{ns:.0f} ns"


def fmt_ms(ns):
  return f"{ns / 1e6:.1f} ms" if ns >= 1e6 else fmt_ns(ns)


def fmt_bytes(n):
  if n >= 1 << 20:
    return f"{n / (1 << 20):.1f} MiB"
  return f"{n / 1024:.1f} KiB" if n >= 1024 else f"{n:.0f} B"


# The snapshot steps, in the order a VMM takes them, and what each does.
SNAPSHOT_STEPS = [
    ("BM_SnapshotCaptureFull", "full capture (every vCPU and VM state, all RAM)"),
    ("BM_SnapshotCaptureIncremental",
     "incremental capture after the guest wrote 64 pages (dirty log)"),
    ("BM_SnapshotWriteTo", "WriteTo of the full file (write, fsync, rename)"),
    ("BM_SnapshotReadFrom", "ReadFrom of the full file (read, CRC-checked parse)"),
    ("BM_SnapshotRestore", "restore of the full file into a new VM"),
]


def snapshot_section(snapshots):
  """The "Snapshot and restore" section's lines, from {name: (ns list, bytes)}."""
  if not snapshots:
    return []
  lines = ["## Snapshot and restore (256 MiB guest)", "",
           "snapshot_benchmark: an x86_64 VM with the in-kernel irqchip, one "
           "vCPU and 256 MiB of RAM in one dirty-logged slot "
           "(snapshot/x86_64_snapshot.h).", "",
           "| step | what | time | file size |", "|---|---|---:|---:|"]
  for name, what in SNAPSHOT_STEPS:
    if name in snapshots:
      ns, size = snapshots[name]
      lines.append(f"| {name} | {what} | {fmt_ms(statistics.median(ns))} | "
                   f"{fmt_bytes(size)} |")
  lines.append("")
  return lines


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--min_time", default="0.2")
  parser.add_argument("--repetitions", type=int, default=5)
  parser.add_argument("--filter", default=None)
  parser.add_argument("--output", default=None)
  parser.add_argument("--vm_runner", default=None,
                      help="tools/vmtest/run_in_vm.sh, used when /dev/kvm is missing")
  parser.add_argument("--force_vm", action="store_true",
                      help="run in the VM even where /dev/kvm works")
  parser.add_argument("binaries", nargs="+")
  args = parser.parse_args()

  in_vm = args.force_vm or not host_facts.kvm_usable()[0]
  if in_vm and not args.vm_runner:
    sys.exit("bench_report: no usable /dev/kvm here and no --vm_runner")
  vm_runner = args.vm_runner if in_vm else None

  times = {}      # (binary, base, arg) -> {suffix: [ns, ...]}
  counters = {}   # (binary, base, arg) -> {suffix: syscalls_per_op}
  singles = {}    # (binary, name) -> [ns, ...]
  snapshots = {}  # BM_Snapshot* name -> ([ns, ...], file_bytes)
  errors = []
  contexts = {}
  for path in args.binaries:
    binary = os.path.basename(path)
    data = run_binary(path, args, vm_runner)
    contexts[binary] = data.get("context", {})
    for b in data["benchmarks"]:
      if b.get("run_type") == "aggregate":
        continue
      if b.get("error_occurred"):
        errors.append(f"{binary} {b['name']}: {b.get('error_message')}")
        continue
      ns = b["real_time"] * {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b["time_unit"]]
      name = b.get("run_name", b["name"])
      base, suffix, arg = split_name(name)
      if name.startswith("BM_Snapshot"):
        entry = snapshots.setdefault(name, ([], 0))
        entry[0].append(ns)
        snapshots[name] = (entry[0], b.get("file_bytes", entry[1]))
      elif suffix is None:
        singles.setdefault((binary, name), []).append(ns)
      else:
        times.setdefault((binary, base, arg), {}).setdefault(suffix, []).append(ns)
        c = counters.setdefault((binary, base, arg), {})
        if "syscalls_per_op" in b:
          c[suffix] = b["syscalls_per_op"]
        if "allocs_per_op" in b:
          c[suffix + "_allocs"] = b["allocs_per_op"]
        for side in ("hv", "raw"):
          if f"paired_{side}_ns" in b:
            c.setdefault(f"paired_{side}", []).append(b[f"paired_{side}_ns"])

  model, cpus, kernel, kvm_module = (host_facts.cpu_model(), os.cpu_count(),
                                     host_facts.kernel(),
                                     host_facts.kvm_modules())
  ctx = next(iter(contexts.values()), {})
  if in_vm:
    where = ("inside a QEMU (TCG, `-cpu max`, 1 vCPU) VM booted by "
             "tools/vmtest/run_in_vm.sh, whose KVM is standard AMD SVM + NPT "
             "(nested: the VM itself runs under TCG emulation)")
  else:
    where = f"directly on this machine, on its /dev/kvm ({kvm_kind(kvm_module)})"
  lines = [
      "# hv benchmarks",
      "",
      "Written by `tools/bazel run --config=opt //tools/bench_report`. Each pair",
      "ran in one process with randomly interleaved repetitions; the times are",
      "medians over the repetitions. The hv/raw ratio holds on a noisy machine",
      "better than either time does. Benchmarks are measurements, never tests.",
      "",
      f"- date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC",
      f"- host: {model}, {cpus} CPUs, kernel {kernel} (KVM modules: {kvm_module})",
      f"- benchmarks ran {where}",
  ]
  if in_vm:
    lines.append(f"- benchmark machine: {ctx.get('hv_kernel', 'unknown')}, "
                 f"{ctx.get('num_cpus', '?')} CPU(s) at {ctx.get('mhz_per_cpu', '?')} MHz")
  lines += [
      f"- per benchmark: {args.repetitions} repetitions of at least "
      f"{args.min_time} s each (`--benchmark_enable_random_interleaving`)",
      f"- library build type: {ctx.get('library_build_type', 'unknown')} "
      "(Debian's libbenchmark; only its own bookkeeping, not the timed code)",
      "",
      "**Where these numbers come from.** " + where_prose(in_vm, kvm_module, kernel),
      "",
  ]
  results = []    # (kind, key, ratio)
  for a, b, a_name, b_name in PAIRS:
    rows = [(k, v) for k, v in sorted(times.items()) if a in v and b in v]
    if not rows:
      continue
    header = f"| binary | benchmark | {a_name} | {b_name} | {a_name}/{b_name} | spread {a_name} / {b_name} |"
    if a == "_Hv":
      header += " syscalls/op hv / raw | paired hv | paired raw | **paired hv/raw** |"
    lines += [f"## {a_name} vs {b_name}", "", header,
              "|---|---|---:|---:|---:|---:|" + ("---:|" * 4 if a == "_Hv" else "")]
    for key, v in rows:
      binary, base, arg = key
      ma, mb = statistics.median(v[a]), statistics.median(v[b])
      ratio = ma / mb
      spread = lambda xs: f"{(max(xs) - min(xs)) / statistics.median(xs) * 100:.0f}%"
      row = (f"| {binary} | {base}{arg} | {fmt_ns(ma)} | {fmt_ns(mb)} | "
             f"**{ratio:.3f}** | {spread(v[a])} / {spread(v[b])} |")
      basis = ""
      if a == "_Hv":
        c = counters.get(key, {})
        fmt = lambda x: f"{x:g}" if isinstance(x, (int, float)) else "?"
        row += f" {fmt(c.get(a))} / {fmt(c.get(b))}"
        if a + "_allocs" in c and b + "_allocs" in c:
          row += f" (allocs {c[a + '_allocs']:.2g} / {c[b + '_allocs']:.2g})"
        row += " |"
        if c.get("paired_hv") and c.get("paired_raw"):
          ph = statistics.median(c["paired_hv"])
          pr = statistics.median(c["paired_raw"])
          ratio = ph / pr  # the steadier ratio decides the target
          basis = "paired"
          row += f" {fmt_ns(ph)} | {fmt_ns(pr)} | **{ratio:.3f}** |"
        else:
          row += " | | |"
      lines.append(row)
      results.append((a, f"{base}{arg}", ratio, basis))
    lines.append("")
  lines += snapshot_section(snapshots)
  if singles:
    lines += ["## Other measurements", "", "| binary | benchmark | time |", "|---|---|---:|"]
    lines += [f"| {binary} | {name} | {fmt_ns(statistics.median(ns))} |"
              for (binary, name), ns in sorted(singles.items())]
    lines.append("")
  lines += ["## Targets", ""]
  for kind, pattern, limit, text in TARGETS:
    hits = [(name + (f", {basis}" if basis else ""), r)
            for k, name, r, basis in results if k == kind and re.search(pattern, name)]
    if not hits:
      lines.append(f"- {text}: not measured")
      continue
    missed = [f"{name} ({r:.3f})" for name, r in hits if r > limit]
    if missed:
      lines.append(f"- {text}: **missed** by {', '.join(missed)}; met by "
                   f"{len(hits) - len(missed)} of {len(hits)}")
    else:
      lines.append(f"- {text}: met by all {len(hits)}")
  if errors:
    lines += ["", "## Errors", ""] + [f"- {e}" for e in errors]
  notes = os.path.join(os.path.dirname(os.path.realpath(__file__)), "notes.md")
  if os.path.exists(notes):
    with open(notes) as f:
      lines += ["", f.read().rstrip()]
  lines.append("")
  text = "\n".join(lines)
  output = args.output or os.path.join(
      os.environ.get("BUILD_WORKSPACE_DIRECTORY", "."), "BENCHMARKS.md")
  with open(output, "w") as f:
    f.write(text)
  sys.stdout.write(text)
  print(f"\nwrote {output}")


if __name__ == "__main__":
  main()
