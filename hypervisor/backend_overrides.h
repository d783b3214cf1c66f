// The override lists every backend's Vm and Vcpu classes declare, written
// once: each backend implements the whole of VcpuX86_64's or VcpuAArch64's
// state calls and the same BackendVm hooks, and a call added to those
// interfaces is then added here, not in five headers. Each macro declares
// members in a class body; what a backend does in each one is said where
// it defines it (its *_vcpu_x86_64.cc, *_vm.cc, ...). Backend support: not
// part of the hypervisor API.
//
// Example (a backend's x86 vCPU):
//   class MyVcpu final : public hv::BackendVcpu<hv::VcpuX86_64> {
//    public:
//     HV_VCPU_X86_64_STATE_OVERRIDES
//     ...
//   };
#ifndef HV_HYPERVISOR_BACKEND_OVERRIDES_H_
#define HV_HYPERVISOR_BACKEND_OVERRIDES_H_

// VcpuX86_64's register, MSR, CPUID, local APIC, interrupt and TSC calls
// (hypervisor/x86_64/vcpu_x86_64.h): KVM, WHPX and HAXM.
#define HV_VCPU_X86_64_STATE_OVERRIDES                                   \
  absl::StatusOr<Regs> GetRegs() override;                               \
  absl::Status SetRegs(const Regs& regs) override;                       \
  absl::StatusOr<Sregs> GetSregs() override;                             \
  absl::Status SetSregs(const Sregs& sregs) override;                    \
  absl::StatusOr<Fpu> GetFpu() override;                                 \
  absl::Status SetFpu(const Fpu& fpu) override;                          \
  absl::StatusOr<DebugRegs> GetDebugRegs() override;                     \
  absl::Status SetDebugRegs(const DebugRegs& regs) override;             \
  absl::StatusOr<std::vector<Xcr>> GetXcrs() override;                   \
  absl::Status SetXcrs(absl::Span<const Xcr> xcrs) override;             \
  absl::StatusOr<std::vector<MsrEntry>> GetMsrs(                         \
      absl::Span<const uint32_t> indices) override;                      \
  absl::Status SetMsrs(absl::Span<const MsrEntry> msrs) override;        \
  absl::Status SetCpuid(absl::Span<const CpuidEntry> entries) override;  \
  absl::StatusOr<LapicState> GetLapic() override;                        \
  absl::Status SetLapic(const LapicState& state) override;               \
  absl::Status InjectInterrupt(uint8_t vector) override;                 \
  absl::Status InjectNmi() override;                                     \
  bool ReadyForInterrupt() const override;                               \
  void SetInterruptWindowRequested(bool requested) override;             \
  absl::Status SetTscOffset(uint64_t offset) override;                   \
  absl::StatusOr<uint64_t> GetTscOffset() override;                      \
  absl::StatusOr<uint32_t> GetTscKhz() override;

// VcpuAArch64's set-up and register calls
// (hypervisor/aarch64/vcpu_aarch64.h): KVM, Geniezone and Gunyah. HasPvtime
// is each backend's own (Geniezone and Gunyah answer false inline).
#define HV_VCPU_AARCH64_STATE_OVERRIDES                                      \
  absl::Status Init(absl::Span<const VcpuFeature> features) override;        \
  bool SupportsFeature(VcpuFeature feature) const override;                  \
  absl::StatusOr<uint64_t> GetOneReg(AArch64Reg reg) override;               \
  absl::Status SetOneReg(AArch64Reg reg, uint64_t value) override;           \
  absl::StatusOr<absl::uint128> GetVectorReg(uint32_t n) override;           \
  absl::Status SetVectorReg(uint32_t n, absl::uint128 value) override;       \
  absl::StatusOr<std::vector<std::pair<AArch64Reg, uint64_t>>>               \
  GetSystemRegs() override;                                                  \
  absl::StatusOr<uint64_t> GetMpidr() override;                              \
  absl::StatusOr<PsciVersion> GetPsciVersion() override;                     \
  absl::Status InitPmu(uint32_t irq) override;                               \
  absl::Status InitPvtime(GuestAddress address) override;

// VmAArch64's vCPU and GIC calls (hypervisor/aarch64/vm_aarch64.h): KVM,
// Geniezone and Gunyah.
#define HV_VM_AARCH64_OVERRIDES                                  \
  absl::StatusOr<std::unique_ptr<VcpuAArch64>> CreateVcpuAArch64( \
      uint32_t id) override;                                     \
  absl::Status CreateGic(const GicConfig& config) override;      \
  bool SupportsGic(GicConfig::Version version) const override;   \
  absl::Status FinalizeGic() override;                           \
  absl::Status SetCounterOffset(uint64_t offset) override;

// BackendVm's three memory hooks (hypervisor/backend_vm.h), called with
// BackendVm's mutex_ held: every backend. `specifier` is override or final.
#define HV_BACKEND_VM_SLOT_HOOKS(specifier)                               \
  absl::Status MapSlot(MemSlot slot, GuestAddress guest_address,          \
                       MemoryRegion& region,                              \
                       const MemoryRegionOptions& options) specifier      \
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this->mutex_);                              \
  absl::Status UnmapSlot(MemSlot slot,                                    \
                         const MemorySlotTable::Entry& entry) specifier   \
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this->mutex_);                              \
  absl::Status ReplacePages(MemSlot slot, MemorySlotTable::Entry& entry,  \
                            const HostPageChange& change) specifier       \
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this->mutex_);

#endif  // HV_HYPERVISOR_BACKEND_OVERRIDES_H_
