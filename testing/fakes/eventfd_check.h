// What a fake kernel driver does with a descriptor a caller hands it as an
// eventfd (irqfds, ioeventfds): check that it is one, as the kernel's
// eventfd_ctx_fdget() does, then signal it or read its counter.
//
// Example:
//   if (int error = hv::testing::CheckEventfd(args.fd)) return -error;
//   ...
//   hv::testing::SignalEventfd(dup);               // the guest wrote
//   uint64_t rings = hv::testing::DrainEventfd(dup);  // 1
#ifndef HV_TESTING_FAKES_EVENTFD_CHECK_H_
#define HV_TESTING_FAKES_EVENTFD_CHECK_H_

#include <cstdint>

namespace hv::testing {

// CheckEventfd(): 0 when `fd` is an open eventfd; EBADF when it is no open
// descriptor; EINVAL when it is another kind of file.
int CheckEventfd(int fd);

// SignalEventfd(): adds 1 to the counter of eventfd `fd` (eventfd_signal;
// saturates rather than failing, as the kernel's does).
void SignalEventfd(int fd);

// DrainEventfd(): reads and resets the counter of eventfd `fd` without
// blocking; 0 when it was zero.
uint64_t DrainEventfd(int fd);

}  // namespace hv::testing

#endif  // HV_TESTING_FAKES_EVENTFD_CHECK_H_
