// User memory as a fake kernel driver sees it: copy_from_user and
// copy_to_user of the caller's pointers, and the check a driver makes that a
// host range is mapped (or pinnable for reading and writing) before it
// hands the range to a guest. Every fake in testing/fakes probes the same
// way, and answers EFAULT where the kernel would.
//
// The copies never fault: the kernel does the access (process_vm_readv /
// process_vm_writev on this process, or where those are refused, as under
// qemu-user or seccomp, a pipe), so a pointer into unmapped or protected
// memory reads as EFAULT, as it does for a driver. A null pointer is EFAULT
// without a probe. The range checks read /proc/self/maps.
//
// Example:
//   hv::geniezone_abi::Ioeventfd args;
//   if (int error = hv::testing::CopyFromUser(arg, args)) return -error;
//   ...
//   if (!hv::testing::UserRangeMapped(addr, size,
//                                     hv::testing::UserAccess::kReadWrite))
//     return -EFAULT;
#ifndef HV_TESTING_FAKES_USER_MEMORY_H_
#define HV_TESTING_FAKES_USER_MEMORY_H_

#include <cstddef>
#include <cstdint>

namespace hv::testing {

// CopyFromUser(): `size` bytes at user address `from` into `to`; 0, or
// EFAULT (nothing promised about `to`) when a byte of the source is not
// readable.
int CopyFromUser(void* to, uintptr_t from, size_t size);

// CopyFromUser(): a T at user address `from`.
template <typename T>
int CopyFromUser(uintptr_t from, T& out) {
  return CopyFromUser(&out, from, sizeof(T));
}

// CopyToUser(): `size` bytes from `from` to user address `to`; 0, or
// EFAULT when a byte of the destination is not writable (the bytes before
// it may have been written, as with copy_to_user).
int CopyToUser(uintptr_t to, const void* from, size_t size);

// What a range must allow.
enum class UserAccess {
  kMapped,     // any mapping, even PROT_NONE (a VMA exists)
  kRead,       // readable (pin_user_pages without FOLL_WRITE)
  kReadWrite,  // readable and writable (FOLL_WRITE)
};

// UserRangeMapped(): whether every page of [address, address + size) lies
// in a mapping of this process that allows `access`. False for a range
// that wraps; true for an empty one.
bool UserRangeMapped(uint64_t address, uint64_t size, UserAccess access);

}  // namespace hv::testing

#endif  // HV_TESTING_FAKES_USER_MEMORY_H_
