// Vocabulary for guest memory: addresses, slots, protections, cache types
// and the options of a memory region.
//
// Example:
//   MemoryRegionOptions options;
//   options.read_only = true;
//   ASSIGN_OR_RETURN(MemSlot slot,
//                    vm->AddMemoryRegion(0xfff00000, std::move(rom), options));
#ifndef HV_HYPERVISOR_MEMORY_H_
#define HV_HYPERVISOR_MEMORY_H_

#include <cstdint>
#include <string>

namespace hv {

using GuestAddress = uint64_t;
using MemSlot = uint32_t;

// MemCacheType: the memory type a hypervisor mapping is to have.
enum class MemCacheType {
  // The host's coherent (write-back) view; the guest's memory type
  // attributes are overridden. Every hypervisor supports it.
  kCacheCoherent,
  // Honour the guest's memory type attributes (e.g. a guest's write-combined
  // mapping of a GPU blob that the device reads non-coherently). Only where
  // the hypervisor offers it: see VmCap::kMemNoncoherentDma.
  kCacheNonCoherent,
};

const char* MemCacheTypeName(MemCacheType cache);

// Protection: what the guest (or the host mapping) may do with memory.
struct Protection {
  bool read = true;
  bool write = false;

  static constexpr Protection Read() { return {true, false}; }
  static constexpr Protection ReadWrite() { return {true, true}; }
  static constexpr Protection None() { return {false, false}; }

  friend bool operator==(Protection a, Protection b) {
    return a.read == b.read && a.write == b.write;
  }
  friend bool operator!=(Protection a, Protection b) { return !(a == b); }
};

std::string ProtectionName(Protection prot);

// MemoryRegionOptions: how Vm::AddMemoryRegion registers a region.
struct MemoryRegionOptions {
  // Guest writes become MMIO exits and leave memory untouched.
  bool read_only = false;
  // Track guest writes for Vm::GetDirtyLog.
  bool log_dirty_pages = false;
  MemCacheType cache = MemCacheType::kCacheCoherent;
};

}  // namespace hv

#endif  // HV_HYPERVISOR_MEMORY_H_
