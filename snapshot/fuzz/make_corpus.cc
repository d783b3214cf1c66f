// Writes the seed corpus of //snapshot:snapshot_file_fuzzer into the
// directory given (snapshot/fuzz/snapshot_file_corpus/ holds its output):
// small valid snapshot files -- an empty one, one with every x86_64
// section, a full and an incremental memory image -- and a few truncated
// and damaged copies, so the fuzzer starts from every section's decoder.
//   bazel run //snapshot:make_snapshot_corpus -- $PWD/snapshot/fuzz/snapshot_file_corpus
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "snapshot/codec.h"
#include "snapshot/snapshot_file.h"
#include "snapshot/x86_64_codec.h"

namespace hv::snapshot {
namespace {

std::vector<uint8_t> Info(uint64_t id, uint64_t parent) {
  ByteWriter out;
  out.Put64(id);
  out.Put64(parent);
  return out.Take();
}

// One vCPU (id 0) in 64-bit mode, halted, with an XCR, two MSRs and a
// pending NMI; both PICs, the I/O APIC, the PIT and the clock.
SnapshotFile EveryX86Section() {
  SnapshotFile file(Arch::kX86_64, "kvm");
  file.Add(Tag::kSnapshotInfo, 0, Info(0x1234, 0));
  file.Add(Tag::kVcpuCount, 0, {1, 0, 0, 0, 0, 0, 0, 0});
  Regs regs;
  regs.rip = 0x1000;
  regs.rflags = 0x2;
  regs.rdi = 1500;
  file.Add(Tag::kVcpuRegs, 0, EncodeRegs(regs));
  Sregs sregs;
  sregs.cs.l = true;
  sregs.cs.present = true;
  sregs.cr0 = 0x80000011;
  sregs.efer = 0x500;
  file.Add(Tag::kVcpuSregs, 0, EncodeSregs(sregs));
  Fpu fpu;
  fpu.fcw = 0x37f;
  fpu.mxcsr = 0x1f80;
  file.Add(Tag::kVcpuFpu, 0, EncodeFpu(fpu));
  DebugRegs debug;
  debug.dr6 = 0xffff0ff0;
  debug.dr7 = 0x400;
  file.Add(Tag::kVcpuDebugRegs, 0, EncodeDebugRegs(debug));
  file.Add(Tag::kVcpuXcrs, 0, EncodeXcrs(std::vector<Xcr>{{0, 7}}));
  file.Add(Tag::kVcpuXsave, 0, std::vector<uint8_t>(64, 0));
  file.Add(Tag::kVcpuMsrs, 0,
           EncodeMsrs(std::vector<MsrEntry>{{0x10, 99}, {0xc0000080, 0x500}}));
  VcpuEvents events;
  events.nmi.pending = true;
  events.sipi_vector = 3;
  file.Add(Tag::kVcpuEvents, 0, EncodeVcpuEvents(events));
  file.Add(Tag::kVcpuMpState, 0, EncodeMpState(MpState::kHalted));
  file.Add(Tag::kVcpuLapic, 0, std::vector<uint8_t>(1024, 0));
  file.Add(Tag::kVcpuTscKhz, 0, EncodeU32(2000000));
  PicState pic;
  pic.irq_base = 0x20;
  file.Add(Tag::kVmPicPrimary, 0, EncodePic(pic));
  file.Add(Tag::kVmPicSecondary, 0, EncodePic(pic));
  IoapicState ioapic;
  ioapic.base_address = 0xfec00000;
  file.Add(Tag::kVmIoapic, 0, EncodeIoapic(ioapic));
  PitState pit;
  pit.channels[0].count = 0x10000;
  pit.channels[0].count_load_time = -5;
  file.Add(Tag::kVmPit, 0, EncodePit(pit));
  ClockState clock;
  clock.clock_ns = 123456789;
  clock.realtime_ns = 42;
  file.Add(Tag::kVmClock, 0, EncodeClock(clock));
  return file;
}

// A 2-page RAM range, whole (full) or as one changed page (incremental).
SnapshotFile Memory(bool incremental) {
  SnapshotFile file(Arch::kX86_64, "kvm");
  file.Add(Tag::kSnapshotInfo, 0, Info(0x5678, incremental ? 0x1234 : 0));
  ByteWriter out;
  out.Put64(0);
  std::vector<uint8_t> page(4096, 0xa5);
  if (!incremental) {
    std::vector<uint8_t> both(page);
    both.insert(both.end(), page.begin(), page.end());
    out.PutBlob(both);
    file.Add(Tag::kMemoryRange, 0, out.Take());
    return file;
  }
  out.Put64(2 * 4096);
  out.Put32(4096);
  out.Put64(1);
  out.Put64(1);
  out.PutBytes(page);
  file.Add(Tag::kMemoryPages, 0, out.Take());
  return file;
}

bool Write(const std::string& dir, const char* name,
           const std::vector<uint8_t>& bytes) {
  std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
  // The bytes as chars: ofstream writes char; uint8_t and char have one
  // representation.
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  return out.good();
}

std::vector<uint8_t> Prefix(const std::vector<uint8_t>& bytes, size_t n) {
  return std::vector<uint8_t>(bytes.begin(), bytes.begin() + n);
}

}  // namespace
}  // namespace hv::snapshot

int main(int argc, char** argv) {
  using namespace hv::snapshot;  // NOLINT: a tool's main
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const std::vector<uint8_t> empty =
      SnapshotFile(Arch::kX86_64, "kvm").Serialize();
  const std::vector<uint8_t> every = EveryX86Section().Serialize();
  const std::vector<uint8_t> full = Memory(false).Serialize();
  const std::vector<uint8_t> delta = Memory(true).Serialize();
  std::vector<uint8_t> arm = SnapshotFile(Arch::kAArch64, "kvm").Serialize();
  std::vector<uint8_t> damaged = every;
  damaged[every.size() / 2] ^= 0x10;
  bool ok = Write(dir, "empty", empty) && Write(dir, "every_x86_section", every) &&
            Write(dir, "memory_full", full) &&
            Write(dir, "memory_incremental", delta) &&
            Write(dir, "aarch64_empty", arm) &&
            Write(dir, "damaged_crc", damaged) &&
            Write(dir, "truncated_header", Prefix(every, 13)) &&
            Write(dir, "truncated_section", Prefix(every, every.size() / 3)) &&
            Write(dir, "truncated_end", Prefix(every, every.size() - 1));
  if (!ok) std::fprintf(stderr, "writing into %s failed\n", dir.c_str());
  return ok ? 0 : 1;
}
