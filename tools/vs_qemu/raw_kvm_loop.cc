// raw_kvm_loop: the "no VMM" contender of //tools/vs_qemu. Plain KVM ioctls,
// no hv code: one VM, one memslot of guest RAM at GPA 0, one vCPU in real
// mode at F000:FFF0 (the x86 reset vector, where QEMU starts too), and a
// KVM_RUN loop that handles only what the benchmark guest does:
//   - port 0x3f8 writes: the byte goes to stdout (the guest's report line);
//   - port 0xf4 writes: the run ends with exit status (value << 1) | 1, as
//     QEMU's isa-debug-exit and hvrun do;
//   - any other port or MMIO access: writes dropped, reads return 0xff.
// At the end it prints its exit counts on stderr ("raw_kvm_loop: io=... ")
// so the script can check that the guest really took N exits.
//
//   raw_kvm_loop IMAGE LOAD_ADDR ENTRY MEM_BYTES
// loads IMAGE at guest physical LOAD_ADDR and starts at real-mode linear
// address ENTRY (CS = ENTRY's 64 KiB segment, IP = its low 16 bits).
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

constexpr uint16_t kSerialData = 0x3f8;
constexpr uint16_t kSerialLineStatus = 0x3fd;
constexpr uint16_t kDebugExit = 0xf4;

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "raw_kvm_loop: %s: %s\n", what, std::strerror(errno));
  std::exit(2);
}

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "raw_kvm_loop: %s\n", what);
  std::exit(2);
}

uint64_t ParseNumber(const char* text) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text, &end, 0);
  if (errno != 0 || end == text || *end != '\0') Fail("bad number on the command line");
  return v;
}

struct Counts {
  uint64_t io = 0;       // every KVM_EXIT_IO
  uint64_t io_other = 0;  // of those, not the serial port or the debug exit
  uint64_t mmio = 0;
  uint64_t other = 0;
};

void PrintCounts(const Counts& c) {
  std::fprintf(stderr, "raw_kvm_loop: io=%llu io_other=%llu mmio=%llu other=%llu\n",
               static_cast<unsigned long long>(c.io),
               static_cast<unsigned long long>(c.io_other),
               static_cast<unsigned long long>(c.mmio),
               static_cast<unsigned long long>(c.other));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s IMAGE LOAD_ADDR ENTRY MEM_BYTES\n", argv[0]);
    return 2;
  }
  const uint64_t load = ParseNumber(argv[2]);
  const uint64_t entry = ParseNumber(argv[3]);
  const uint64_t mem_size = ParseNumber(argv[4]);
  if (entry >= (1u << 20)) Fail("real-mode entry must be below 1 MiB");

  std::vector<uint8_t> image;
  {
    FILE* f = std::fopen(argv[1], "rb");
    if (f == nullptr) Die("open image");
    uint8_t buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) image.insert(image.end(), buf, buf + n);
    std::fclose(f);
  }
  if (load > mem_size || image.size() > mem_size - load) Fail("image does not fit in RAM");

  const int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) Die("open /dev/kvm");
  if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) Fail("unexpected KVM API version");
  const int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) Die("KVM_CREATE_VM");

  void* ram = mmap(nullptr, mem_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (ram == MAP_FAILED) Die("mmap guest RAM");
  std::memcpy(static_cast<uint8_t*>(ram) + load, image.data(), image.size());
  kvm_userspace_memory_region region{};
  region.slot = 0;
  region.guest_phys_addr = 0;
  region.memory_size = mem_size;
  region.userspace_addr = reinterpret_cast<uint64_t>(ram);
  if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) Die("KVM_SET_USER_MEMORY_REGION");

  const int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  if (vcpu < 0) Die("KVM_CREATE_VCPU");
  const int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size < 0) Die("KVM_GET_VCPU_MMAP_SIZE");
  auto* run = static_cast<kvm_run*>(
      mmap(nullptr, static_cast<size_t>(run_size), PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0));
  if (run == MAP_FAILED) Die("mmap kvm_run");

  // Real mode: CS at ENTRY's 64 KiB segment, data segments at 0 (KVM's
  // reset state already has them there).
  kvm_sregs sregs{};
  if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) Die("KVM_GET_SREGS");
  sregs.cs.selector = static_cast<uint16_t>((entry & ~0xffffull) >> 4);
  sregs.cs.base = entry & ~0xffffull;
  sregs.cs.limit = 0xffff;
  if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) Die("KVM_SET_SREGS");
  kvm_regs regs{};
  regs.rip = entry & 0xffff;
  regs.rflags = 0x2;
  if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) Die("KVM_SET_REGS");

  Counts counts;
  for (;;) {
    if (ioctl(vcpu, KVM_RUN, 0) < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      Die("KVM_RUN");
    }
    switch (run->exit_reason) {
      case KVM_EXIT_IO: {
        ++counts.io;
        uint8_t* data = reinterpret_cast<uint8_t*>(run) + run->io.data_offset;
        const bool out = run->io.direction == KVM_EXIT_IO_OUT;
        const size_t bytes = static_cast<size_t>(run->io.size) * run->io.count;
        if (run->io.port == kSerialData && out) {
          std::fwrite(data, 1, bytes, stdout);
          if (std::memchr(data, '\n', bytes) != nullptr) std::fflush(stdout);  // as hvrun does
        } else if (run->io.port == kSerialLineStatus && !out) {
          std::memset(data, 0x60, bytes);  // transmitter idle
        } else if (run->io.port == kDebugExit && out) {
          uint32_t value = 0;
          std::memcpy(&value, data, run->io.size < 4 ? run->io.size : 4);
          std::fflush(stdout);
          PrintCounts(counts);
          return static_cast<int>(((value << 1) | 1) & 0xff);
        } else {
          ++counts.io_other;
          if (!out) std::memset(data, 0xff, bytes);
        }
        break;
      }
      case KVM_EXIT_MMIO:
        ++counts.mmio;
        if (!run->mmio.is_write) std::memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
        break;
      default:
        ++counts.other;
        std::fflush(stdout);
        PrintCounts(counts);
        std::fprintf(stderr, "raw_kvm_loop: unexpected exit reason %u\n", run->exit_reason);
        return 2;
    }
  }
}
