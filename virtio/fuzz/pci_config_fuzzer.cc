// pci_config_fuzzer: libFuzzer target for the configuration space of a
// VirtioPciDevice with a shared-memory BAR, reached directly and through a
// PciBus's CONFIG_ADDRESS / CONFIG_DATA ports (0xCF8 / 0xCFC-0xCFF).
//
// The input decodes to a device (prepare mode, shared-memory length and
// shmid, whether a blob is mapped into the region) and a sequence of
// configuration reads and writes of every size at every offset, BAR sizing,
// BAR programming and command-register writes. The fuzzer keeps its own
// model of the 64 registers, written from the PCI Local Bus Specification
// 3.0 and virtio 1.2 (not from the code under test), and after every step
// checks:
//
//   - every register equals the model: read-only registers (ids, status,
//     class, header type, capability pointer, capability bytes, unused BARs)
//     never change; only the command register's implemented bits, the
//     interrupt line and the BAR address bits above the BAR's size change;
//   - after all ones is written to the BAR, it reads back the size mask; its
//     low bits always say "64-bit prefetchable memory";
//   - the capability list is walkable from the capability pointer (dword
//     aligned, inside the device-specific area, no loop) and holds the
//     shared-memory capability with BAR 2, the shmid, offset 0 and the
//     region's length;
//   - a bus read returns the selected register's bytes when CONFIG_ADDRESS
//     enables a cycle to this device's bus/device/function and the access
//     stays inside the register, and all ones otherwise;
//   - with memory decoding on, the registered region sits where the BAR
//     decodes to whenever the Vm can take it there (below its address limit,
//     clear of its RAM); a move it cannot take leaves the region in place
//     with last_move_status() saying why; with decoding off nothing moves;
//     the service, the device and the Vm agree on the address, and a mapped
//     blob is readable through the guest at the region's address.
//
// Any disagreement aborts with a message naming the rule that broke.
//
// Input format (bytes past the end read as 0):
//   byte 0: bit 0 the device exposes its shared memory through a vIOMMU
//           (DynamicPerMapping), bit 1 declares the region non-coherent,
//           bit 2 maps a one-page blob at offset 0 of the region;
//   byte 1: % 64 the region's length in pages (0: half a page);
//   byte 2: the shmid;
//   then 8-byte records: op, a0..a6; op % 8 selects:
//     0 device read:  register a0 / 4, or 64 + a0 when a1 bit 0 is set.
//     1 device write: offset a0 (+ 256 when a1 bit 3), size a1 % 8, value
//                     a2..a5 (u32).
//     2 address port: value a0..a3, size a4 (0: 4, else a4 % 5), port
//                     0xCF8 + a5 % 4.
//     3 data read:    port 0xCFC + a0 % 4 (0xCF8 + a0 % 4 when a0 bit 2),
//                     size a1 % 6.
//     4 data write:   port as for 3, size a1 % 6, value a2..a5.
//     5 size BAR:     write all ones to BAR a0 % 6.
//     6 program BAR:  address (a0..a3 as u32) pages written to BAR 2 as two
//                     dword writes, low then high.
//     7 command:      a0a1 written to the command register as a word.
//   At most 64 records are run.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/types/span.h"
#include "hypervisor/memory.h"
#include "hypervisor/memory_region.h"
#include "hypervisor/os/memfd.h"
#include "hypervisor/os/mmap_region.h"
#include "hypervisor/os/unique_fd.h"
#include "testing/fakes/fake_vm.h"
#include "virtio/bar_allocator.h"
#include "virtio/fake_virtio_device.h"
#include "virtio/fuzz/fuzz_input.h"
#include "virtio/pci_bus.h"
#include "virtio/shared_memory.h"
#include "virtio/virtio_device.h"
#include "virtio/virtio_pci_device.h"
#include "virtio/vm_memory_service.h"

namespace hv::virtio {
namespace {

using ::hv::testing::FakeVm;

constexpr int kMaxOps = 64;
constexpr uint64_t kAddressLimit = uint64_t{1} << 40;
constexpr uint64_t kRamPages = 16;
constexpr uint8_t kDeviceNumber = 1;
constexpr uint8_t kBlobByte = 0x5a;
constexpr uint16_t kDeviceType = 16;  // virtio-gpu
// Register indices (PCI Local Bus Specification 3.0 §6.1).
constexpr int kCommandRegister = 1;
constexpr int kBarLowRegister = 4 + 2;   // BAR 2
constexpr int kBarHighRegister = 4 + 3;  // BAR 3
constexpr int kInterruptRegister = 15;

uint64_t Page() { return HostPageSize(); }

[[noreturn]] void Broken(const char* rule, const std::string& detail) {
  FuzzRuleBroken("pci_config_fuzzer", rule, detail);
}

void Require(bool holds, const char* rule, const std::string& detail) {
  if (!holds) Broken(rule, detail);
}


class Run {
 public:
  explicit Run(FuzzInput& in) : in_(in) {}

  void Execute() {
    Setup();
    CheckIdentity();
    for (int op = 0; op < kMaxOps && !in_.done(); ++op) {
      uint8_t args[8];
      for (uint8_t& arg : args) arg = in_.Byte();
      step_ = op;
      const uint8_t* a = args + 1;
      switch (args[0] % 8) {
        case 0: DeviceRead(a); break;
        case 1: DeviceWrite(a[0] + ((a[1] & 8) ? 256u : 0u), a[1] % 8, Value(a + 2)); break;
        case 2: AddressPort(a); break;
        case 3: DataRead(a); break;
        case 4: DataWrite(a); break;
        case 5: DeviceWrite(0x10 + 4 * (a[0] % 6), 4, 0xffffffff); break;
        case 6: ProgramBar(Value(a)); break;
        case 7: DeviceWrite(0x04, 2, a[0] | (uint32_t{a[1]} << 8)); break;
      }
      CheckState();
    }
  }

 private:
  static uint32_t Value(const uint8_t* bytes) {
    return bytes[0] | (uint32_t{bytes[1]} << 8) | (uint32_t{bytes[2]} << 16) |
           (uint32_t{bytes[3]} << 24);
  }

  std::string Where() const { return absl::StrFormat("step %d: ", step_); }

  void Setup() {
    const uint8_t config = in_.Byte();
    const uint8_t pages = in_.Byte() % 64;
    info_.length = pages == 0 ? Page() / 2 : pages * Page();
    info_.id = in_.Byte();
    const bool viommu = config & 1;
    const PrepareType prepare = PrepareType::SingleMappingOnFirst(
        (config & 2) ? MemCacheType::kCacheNonCoherent
                     : MemCacheType::kCacheCoherent);
    FakeVm::Options options;
    options.address_limit = kAddressLimit;
    options.capabilities.insert(VmCap::kMemNoncoherentDma);
    absl::StatusOr<std::unique_ptr<FakeVm>> vm = FakeVm::Create(options);
    if (!vm.ok()) Broken("fuzzer setup", vm.status().ToString());
    vm_ = *std::move(vm);
    absl::StatusOr<std::unique_ptr<MemoryRegion>> ram =
        MemoryRegion::CreateShared("ram", kRamPages * Page());
    if (!ram.ok()) Broken("fuzzer setup", ram.status().ToString());
    if (!vm_->AddMemoryRegion(0, *std::move(ram), MemoryRegionOptions()).ok()) {
      Broken("fuzzer setup", "cannot add RAM");
    }
    auto service = VmMemoryService::Create(vm_.get());
    if (!service.ok()) Broken("fuzzer setup", service.status().ToString());
    service_ = *std::move(service);
    auto bars = BarAllocator::Create(uint64_t{1} << 32, uint64_t{1} << 32);
    if (!bars.ok()) Broken("fuzzer setup", bars.status().ToString());
    bars_ = *std::move(bars);
    device_ = std::make_unique<FakeVirtioDevice>(info_, prepare, viommu, kDeviceType);
    auto pci = VirtioPciDevice::Create(device_.get(), bars_.get(), service_.get());
    if (!pci.ok()) Broken("fuzzer setup", pci.status().ToString());
    pci_ = *std::move(pci);
    auto bus = PciBus::Create();
    if (!bus.ok()) Broken("fuzzer setup", bus.status().ToString());
    bus_ = *std::move(bus);
    if (!bus_->AddDevice(kDeviceNumber, 0, pci_.get()).ok()) {
      Broken("fuzzer setup", "cannot add the device to the bus");
    }
    Require(device_->mapper() != nullptr && pci_->shared_memory_region(),
            "a device with shared memory gets a region and a mapper", "");
    Require(pci_->prepare_type() ==
                (viommu ? PrepareType::DynamicPerMapping() : prepare),
            "a vIOMMU device's region is DynamicPerMapping",
            pci_->prepare_type().ToString());
    bar_size_ = BarSizeFor(info_.length);
    Require(pci_->shared_memory_bar_size() == bar_size_,
            "the BAR is the region's length rounded up to a power of two",
            absl::StrFormat("%#x for length %#x", pci_->shared_memory_bar_size(),
                            info_.length));
    placed_ = pci_->shared_memory_address();
    if (config & 4) {
      absl::StatusOr<UniqueFd> blob = CreateMemfd("blob", Page());
      if (!blob.ok()) Broken("fuzzer setup", blob.status().ToString());
      std::vector<uint8_t> bytes(Page(), kBlobByte);
      if (::pwrite(blob->get(), bytes.data(), Page(), 0) !=
          static_cast<ssize_t>(Page())) {
        Broken("fuzzer setup", "cannot fill the blob");
      }
      absl::Status mapped = device_->mapper()->AddMapping(
          MappingSource::Fd(blob->get(), 0, Page()), 0, Protection::ReadWrite(),
          MemCacheType::kCacheCoherent);
      if (!mapped.ok()) Broken("fuzzer setup", mapped.ToString());
      mapped_ = true;
    }
  }

  // The registers as the specifications say they start, checked against the
  // device once; from then on the model evolves by the write rules only.
  void CheckIdentity() {
    for (int i = 0; i < 64; ++i) model_[i] = pci_->ReadConfigRegister(i);
    const uint32_t device_id = 0x1040 + kDeviceType;
    Require(model_[0] == (0x1af4u | device_id << 16),
            "virtio vendor and device ids (virtio 1.2 §4.1.2)",
            absl::StrFormat("%#x", model_[0]));
    Require((model_[2] & 0xff) >= 1, "a non-transitional device's revision is at least 1",
            absl::StrFormat("%#x", model_[2]));
    Require(model_[kCommandRegister] == (uint32_t{1 << 4} << 16),
            "the command register starts at 0; status says there is a "
            "capability list",
            absl::StrFormat("%#x", model_[kCommandRegister]));
    Require(model_[kBarLowRegister] == ((placed_ & 0xfffffff0u) | 0xc) &&
                model_[kBarHighRegister] == (placed_ >> 32),
            "BAR 2/3 hold the allocated address as a 64-bit prefetchable "
            "memory BAR",
            absl::StrFormat("%#x %#x for %#x", model_[kBarLowRegister],
                            model_[kBarHighRegister], placed_));
    for (int bar : {0, 1, 4, 5}) {
      Require(model_[4 + bar] == 0, "unused BARs read as zero",
              absl::StrFormat("BAR %d = %#x", bar, model_[4 + bar]));
    }
    writable_[kCommandRegister] = 0x0407;  // I/O, memory, bus master, INTx
    writable_[kInterruptRegister] = 0xff;
    const uint64_t address_mask = ~(bar_size_ - 1);
    writable_[kBarLowRegister] = static_cast<uint32_t>(address_mask) & ~0xfu;
    writable_[kBarHighRegister] = static_cast<uint32_t>(address_mask >> 32);
    CheckCapabilities();
    CheckPlacement();
  }

  void CheckCapabilities() {
    auto byte = [this](uint32_t offset) -> uint8_t {
      return static_cast<uint8_t>(model_[offset / 4] >> (8 * (offset % 4)));
    };
    Require((model_[1] >> 16) & (1 << 4),
            "status says there is a capability list", "");
    uint32_t at = byte(0x34);
    std::set<uint32_t> seen;
    bool found = false;
    while (at != 0) {
      Require(at >= 0x40 && at % 4 == 0 && at + 2 <= 256 && seen.insert(at).second,
              "the capability list is walkable: dword aligned, after the "
              "header, no loop",
              absl::StrFormat("capability at %#x", at));
      if (byte(at) == 0x09 && byte(at + 3) == 8) {
        auto u32 = [&](uint32_t offset) {
          return byte(offset) | uint32_t{byte(offset + 1)} << 8 |
                 uint32_t{byte(offset + 2)} << 16 |
                 uint32_t{byte(offset + 3)} << 24;
        };
        Require(at + 24 <= 256 && byte(at + 2) >= 24,
                "the shared-memory capability is a virtio_pci_cap64",
                absl::StrFormat("cap_len %u at %#x", byte(at + 2), at));
        const uint64_t offset = u32(at + 8) | uint64_t{u32(at + 16)} << 32;
        const uint64_t length = u32(at + 12) | uint64_t{u32(at + 20)} << 32;
        Require(byte(at + 4) == 2 && byte(at + 5) == info_.id && offset == 0 &&
                    length == info_.length,
                "the shared-memory capability names BAR 2, the shmid, offset "
                "0 and the region's length",
                absl::StrFormat("bar %u id %u offset %#x length %#x",
                                byte(at + 4), byte(at + 5), offset, length));
        found = true;
      }
      at = byte(at + 1);
    }
    Require(found, "the capability list holds the shared-memory capability", "");
  }

  // ---- operations, each applied to the device and to the model -----------

  void ModelWrite(uint32_t offset, uint32_t size, uint32_t value) {
    // §6.1: a write changes only the implemented bits of the addressed
    // bytes; an access the function does not decode changes nothing.
    if ((size != 1 && size != 2 && size != 4) || offset >= 256 ||
        offset % 4 + size > 4) {
      return;
    }
    const uint32_t shift = 8 * (offset % 4);
    const uint32_t lanes = static_cast<uint32_t>(
        ((uint64_t{1} << (8 * size)) - 1) << shift);
    const uint32_t mask = lanes & writable_[offset / 4];
    uint32_t& reg = model_[offset / 4];
    reg = (reg & ~mask) | (static_cast<uint32_t>(uint64_t{value} << shift) & mask);
  }

  uint64_t Decoded() const {
    return (uint64_t{model_[kBarHighRegister]} << 32) |
           (model_[kBarLowRegister] & 0xfffffff0u);
  }

  bool Decoding() const { return model_[kCommandRegister] & 0x2; }

  // Whether the Vm can hold the region at `address`.
  bool Placeable(uint64_t address) const {
    if (address > kAddressLimit || bar_size_ > kAddressLimit - address) {
      return false;
    }
    return address >= kRamPages * Page();
  }

  // What a configuration write that reached the device does to the model:
  // the register changes, and with decoding on the region follows the BAR
  // if it can.
  void ModelDeviceWrite(uint32_t offset, uint32_t size, uint32_t value) {
    ModelWrite(offset, size, value);
    if (!Decoding() || Decoded() == placed_) return;
    if (Placeable(Decoded())) {
      placed_ = Decoded();
      expect_move_refused_ = false;
    } else {
      expect_move_refused_ = true;
    }
  }

  void DeviceRead(const uint8_t* a) {
    const uint32_t index = (a[1] & 1) ? 64u + a[0] : a[0] / 4u;
    const uint32_t value = pci_->ReadConfigRegister(index);
    const uint32_t expected = index < 64 ? model_[index] : 0xffffffff;
    Require(value == expected,
            "a register reads its value; past the 256 bytes reads all ones",
            Where() + absl::StrFormat("register %u: %#x, expected %#x", index,
                                      value, expected));
  }

  void DeviceWrite(uint32_t offset, uint32_t size, uint32_t value) {
    pci_->WriteConfig(offset, size, value);
    ModelDeviceWrite(offset, size, value);
  }

  void ProgramBar(uint32_t page) {
    const uint64_t address = uint64_t{page} * Page();
    DeviceWrite(0x18, 4, static_cast<uint32_t>(address));
    CheckState();
    DeviceWrite(0x1c, 4, static_cast<uint32_t>(address >> 32));
  }

  static std::vector<uint8_t> Bytes(uint32_t value, size_t size) {
    std::vector<uint8_t> bytes(size);
    for (size_t i = 0; i < size; ++i) {
      bytes[i] = i < 4 ? static_cast<uint8_t>(value >> (8 * i)) : 0;
    }
    return bytes;
  }

  void AddressPort(const uint8_t* a) {
    const uint32_t value = Value(a);
    const size_t size = a[4] == 0 ? 4 : a[4] % 5;
    const uint16_t port = kPciConfigAddressPort + a[5] % 4;
    std::vector<uint8_t> bytes = Bytes(value, size);
    Require(bus_->Write(port, absl::MakeConstSpan(bytes)),
            "the bus owns ports 0xCF8-0xCFF", Where());
    // §3.2.2.3.2: only a dword write to 0xCF8 is CONFIG_ADDRESS; bits
    // 30:24 are reserved, bits 1:0 read as zero.
    if (port == kPciConfigAddressPort && size == 4) {
      config_address_ = value & 0x80fffffc;
    }
  }

  // Whether CONFIG_ADDRESS selects our device; sets `*offset` to the
  // register's byte offset.
  bool SelectsDevice(uint32_t* offset) const {
    if ((config_address_ & (1u << 31)) == 0) return false;
    if (((config_address_ >> 16) & 0xff) != 0) return false;
    if (((config_address_ >> 11) & 0x1f) != kDeviceNumber) return false;
    if (((config_address_ >> 8) & 0x7) != 0) return false;
    *offset = config_address_ & 0xfc;
    return true;
  }

  static uint16_t DataPort(uint8_t selector) {
    return (selector & 4) ? kPciConfigAddressPort + selector % 4
                          : kPciConfigDataPort + selector % 4;
  }

  void DataRead(const uint8_t* a) {
    const uint16_t port = DataPort(a[0]);
    const size_t size = a[1] % 6;
    std::vector<uint8_t> bytes(size, 0x42);
    Require(bus_->Read(port, absl::MakeSpan(bytes)),
            "the bus owns ports 0xCF8-0xCFF", Where());
    std::vector<uint8_t> expected(size, 0xff);
    uint32_t offset = 0;
    if (port == kPciConfigAddressPort && size == 4) {
      expected = Bytes(config_address_, 4);
    } else if (port >= kPciConfigDataPort && SelectsDevice(&offset) &&
               (port - kPciConfigDataPort) + size <= 4) {
      expected = Bytes(model_[offset / 4] >> (8 * (port - kPciConfigDataPort)),
                       size);
    }
    Require(bytes == expected,
            "a CONFIG_DATA read returns the selected register's bytes, "
            "CONFIG_ADDRESS reads back as a dword, and anything else reads "
            "all ones",
            Where() + absl::StrFormat("port %#x size %u with CONFIG_ADDRESS %#x",
                                      port, size, config_address_));
  }

  void DataWrite(const uint8_t* a) {
    const uint16_t port = DataPort(a[0]);
    const size_t size = a[1] % 6;
    const uint32_t value = Value(a + 2);
    std::vector<uint8_t> bytes = Bytes(value, size);
    Require(bus_->Write(port, absl::MakeConstSpan(bytes)),
            "the bus owns ports 0xCF8-0xCFF", Where());
    if (port == kPciConfigAddressPort && size == 4) {
      config_address_ = value & 0x80fffffc;
      return;
    }
    uint32_t offset = 0;
    if (port < kPciConfigDataPort || !SelectsDevice(&offset)) return;
    const uint32_t byte = port - kPciConfigDataPort;
    // Byte, word and dword accesses inside the register reach the device.
    if (size == 0 || size == 3 || byte + size > 4) return;
    const uint32_t masked =
        size == 4 ? value : value & ((uint32_t{1} << (8 * size)) - 1);
    ModelDeviceWrite(offset + byte, size, masked);
  }

  // ---- the checks after every step ----------------------------------------

  void CheckState() {
    for (uint32_t i = 0; i < 64; ++i) {
      const uint32_t value = pci_->ReadConfigRegister(i);
      Require(value == model_[i],
              i == kBarLowRegister || i == kBarHighRegister
                  ? "BAR 2/3 hold the written address bits above the BAR's "
                    "size (all ones reads back the size mask) and the 64-bit "
                    "prefetchable type bits"
                  : "only writable bits change: ids, status, class, header, "
                    "capability pointer and capabilities are read-only",
              Where() + absl::StrFormat("register %u (%#x) is %#x, expected %#x",
                                        i, 4 * i, value, model_[i]));
    }
    Require((model_[kBarLowRegister] & 0xf) == 0xc,
            "BAR 2 says 64-bit prefetchable memory", Where());
    CheckCapabilities();
    CheckPlacement();
  }

  void CheckPlacement() {
    const uint64_t address = pci_->shared_memory_address();
    Require(address == placed_,
            "with decoding on the region follows the BAR wherever the Vm can "
            "hold it; otherwise it stays where it was",
            Where() + absl::StrFormat("region at %#x, expected %#x (BAR decodes "
                                      "to %#x, decoding %s)",
                                      address, placed_, Decoded(),
                                      Decoding() ? "on" : "off"));
    if (Decoding() && Decoded() != placed_) {
      const absl::Status last = pci_->last_move_status();
      Require(expect_move_refused_ &&
                  (last.code() == absl::StatusCode::kOutOfRange ||
                   last.code() == absl::StatusCode::kAlreadyExists),
              "a move the Vm cannot take is refused and reported",
              Where() + last.ToString());
    }
    absl::StatusOr<VmMemoryService::RegionStatus> status =
        service_->GetRegionStatus(*pci_->shared_memory_region());
    Require(status.ok() && status->guest_address == placed_ &&
                status->size == bar_size_,
            "the service's region is the BAR's range",
            Where() + status.status().ToString());
    if (!mapped_) return;
    Require(status->mapping_count == 1, "a BAR move keeps the region's mappings",
            Where());
    absl::StatusOr<std::vector<uint8_t>> bytes = vm_->ReadGuest(placed_, Page());
    Require(bytes.ok() && (*bytes)[0] == kBlobByte &&
                (*bytes)[Page() - 1] == kBlobByte,
            "the guest reads the mapped blob at the region's address",
            Where() + bytes.status().ToString());
  }

  FuzzInput& in_;
  int step_ = 0;
  SharedMemoryInfo info_;
  uint64_t bar_size_ = 0;
  bool mapped_ = false;
  uint64_t placed_ = 0;
  bool expect_move_refused_ = false;
  uint32_t config_address_ = 0;
  uint32_t model_[64] = {};
  uint32_t writable_[64] = {};
  std::unique_ptr<FakeVm> vm_;
  std::unique_ptr<VmMemoryService> service_;
  std::unique_ptr<BarAllocator> bars_;
  std::unique_ptr<FakeVirtioDevice> device_;
  std::unique_ptr<VirtioPciDevice> pci_;
  std::unique_ptr<PciBus> bus_;
};

}  // namespace
}  // namespace hv::virtio

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return hv::virtio::RunFuzzInput<hv::virtio::Run>(data, size);
}
