#include "tools/hvrun/exit_codes.h"

#include "absl/strings/str_format.h"
#include "tools/hvrun/signal_watcher.h"

namespace hv {

RunReport ReportRun(const RunResult& r, bool demo) {
  switch (r.end) {
    case RunEnd::kDebugExit:
      if (demo && r.guest_value == 0) {
        return {kExitGuestNoValue, absl::StrFormat("guest finished (%s) with value 0: the "
                                                   "demo worked",
                                                   r.how)};
      }
      if (r.guest_value > kMaxGuestExitValue) {
        return {kExitGuestValueTooLarge,
                absl::StrFormat("guest finished (%s) with value %u, above the %u an exit "
                                "status can carry; exit status %d",
                                r.how, r.guest_value, kMaxGuestExitValue,
                                kExitGuestValueTooLarge)};
      }
      {
        const int code = static_cast<int>(r.guest_value << 1) | 1;
        return {code, absl::StrFormat("guest finished (%s) with value %u; exit status %d",
                                      r.how, r.guest_value, code)};
      }
    case RunEnd::kReset:
      return {kExitGuestNoValue, absl::StrFormat("guest finished: %s", r.how)};
    case RunEnd::kHalted:
    case RunEnd::kSystemOff:
      return {kExitGuestNoValue, absl::StrFormat("guest finished (%s) without a value", r.how)};
    case RunEnd::kTimeout:
      return {kExitTimeout, r.how};
    case RunEnd::kGuestFault:
      return {kExitGuestFault, r.how};
    case RunEnd::kInterrupted:
      return {kExitSignalBase + r.signal,
              absl::StrFormat("interrupted by %s; the guest's output so far is flushed to "
                              "stdout; exit status %d",
                              SignalName(r.signal), kExitSignalBase + r.signal)};
    case RunEnd::kHostError:
      return {kExitHypervisor, r.how};
    case RunEnd::kSnapshot:
      return {kExitSnapshotWritten, r.how};
  }
  return {kExitHypervisor, "the run ended in a way hvrun does not know"};
}

}  // namespace hv
