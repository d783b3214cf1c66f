// hvrun's exit statuses: the guest's own value can never be mistaken for
// one of hvrun's errors.
//
//   0        the guest ended without a value: every vCPU halted (x86), PSCI
//            SYSTEM_OFF with nothing written to the debug exit (aarch64);
//            the built-in demo succeeded (its guest wrote 0); a Linux guest
//            reset the machine (`reboot`: 8042 reset line or triple fault)
//   odd      the guest wrote v (0..63) to the debug exit: (v << 1) | 1, as
//            QEMU's isa-debug-exit (1 for 0, 15 for 7, 127 for 63)
//   2        usage: an unknown flag, a bad value, flags that do not apply
//   4        the --payload file: missing, unreadable, not a regular file,
//            empty, larger than RAM, an ELF file or a bzImage; the --kernel
//            or --initrd file: missing, unreadable, not a bzImage hv boots
//            (truncated, bad header fields, protocol before 2.12), or with
//            the command line, not fitting --mem
//   6        the hypervisor is unavailable or refused (opening it, creating
//            the VM, RAM or vCPUs, a host thread), or failed during the run
//   8        a guest fault: triple fault, emulation failure, failed entry
//   10       the --timeout passed
//   12       the guest wrote a debug-exit value above 63
//   14       stopped for a snapshot (--snapshot_after, --snapshot_on) and
//            the snapshot written: hvrun --restore=FILE continues the guest
//   16       stopped for a snapshot, but taking or writing it failed
//   128 + n  ended by signal n (130 SIGINT, 143 SIGTERM)
//
// Example:
//   hv::RunReport report = hv::ReportRun(machine->Run(std::cout), /*demo=*/false);
//   std::cerr << "hvrun: " << report.line << "\n";
//   return report.exit_code;
#ifndef HV_TOOLS_HVRUN_EXIT_CODES_H_
#define HV_TOOLS_HVRUN_EXIT_CODES_H_

#include <string>

#include "tools/hvrun/machine.h"

namespace hv {

inline constexpr int kExitGuestNoValue = 0;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInputFile = 4;
inline constexpr int kExitHypervisor = 6;
inline constexpr int kExitGuestFault = 8;
inline constexpr int kExitTimeout = 10;
inline constexpr int kExitGuestValueTooLarge = 12;
inline constexpr int kExitSnapshotWritten = 14;
inline constexpr int kExitSnapshotFailed = 16;
inline constexpr int kExitSignalBase = 128;
// The largest debug-exit value that has an exit status of its own.
inline constexpr uint64_t kMaxGuestExitValue = 63;

struct RunReport {
  int exit_code = 0;
  std::string line;  // what hvrun prints on stderr after "hvrun: "
};

// ReportRun(): the exit status and the one line for how a run ended. For
// the demo (`demo` true) a debug-exit value of 0 means success: exit 0. A
// stop for a snapshot (RunEnd::kSnapshot) is kExitSnapshotWritten with
// `how`: the caller writes the snapshot first, and says where in `how`.
RunReport ReportRun(const RunResult& result, bool demo);

}  // namespace hv

#endif  // HV_TOOLS_HVRUN_EXIT_CODES_H_
