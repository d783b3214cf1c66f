// Machine: a small VM that runs a flat binary: guest RAM at the
// architecture's RAM base, the payload loaded at an address, N vCPUs started
// at an entry point, a console, a debug-exit register, and room for more
// port/MMIO devices (hvrun's demo adds a PCI bus with a virtio device).
//
// The architecture-specific parts (RAM base, how a vCPU is started, where
// the console and the debug exit live) are in machine_x86_64.cc or
// machine_aarch64.cc, chosen by BUILD select() on the target platform.
//
// Guest-visible contract, x86_64 (machine_x86_64.cc):
//   - RAM: [0, mem_size). hv writes its GDT and page tables at
//     [0x1000, 0x8000) in protected and long mode; a payload there is
//     refused. The entry must lie in RAM (real mode: below 1 MiB).
//   - Every vCPU starts at `entry` in `mode` (real, protected or long) with
//     its index in rdi (di in real mode), interrupts off and no IDT: any
//     exception triple-faults, which ends the run as a guest fault.
//   - Stacks, one per vCPU, never shared: real mode: ss = 0, sp = 0x8000 -
//     index * 0x400 (1 KiB each, all in [0x1000, 0x8000): at most 28 vCPUs;
//     RAM must reach 0x8000). Protected and long mode: rsp = top - index *
//     0x10000 (64 KiB each), top = the end of RAM or 4 GiB, whichever is
//     lower (what 32-bit code and hv's 4 GiB of page tables reach). A stack
//     area that overlaps the payload or hv's tables is refused up front.
//   - Protected and long mode: SSE usable (CR0.MP = 1, CR0.EM = 0,
//     CR4.OSFXSR = 1, CR4.OSXMMEXCPT = 1); x87 and SSE in their reset state.
//   - Port 0x3f8 (COM1 data) writes go to the console; reads of the line
//     status register 0x3fd say the transmitter is empty.
//   - Port 0xf4 (debug exit, as QEMU's isa-debug-exit): a write ends the run
//     and records the value written (RunEnd::kDebugExit).
//   - HLT stops that vCPU; the run ends when every vCPU has stopped
//     (kHalted), at a debug exit, at a guest fault (triple fault,
//     emulation failure), at the timeout, or when Interrupt() is called.
//
// Guest-visible contract, aarch64 (machine_aarch64.cc):
//   - RAM: [0x40000000, 0x40000000 + mem_size); nothing of hv's is in it.
//   - Every vCPU starts at `entry` at EL1h (SP_EL1), MMU and caches off,
//     D/A/I/F masked, with its index in x0, the number of vCPUs in x1 and
//     its own stack (sp) at the top of RAM - index * 64 KiB (stacks that
//     do not fit in RAM or overlap the payload are refused up front). No
//     vector table: an exception loops or faults. Mode "el1" is the only
//     one (the default).
//   - MMIO 0x09000000 (console, the data register of a PL011-like UART):
//     each byte written goes to the console; reads of 0x09000018 (the
//     PL011 flag register) return 0x90 (transmit FIFO empty, receive FIFO
//     empty), other console reads 0.
//   - MMIO 0x09010000 (debug exit): a write of 1-8 bytes records the value;
//     the run ends at PSCI SYSTEM_OFF (or SYSTEM_RESET) with it
//     (kDebugExit), or kSystemOff when nothing was written. PSCI 0.2+
//     (hvc #0) is the hypervisor's.
//   - The run ends at SYSTEM_OFF/RESET, at a guest fault, at the timeout
//     or when Interrupt() is called.
//
// Linux guests (MachineOptions::linux_boot; x86_64 on Linux hosts,
// machine_linux_x86_64.cc): the machine is a small PC without firmware.
//   - RAM [0, min(mem, 3 GiB)) and the rest from 4 GiB; [3 GiB, 4 GiB) is
//     for PCI BARs, the IOAPIC and the LAPIC (linux_boot/x86_64_layout.h).
//   - The kernel, initrd, command line, zero page and MP table are loaded
//     as linux_boot/ lays them out; vCPU 0 enters the kernel's 64-bit entry
//     point, the others wait for INIT/SIPI (linux_boot/x86_64_vcpu.h).
//   - The hypervisor's in-kernel PIC, IOAPIC, LAPICs and PIT; a 16550A
//     UART at 0x3f8 on IRQ 4 (the console, both ways: QueueConsoleInput);
//     an 8042 whose reset line ends the run (RunEnd::kReset), as a triple
//     fault does; a PCI host bridge at 00:00.0 on ports 0xcf8/0xcfc, where
//     AddPciDevice() puts more devices. Ports nothing claims read as ones.
//     The debug-exit port 0xf4 works as for payloads.
//   - Snapshots: the UART, 8042, PCI bus and host bridge are the machine's
//     device_states() (sections 1-4); with state_from_snapshot the board
//     is built without the images, its vCPUs given only their CPUID.
// On aarch64 Linux hosts (machine_linux_aarch64.cc) it is a small "virt"
// board: RAM from 0x40000000 with the Image, initrd and device tree where
// linux_boot/arm64_layout.h puts them (x0 = the tree); the in-kernel GICv3
// (distributor 0x08000000, redistributors from 0x080a0000); a 16550 on
// MMIO 0x09000000 (SPI 1); PCI through ECAM at 0x30000000 with BARs in
// [0x10000000, 0x30000000), kept by Linux (linux,pci-probe-only); vCPU 0
// enters the kernel, the others start when the guest asks PSCI CPU_ON;
// PSCI SYSTEM_OFF and SYSTEM_RESET end the run (RunEnd::kSystemOff).
//
// Example:
//   hv::MachineOptions options;
//   options.payload = bytes;
//   ASSIGN_OR_RETURN(auto machine, hv::Machine::Create(options));
//   hv::RunResult result = machine->Run(std::cout);
#ifndef HV_TOOLS_HVRUN_MACHINE_H_
#define HV_TOOLS_HVRUN_MACHINE_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "absl/time/time.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/memory.h"
#include "hypervisor/vcpu.h"
#include "hypervisor/vm.h"
#include "tools/hvrun/exit_stats.h"

namespace hv {

// MachineLayout: where the machine of the target architecture puts things.
struct MachineLayout {
  const char* arch;                  // "x86_64", "aarch64"
  GuestAddress ram_base;             // guest-physical start of RAM
  GuestAddress default_load_address;
  const char* default_mode;          // --mode when none is given
  const char* modes;                 // the accepted --mode values, for help
  // The console: a byte written at console_address goes to the console;
  // a read of console_status_address returns console_status_value.
  bool console_is_port;              // port I/O (x86) or MMIO
  uint64_t console_address;
  uint64_t console_status_address;
  uint8_t console_status_value;
  uint64_t console_size;             // the console owns [address, +size)
  // The debug exit: true when the write itself ends the run (x86 port 0xf4);
  // false when it records the exit code for the next SYSTEM_OFF (aarch64).
  bool debug_exit_is_port;
  uint64_t debug_exit_address;
  bool debug_exit_ends_run;
};

// MachineLayoutForTarget(): the layout of the architecture hvrun was built
// for (machine_<arch>.cc).
const MachineLayout& MachineLayoutForTarget();

struct LinuxBootOptions {
  std::vector<uint8_t> initrd;  // empty: none
  std::string cmdline;
};

struct MachineOptions {
  std::string hypervisor = "kvm";
  uint64_t mem_size = 64ull << 20;
  uint32_t vcpus = 1;
  // CPU mode at entry; "" for the architecture's default
  // (MachineLayout::default_mode).
  std::string mode;
  // Guest-physical addresses; nullopt for the architecture's defaults (the
  // layout's default load address; the entry is the load address).
  std::optional<GuestAddress> load_address;
  std::optional<GuestAddress> entry;
  std::vector<uint8_t> payload;
  // Boot Linux: `payload` is the kernel image (x86_64: a bzImage, entered
  // through the 64-bit boot protocol). See "Linux guests" above.
  std::optional<LinuxBootOptions> linux_boot;
  // End the run with RunEnd::kSnapshot once this many VM exits (all vCPUs
  // together, as ExitStats counts them, kicks not included) have been
  // handled; 0: never.
  uint64_t stop_after_exits = 0;
  // Time every exit for stats() (two steady-clock reads per exit, ~50 ns
  // on a kvm_pvm host); without it stats() has counts and zero times.
  bool time_exits = false;
  // The RAM and vCPU state will come from a snapshot (machine_snapshot.h):
  // `payload` may be empty and nothing is loaded (a Linux guest: no kernel,
  // initrd or boot state, `linux_boot` only says which machine to build;
  // its vCPUs get their CPUID, the one thing a snapshot does not hold).
  bool state_from_snapshot = false;
};

// How a run ended.
enum class RunEnd {
  kDebugExit,    // the guest gave a value through the debug exit
  kHalted,       // x86: every vCPU halted
  kSystemOff,    // aarch64: PSCI SYSTEM_OFF/RESET with no value recorded
  kTimeout,      // the timeout passed first
  kGuestFault,   // triple fault, emulation failure, failed entry, crash
  kInterrupted,  // RunInterrupter::Interrupt() (hvrun: SIGINT/SIGTERM)
  kHostError,    // a hypervisor call or a host thread failed
  kReset,        // Linux guests: the guest reset the machine (8042 reset
                 // line or triple fault), as `reboot` does
  kSnapshot,     // stopped for a snapshot: MachineOptions::stop_after_exits
                 // or RunInterrupter::StopForSnapshot(); every vCPU is
                 // stopped between two exits and can be captured
};

struct RunResult {
  RunEnd end = RunEnd::kHalted;
  uint64_t guest_value = 0;  // kDebugExit: the value the guest wrote
  int signal = 0;            // kInterrupted: what Interrupt() was given;
                             // kSnapshot: what StopForSnapshot() was given
  // One line: "debug exit", "all vCPUs halted", or what went wrong (a
  // guest fault names the vCPU and its registers as the hypervisor
  // reports them).
  std::string how;
  // kTimeout: a line a vCPU saying where it was when the time ran out
  // ("vCPU 1: 2 exits, MP state init_received; rip=0xfff0 rsp=0 ..."), to
  // find out why the guest hung. Empty for the other ends.
  std::vector<std::string> vcpu_states;
};

class Machine;
namespace virtio {
class PciDevice;
}

// RunInterrupter: ends a Machine's run from another thread. Interrupt()
// ends the run in progress, or, when called before Run(), makes the next
// Run() end at once; either way with RunEnd::kInterrupted. Thread safe.
class RunInterrupter {
 public:
  void Interrupt(int signal);
  // RunInterrupter::StopForSnapshot(): as Interrupt(), but the run ends
  // with RunEnd::kSnapshot (hvrun: --snapshot_on's signal).
  void StopForSnapshot(int signal);
  // RunInterrupter::signal(): what Interrupt() was given, 0 before.
  int signal() const;

 private:
  friend class Machine;
  void Attach(Machine* machine);
  void Detach();
  // The RunResult for a request made with `signal`.
  RunResult Request(int signal) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  mutable std::mutex mutex_;
  Machine* machine_ ABSL_GUARDED_BY(mutex_) = nullptr;
  int signal_ ABSL_GUARDED_BY(mutex_) = 0;
  bool for_snapshot_ ABSL_GUARDED_BY(mutex_) = false;
};

// A device on the port or MMIO bus: returns false when the access is not
// its own.
using IoHandler = std::function<bool(IoRequest&)>;

// GuestRamRange: a range of guest RAM and the host memory behind it.
struct GuestRamRange {
  GuestAddress address = 0;
  absl::Span<uint8_t> host;
};

// The sections of hvrun's own in a snapshot file (Tag::kVmmState, each
// numbered): the machine's (vCPUs halted, exits, which devices), then one a
// device, its number the same on every board that has the device, so the
// list is this one (the arm64 board's ECAM keeps no state of its own).
inline constexpr uint32_t kMachineStateIndex = 0;     // machine_snapshot.cc
inline constexpr uint32_t kUartStateIndex = 1;        // the Linux boards' 16550
inline constexpr uint32_t kI8042StateIndex = 2;       // x86_64's 8042
inline constexpr uint32_t kPciBusStateIndex = 3;      // x86_64's port-I/O PCI bus
inline constexpr uint32_t kHostBridgeStateIndex = 4;  // x86_64's host bridge
inline constexpr uint32_t kDemoDeviceStateIndex = 5;  // the demo's virtio device (demo.h)

// DeviceState: a device in user space whose state a snapshot of the machine
// carries (machine_snapshot.h; device_state.h makes one of a device), in
// its own section of hvrun's, numbered `index`.
struct DeviceState {
  uint32_t index = 0;  // 1 and up (kMachineStateIndex is the machine's)
  std::string name;    // "16550 UART", for errors
  // The device's state as bytes; between runs.
  std::function<std::vector<uint8_t>()> save;
  // Whether `bytes` (save()'s, maybe of another process) can be restored;
  // changes nothing.
  std::function<absl::Status(absl::Span<const uint8_t>)> check;
  // Makes the device's state `bytes`'s; nothing changed on an error.
  std::function<absl::Status(absl::Span<const uint8_t>)> restore;
};

class Machine {
 public:
  // Machine::Create(): INVALID_ARGUMENT for options that do not fit
  // together (payload, entry, stacks, mode); OUT_OF_RANGE for more vCPUs
  // than the hypervisor's own limit per VM (Hypervisor::MaxVcpus());
  // RESOURCE_EXHAUSTED when RLIMIT_NOFILE leaves no room for the vCPUs'
  // fds (host_limits.h); the hypervisor's own error otherwise. The options
  // are taken by value: a caller that moves them in has the kernel, initrd
  // and payload bytes freed once they are in guest RAM (a Debian bzImage
  // and its initramfs are ~16 MiB that would otherwise stay resident).
  static absl::StatusOr<std::unique_ptr<Machine>> Create(
      MachineOptions options);
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;
  ~Machine();

  Vm& vm() { return *vm_; }
  // Machine::ram(): the host view of guest RAM (at layout().ram_base).
  uint8_t* ram() { return ram_; }
  // Machine::ram_size(): payloads: the bytes at ram(); Linux guests: 0
  // (their RAM is in ranges, machine_linux_<arch>.cc).
  uint64_t ram_size() const { return ram_size_; }
  // Machine::mem_size(): the RAM it was made with (MachineOptions::mem_size).
  uint64_t mem_size() const { return mem_size_; }
  // Machine::ram_ranges(): all of guest RAM: payloads one range (ram() at
  // layout().ram_base), Linux guests one or two (around the PCI hole).
  const std::vector<GuestRamRange>& ram_ranges() const { return ram_ranges_; }
  const MachineLayout& layout() const { return layout_; }
  const std::vector<std::unique_ptr<Vcpu>>& vcpus() const { return vcpus_; }
  bool linux_guest() const { return linux_guest_; }
  absl::string_view hypervisor_kind() const { return hypervisor_->kind(); }

  // Machine::halted_vcpus(): per vCPU, whether it has halted (x86 HLT: its
  // thread stopped, and Run() does not run it again). Between runs only.
  std::vector<bool> halted_vcpus() const {
    return std::vector<bool>(halted_.begin(), halted_.end());
  }
  // Machine::SetHaltedVcpus(): as a snapshot recorded them; INVALID_ARGUMENT
  // for another vCPU count. Between runs only.
  absl::Status SetHaltedVcpus(const std::vector<bool>& halted);
  // Machine::exits_handled(): the VM exits counted for stop_after_exits.
  uint64_t exits_handled() const { return exits_handled_; }

  // Machine::AddPciDevice(): Linux guests: puts `device` (not owned; it
  // must outlive the machine) at 00:`slot`.0 of the machine's PCI bus.
  // FAILED_PRECONDITION for a machine without one (payloads).
  absl::Status AddPciDevice(uint8_t slot, virtio::PciDevice* device);

  // Machine::AddDeviceState(): a device whose state snapshots carry (the
  // Linux board's own, added by Create(); more by whoever adds a device).
  // INVALID_ARGUMENT for index 0, a taken index or a missing function.
  absl::Status AddDeviceState(DeviceState state);
  const std::vector<DeviceState>& device_states() const { return device_states_; }

  // Machine::CheckLinuxImages(): checks the kernel, initrd and command line
  // of `options.linux_boot` against `options.mem_size` as Create() will
  // (header, protocol version, fit in RAM) without opening anything; an
  // error here is the images', not the hypervisor's. OK where this build
  // cannot boot Linux at all (Create() says so).
  static absl::Status CheckLinuxImages(const MachineOptions& options);

  // Machine::QueueConsoleInput(): bytes for the guest's console (Linux
  // guests: the UART's receiver). Thread safe; dropped without a UART.
  void QueueConsoleInput(absl::string_view bytes);
  bool has_console_input() const { return static_cast<bool>(console_input_); }

  // Machine::AddPortHandler() / AddMmioHandler(): before Run().
  void AddPortHandler(IoHandler handler) { port_handlers_.push_back(std::move(handler)); }
  void AddMmioHandler(IoHandler handler) { mmio_handlers_.push_back(std::move(handler)); }

  // Machine::Run(): runs every vCPU on its own thread until the run ends
  // (RunEnd says how; never throws, also when the host cannot start a
  // thread); console output goes to `serial`, flushed before it returns.
  // `interrupter`, if given, can end the run from another thread.
  RunResult Run(std::ostream& serial,
                absl::Duration timeout = absl::Seconds(30),
                RunInterrupter* interrupter = nullptr);

  // Machine::stats(): every vCPU's exits so far, merged; call it between
  // runs (each vCPU thread writes its own ExitStats during Run()).
  ExitStats stats() const;

 private:
  // `o`: the run settings (stop_after_exits, time_exits); the creators
  // apply the rest.
  Machine(const MachineLayout& layout, const MachineOptions& o,
          std::unique_ptr<Hypervisor> hypervisor, std::unique_ptr<Vm> vm, uint8_t* ram,
          std::vector<std::unique_ptr<Vcpu>> vcpus)
      : layout_(layout),
        hypervisor_(std::move(hypervisor)),
        vm_(std::move(vm)),
        ram_(ram),
        mem_size_(o.mem_size),
        vcpus_(std::move(vcpus)),
        stop_after_exits_(o.stop_after_exits),
        time_exits_(o.time_exits) {}

  // Machine::CreateLinux(): Create() for options.linux_boot
  // (machine_linux_<arch>.cc).
  static absl::StatusOr<std::unique_ptr<Machine>> CreateLinux(
      const MachineOptions& options);
  // A Linux guest's UART output: one byte to the console Run() was given
  // (dropped outside a run), flushed at each newline.
  void WriteConsoleByte(uint8_t byte);

  // Runs vCPU `index` until it halts or the run ends; sets ended_ when it
  // ends the run.
  void RunVcpu(size_t index, std::ostream& serial);
  // Counts a handled exit; ends the run for a snapshot at stop_after_exits_.
  void CountExit();
  // Performs one access on the port (is_port) or MMIO bus: the console and
  // debug exit first, then the added handlers. Sets *ended when it ended
  // the run.
  void HandleAccess(bool is_port, IoRequest& io, std::ostream& serial,
                    bool* ended);
  void EndRun(RunResult result);
  // Ends the run as a guest fault on `vcpu`: `what` and its registers.
  void EndWithGuestFault(Vcpu& vcpu, absl::string_view what);
  // RunResult::vcpu_states: each vCPU's exits, MP state and registers.
  // Only once every vCPU thread has left Run().
  std::vector<std::string> DescribeVcpus();
  friend class RunInterrupter;
  void KickAll();

  const MachineLayout& layout_;
  const std::unique_ptr<Hypervisor> hypervisor_;
  const std::unique_ptr<Vm> vm_;
  uint8_t* const ram_;  // owned by vm_
  const uint64_t mem_size_;  // MachineOptions::mem_size, on every board
  const std::vector<std::unique_ptr<Vcpu>> vcpus_;
  uint64_t ram_size_ = 0;
  std::vector<GuestRamRange> ram_ranges_;
  std::vector<DeviceState> device_states_;
  // Written by vCPU i's thread only, read between runs (after the join).
  // (bytes, not std::vector<bool>'s bits: the threads write side by side).
  std::vector<uint8_t> halted_ = std::vector<uint8_t>(vcpus_.size(), 0);
  const uint64_t stop_after_exits_;
  const bool time_exits_;
  std::atomic<uint64_t> exits_handled_{0};
  std::vector<IoHandler> port_handlers_;
  std::vector<IoHandler> mmio_handlers_;
  // Linux guests (set by CreateLinux): the devices the machine owns, the
  // console's input, how AddPciDevice reaches the bus; the layout's simple
  // console is then off (a UART is a port handler) and a triple fault is a
  // reset.
  std::vector<std::shared_ptr<void>> devices_;
  std::function<void(absl::string_view)> console_input_;
  std::function<absl::Status(uint8_t, virtio::PciDevice*)> add_pci_device_;
  bool linux_guest_ = false;
  // Where the console writes during Run() (the UART's output callback).
  std::atomic<std::ostream*> console_{nullptr};
  // vCPU i's exits, written by its thread only, read between runs.
  std::vector<ExitStats> vcpu_stats_ = std::vector<ExitStats>(vcpus_.size());
  // The last value written to a recording debug exit (aarch64), and
  // whether one was written.
  std::atomic<uint64_t> pending_exit_value_{0};
  std::atomic<bool> has_pending_exit_value_{false};

  // std::mutex rather than absl::Mutex: Debian's Abseil is not built with
  // TSan, which then cannot see absl::Mutex's synchronisation.
  std::mutex mutex_;
  std::condition_variable ended_changed_;
  std::atomic<bool> ending_{false};
  bool ended_ ABSL_GUARDED_BY(mutex_) = false;
  RunResult result_ ABSL_GUARDED_BY(mutex_);
  std::mutex serial_mutex_;
};

// ParseMemorySize(): "64M", "2G", "4096K", "1T" or a byte count; must be
// a non-zero multiple of 4 KiB of at most 64 TiB. INVALID_ARGUMENT naming
// `text` otherwise (a sign, an unknown suffix, an overflow).
absl::StatusOr<uint64_t> ParseMemorySize(absl::string_view text);

namespace machine_internal {

// OpenHypervisor(): the hypervisor `options.hypervisor` names, once it is
// known to allow options.vcpus vCPUs per VM (OUT_OF_RANGE otherwise) and the
// host leaves fds for them (CheckFdRoomForVcpus). Both machines' first step.
absl::StatusOr<std::unique_ptr<Hypervisor>> OpenHypervisor(const MachineOptions& options);

// VcpuCreationError(): `status` (creating vCPU `index` failed) with "creating
// vCPU <index> of <count>: " before its message.
absl::Status VcpuCreationError(const absl::Status& status, uint32_t index, uint32_t count);

// LinuxBootError(): `status` from setting up `what` for a Linux guest, with
// "linux boot: <what>: " before its message (OK stays OK).
absl::Status LinuxBootError(const absl::Status& status, absl::string_view what);

// What machine_<arch>.cc provides to Machine::Create.

// CheckArchOptions(): the mode is one the architecture knows, the entry is
// reachable in it, every vCPU's stack fits where the mode reaches, and the
// payload overlaps neither the stacks nor what hv writes into guest RAM.
absl::Status CheckArchOptions(const MachineOptions& options,
                              GuestAddress load_address, GuestAddress entry);

// DescribeVcpuRegisters(): the vCPU's registers on one line ("rip=0x...
// rsp=0x..."), as the hypervisor reports them now, or why they could not
// be read.
std::string DescribeVcpuRegisters(Vcpu& vcpu);

// CreateArchVcpu(): vCPU `index` of `vm`, ready to run at `entry`; `ram` is
// all of guest RAM (at MachineLayout::ram_base).
absl::StatusOr<std::unique_ptr<Vcpu>> CreateArchVcpu(
    Vm& vm, uint32_t index, const MachineOptions& options, GuestAddress entry,
    absl::Span<uint8_t> ram);

}  // namespace machine_internal

}  // namespace hv

#endif  // HV_TOOLS_HVRUN_MACHINE_H_
