// The Windows Hypervisor Platform ABI that hv's WHPX backend uses, written
// from Microsoft's documentation of WinHvPlatformDefs.h and WinHvEmulation.h
// (learn.microsoft.com/virtualization/api/hypervisor-platform). Names follow
// the SDK so each can be looked up there; everything lives in namespace
// hv::whpx_abi, so this header never clashes with <winhvplatform.h>.
//
// Bit fields of the SDK are kept as the plain integers that hold them, with
// the bit positions as constants below each type: C bit-field layout is
// compiler specific, integers are not. Sizes and offsets are asserted from
// the SDK headers' own C_ASSERTs and from crosvm's bindgen layout tests of
// the same headers (hypervisor/src/whpx/whpx_sys/bindings.rs); on a
// Windows build whpx_abi_windows_check.cc also asserts them against mingw's
// <winhvplatform.h>.
//
// Functions are called with the Windows x64 convention (WHPX_CALL): native
// on Windows, and __attribute__((ms_abi)) makes GCC use it on Linux too, so
// the fake table (testing/fakes/whpx_fake.h) is called the same way.
//
// Example:
//   hv::whpx_abi::WHV_REGISTER_NAME name = hv::whpx_abi::WHvX64RegisterRip;
//   hv::whpx_abi::WHV_REGISTER_VALUE value = {};
//   hv::whpx_abi::HRESULT hr = api.WHvGetVirtualProcessorRegisters(
//       partition, 0, &name, 1, &value);
#ifndef HV_HYPERVISOR_WHPX_WHPX_ABI_H_
#define HV_HYPERVISOR_WHPX_WHPX_ABI_H_

#include <cstddef>
#include <cstdint>

#if defined(_WIN32)
#define WHPX_CALL __stdcall  // on x64 this is the one Windows convention
#else
#define WHPX_CALL __attribute__((ms_abi))
#endif

namespace hv::whpx_abi {

// HRESULT: a 32-bit status (Windows' LONG; negative means failure).
using HRESULT = int32_t;
using BOOL = int32_t;

inline constexpr bool Succeeded(HRESULT hr) { return hr >= 0; }

// Status codes (winerror.h). HRESULT_FROM_WIN32(e) = 0x80070000 | e.
inline constexpr HRESULT kSOk = 0;
inline constexpr HRESULT kEInvalidArg = static_cast<HRESULT>(0x80070057);
inline constexpr HRESULT kEOutOfMemory = static_cast<HRESULT>(0x8007000E);
inline constexpr HRESULT kEHandle = static_cast<HRESULT>(0x80070006);
inline constexpr HRESULT kEAccessDenied = static_cast<HRESULT>(0x80070005);
inline constexpr HRESULT kEPointer = static_cast<HRESULT>(0x80004003);
inline constexpr HRESULT kENotImpl = static_cast<HRESULT>(0x80004001);
inline constexpr HRESULT kEFail = static_cast<HRESULT>(0x80004005);
inline constexpr HRESULT kEUnexpected = static_cast<HRESULT>(0x8000FFFF);
// WHV_E_* (winerror.h).
inline constexpr HRESULT kWhvEUnknownCapability = static_cast<HRESULT>(0x80370300);
inline constexpr HRESULT kWhvEInsufficientBuffer = static_cast<HRESULT>(0x80370301);
inline constexpr HRESULT kWhvEUnknownProperty = static_cast<HRESULT>(0x80370302);
inline constexpr HRESULT kWhvEUnsupportedHypervisorConfig = static_cast<HRESULT>(0x80370303);
inline constexpr HRESULT kWhvEInvalidPartitionConfig = static_cast<HRESULT>(0x80370304);
inline constexpr HRESULT kWhvEGpaRangeNotFound = static_cast<HRESULT>(0x80370305);
inline constexpr HRESULT kWhvEVpAlreadyExists = static_cast<HRESULT>(0x80370306);
inline constexpr HRESULT kWhvEVpDoesNotExist = static_cast<HRESULT>(0x80370307);
inline constexpr HRESULT kWhvEInvalidVpState = static_cast<HRESULT>(0x80370308);
inline constexpr HRESULT kWhvEInvalidVpRegisterName = static_cast<HRESULT>(0x80370309);

// ---- Capabilities (WHvGetCapability) ----

using WHV_CAPABILITY_CODE = uint32_t;
inline constexpr WHV_CAPABILITY_CODE WHvCapabilityCodeHypervisorPresent = 0x0;
inline constexpr WHV_CAPABILITY_CODE WHvCapabilityCodeFeatures = 0x1;
inline constexpr WHV_CAPABILITY_CODE WHvCapabilityCodeExtendedVmExits = 0x2;
inline constexpr WHV_CAPABILITY_CODE WHvCapabilityCodeExceptionExitBitmap = 0x3;
inline constexpr WHV_CAPABILITY_CODE WHvCapabilityCodeX64MsrExitBitmap = 0x4;
inline constexpr WHV_CAPABILITY_CODE WHvCapabilityCodeProcessorVendor = 0x1000;
inline constexpr WHV_CAPABILITY_CODE WHvCapabilityCodeProcessorFeatures = 0x1001;
inline constexpr WHV_CAPABILITY_CODE WHvCapabilityCodeProcessorClFlushSize = 0x1002;
inline constexpr WHV_CAPABILITY_CODE WHvCapabilityCodeProcessorXsaveFeatures = 0x1003;
inline constexpr WHV_CAPABILITY_CODE WHvCapabilityCodeProcessorClockFrequency = 0x1004;
inline constexpr WHV_CAPABILITY_CODE WHvCapabilityCodeInterruptClockFrequency = 0x1005;

// WHV_CAPABILITY_FEATURES bits.
inline constexpr uint64_t kFeaturePartialUnmap = 1ull << 0;
inline constexpr uint64_t kFeatureLocalApicEmulation = 1ull << 1;
inline constexpr uint64_t kFeatureXsave = 1ull << 2;
inline constexpr uint64_t kFeatureDirtyPageTracking = 1ull << 3;
inline constexpr uint64_t kFeatureSpeculationControl = 1ull << 4;

// WHV_EXTENDED_VM_EXITS bits (capability and partition property).
inline constexpr uint64_t kExtendedExitX64Cpuid = 1ull << 0;
inline constexpr uint64_t kExtendedExitX64Msr = 1ull << 1;
inline constexpr uint64_t kExtendedExitException = 1ull << 2;
inline constexpr uint64_t kExtendedExitX64Rdtsc = 1ull << 3;

// WHV_X64_MSR_EXIT_BITMAP bits.
inline constexpr uint64_t kMsrExitUnhandledMsrs = 1ull << 0;

// WHV_PROCESSOR_FEATURES_BANKS.
struct WHV_PROCESSOR_FEATURES_BANKS {
  uint32_t BanksCount;
  uint32_t Reserved0;
  uint64_t AsUINT64[2];
};

// WHV_CAPABILITY: the output union of WHvGetCapability.
union WHV_CAPABILITY {
  BOOL HypervisorPresent;
  uint64_t Features;  // WHV_CAPABILITY_FEATURES
  uint64_t ExtendedVmExits;
  uint32_t ProcessorVendor;
  uint64_t ProcessorFeatures;
  uint64_t ProcessorXsaveFeatures;
  uint8_t ProcessorClFlushSize;
  uint64_t ExceptionExitBitmap;
  uint64_t X64MsrExitBitmap;
  uint64_t ProcessorClockFrequency;
  uint64_t InterruptClockFrequency;
  WHV_PROCESSOR_FEATURES_BANKS ProcessorFeaturesBanks;
};
static_assert(sizeof(WHV_CAPABILITY) == 24, "bindgen: WHV_CAPABILITY is 24 bytes");

// ---- Partitions ----

using WHV_PARTITION_HANDLE = void*;

using WHV_PARTITION_PROPERTY_CODE = uint32_t;
inline constexpr WHV_PARTITION_PROPERTY_CODE WHvPartitionPropertyCodeExtendedVmExits = 0x1;
inline constexpr WHV_PARTITION_PROPERTY_CODE WHvPartitionPropertyCodeExceptionExitBitmap = 0x2;
inline constexpr WHV_PARTITION_PROPERTY_CODE WHvPartitionPropertyCodeSeparateSecurityDomain = 0x3;
inline constexpr WHV_PARTITION_PROPERTY_CODE WHvPartitionPropertyCodeNestedVirtualization = 0x4;
inline constexpr WHV_PARTITION_PROPERTY_CODE WHvPartitionPropertyCodeX64MsrExitBitmap = 0x5;
inline constexpr WHV_PARTITION_PROPERTY_CODE WHvPartitionPropertyCodeProcessorFeatures = 0x1001;
inline constexpr WHV_PARTITION_PROPERTY_CODE WHvPartitionPropertyCodeProcessorClFlushSize = 0x1002;
inline constexpr WHV_PARTITION_PROPERTY_CODE WHvPartitionPropertyCodeCpuidExitList = 0x1003;
inline constexpr WHV_PARTITION_PROPERTY_CODE WHvPartitionPropertyCodeCpuidResultList = 0x1004;
inline constexpr WHV_PARTITION_PROPERTY_CODE WHvPartitionPropertyCodeLocalApicEmulationMode = 0x1005;
inline constexpr WHV_PARTITION_PROPERTY_CODE WHvPartitionPropertyCodeProcessorXsaveFeatures = 0x1006;
inline constexpr WHV_PARTITION_PROPERTY_CODE WHvPartitionPropertyCodeProcessorClockFrequency = 0x1007;
inline constexpr WHV_PARTITION_PROPERTY_CODE WHvPartitionPropertyCodeInterruptClockFrequency = 0x1008;
inline constexpr WHV_PARTITION_PROPERTY_CODE WHvPartitionPropertyCodeProcessorCount = 0x1fff;

// WHV_X64_CPUID_RESULT: one element of the CpuidResultList property.
struct WHV_X64_CPUID_RESULT {
  uint32_t Function;
  uint32_t Reserved[3];
  uint32_t Eax;
  uint32_t Ebx;
  uint32_t Ecx;
  uint32_t Edx;
};
static_assert(sizeof(WHV_X64_CPUID_RESULT) == 32, "SDK layout");

// WHV_PARTITION_PROPERTY: the buffer of WHv{Get,Set}PartitionProperty.
union WHV_PARTITION_PROPERTY {
  uint64_t ExtendedVmExits;
  uint64_t ProcessorFeatures;
  uint64_t ProcessorXsaveFeatures;
  uint8_t ProcessorClFlushSize;
  uint32_t ProcessorCount;
  uint32_t CpuidExitList[1];
  WHV_X64_CPUID_RESULT CpuidResultList[1];
  uint64_t ExceptionExitBitmap;
  uint32_t LocalApicEmulationMode;
  BOOL SeparateSecurityDomain;
  BOOL NestedVirtualization;
  uint64_t X64MsrExitBitmap;
  uint64_t ProcessorClockFrequency;
  uint64_t InterruptClockFrequency;
  BOOL ApicRemoteRead;
  WHV_PROCESSOR_FEATURES_BANKS ProcessorFeaturesBanks;
  uint64_t ReferenceTime;
};
static_assert(sizeof(WHV_PARTITION_PROPERTY) == 32,
              "bindgen: WHV_PARTITION_PROPERTY is 32 bytes");

// ---- Memory ----

using WHV_GUEST_PHYSICAL_ADDRESS = uint64_t;
using WHV_GUEST_VIRTUAL_ADDRESS = uint64_t;

using WHV_MAP_GPA_RANGE_FLAGS = uint32_t;
inline constexpr WHV_MAP_GPA_RANGE_FLAGS WHvMapGpaRangeFlagNone = 0x0;
inline constexpr WHV_MAP_GPA_RANGE_FLAGS WHvMapGpaRangeFlagRead = 0x1;
inline constexpr WHV_MAP_GPA_RANGE_FLAGS WHvMapGpaRangeFlagWrite = 0x2;
inline constexpr WHV_MAP_GPA_RANGE_FLAGS WHvMapGpaRangeFlagExecute = 0x4;
inline constexpr WHV_MAP_GPA_RANGE_FLAGS WHvMapGpaRangeFlagTrackDirtyPages = 0x8;

using WHV_TRANSLATE_GVA_FLAGS = uint32_t;
using WHV_TRANSLATE_GVA_RESULT_CODE = uint32_t;
inline constexpr WHV_TRANSLATE_GVA_RESULT_CODE WHvTranslateGvaResultSuccess = 0;
inline constexpr WHV_TRANSLATE_GVA_RESULT_CODE WHvTranslateGvaResultGpaUnmapped = 4;

struct WHV_TRANSLATE_GVA_RESULT {
  WHV_TRANSLATE_GVA_RESULT_CODE ResultCode;
  uint32_t Reserved;
};
static_assert(sizeof(WHV_TRANSLATE_GVA_RESULT) == 8, "SDK layout");

// WHV pages are always 4 KiB (the dirty bitmap has one bit per 4 KiB).
inline constexpr uint64_t kPageSize = 4096;

// ---- Registers ----

using WHV_REGISTER_NAME = uint32_t;
// General purpose registers, in the SDK's (x86 encoding) order.
inline constexpr WHV_REGISTER_NAME WHvX64RegisterRax = 0x00;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterRcx = 0x01;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterRdx = 0x02;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterRbx = 0x03;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterRsp = 0x04;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterRbp = 0x05;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterRsi = 0x06;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterRdi = 0x07;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterR8 = 0x08;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterR15 = 0x0F;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterRip = 0x10;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterRflags = 0x11;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterEs = 0x12;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterCs = 0x13;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterSs = 0x14;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterDs = 0x15;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterFs = 0x16;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterGs = 0x17;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterLdtr = 0x18;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterTr = 0x19;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterIdtr = 0x1A;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterGdtr = 0x1B;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterCr0 = 0x1C;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterCr2 = 0x1D;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterCr3 = 0x1E;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterCr4 = 0x1F;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterCr8 = 0x20;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterDr0 = 0x21;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterDr1 = 0x22;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterDr2 = 0x23;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterDr3 = 0x24;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterDr6 = 0x25;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterDr7 = 0x26;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterXCr0 = 0x27;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterXmm0 = 0x1000;  // .. Xmm15 = 0x100F
inline constexpr WHV_REGISTER_NAME WHvX64RegisterFpMmx0 = 0x1010;  // .. FpMmx7 = 0x1017
inline constexpr WHV_REGISTER_NAME WHvX64RegisterFpControlStatus = 0x1018;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterXmmControlStatus = 0x1019;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterTsc = 0x2000;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterEfer = 0x2001;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterKernelGsBase = 0x2002;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterApicBase = 0x2003;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterPat = 0x2004;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterSysenterCs = 0x2005;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterSysenterEip = 0x2006;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterSysenterEsp = 0x2007;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterStar = 0x2008;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterLstar = 0x2009;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterCstar = 0x200A;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterSfmask = 0x200B;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterTscAux = 0x207B;
inline constexpr WHV_REGISTER_NAME WHvRegisterPendingInterruption = 0x80000000;
inline constexpr WHV_REGISTER_NAME WHvRegisterInterruptState = 0x80000001;
inline constexpr WHV_REGISTER_NAME WHvRegisterPendingEvent = 0x80000002;
inline constexpr WHV_REGISTER_NAME WHvX64RegisterDeliverabilityNotifications = 0x80000004;
inline constexpr WHV_REGISTER_NAME WHvRegisterInternalActivityState = 0x80000005;

struct alignas(16) WHV_UINT128 {
  uint64_t Low64;
  uint64_t High64;
};
static_assert(sizeof(WHV_UINT128) == 16 && alignof(WHV_UINT128) == 16,
              "SDK: DECLSPEC_ALIGN(16)");

// WHV_X64_SEGMENT_REGISTER; Attributes packs the descriptor bits below.
struct WHV_X64_SEGMENT_REGISTER {
  uint64_t Base;
  uint32_t Limit;
  uint16_t Selector;
  uint16_t Attributes;
};
static_assert(sizeof(WHV_X64_SEGMENT_REGISTER) == 16, "bindgen: 16 bytes");
static_assert(offsetof(WHV_X64_SEGMENT_REGISTER, Attributes) == 14, "SDK layout");
// Attributes: SegmentType 0-3, NonSystemSegment 4, DPL 5-6, Present 7,
// Available 12, Long 13, Default 14, Granularity 15.
inline constexpr int kSegTypeShift = 0;
inline constexpr int kSegNonSystemBit = 4;
inline constexpr int kSegDplShift = 5;
inline constexpr int kSegPresentBit = 7;
inline constexpr int kSegAvailableBit = 12;
inline constexpr int kSegLongBit = 13;
inline constexpr int kSegDefaultBit = 14;
inline constexpr int kSegGranularityBit = 15;

struct WHV_X64_TABLE_REGISTER {
  uint16_t Pad[3];
  uint16_t Limit;
  uint64_t Base;
};
static_assert(sizeof(WHV_X64_TABLE_REGISTER) == 16, "SDK layout");

// WHV_X64_FP_CONTROL_STATUS_REGISTER (long-mode view).
struct WHV_X64_FP_CONTROL_STATUS_REGISTER {
  uint16_t FpControl;
  uint16_t FpStatus;
  uint8_t FpTag;
  uint8_t Reserved;
  uint16_t LastFpOp;
  uint64_t LastFpRip;
};
static_assert(sizeof(WHV_X64_FP_CONTROL_STATUS_REGISTER) == 16, "SDK layout");

// WHV_X64_XMM_CONTROL_STATUS_REGISTER (long-mode view).
struct WHV_X64_XMM_CONTROL_STATUS_REGISTER {
  uint64_t LastFpRdp;
  uint32_t XmmStatusControl;
  uint32_t XmmStatusControlMask;
};
static_assert(sizeof(WHV_X64_XMM_CONTROL_STATUS_REGISTER) == 16, "SDK layout");

// WHV_X64_PENDING_INTERRUPTION_REGISTER (AsUINT64): InterruptionPending 0,
// InterruptionType 1-3, DeliverErrorCode 4, InstructionLength 5-8,
// NestedEvent 9, InterruptionVector 16-31, ErrorCode 32-63.
inline constexpr uint64_t kPendingInterruptionPending = 1ull << 0;
inline constexpr int kPendingInterruptionTypeShift = 1;
inline constexpr int kPendingInterruptionDeliverErrorCodeBit = 4;
inline constexpr int kPendingInterruptionVectorShift = 16;
// WHV_X64_PENDING_INTERRUPTION_TYPE.
inline constexpr uint64_t WHvX64PendingInterrupt = 0;
inline constexpr uint64_t WHvX64PendingNmi = 2;
inline constexpr uint64_t WHvX64PendingException = 3;

// WHV_X64_INTERRUPT_STATE_REGISTER: InterruptShadow 0, NmiMasked 1.
inline constexpr uint64_t kInterruptStateShadow = 1ull << 0;
// WHV_X64_DELIVERABILITY_NOTIFICATIONS_REGISTER: NmiNotification 0,
// InterruptNotification 1, InterruptPriority 2-5.
inline constexpr uint64_t kDeliverabilityInterruptNotification = 1ull << 1;

// WHV_REGISTER_VALUE: 16 bytes, 16-byte aligned.
union WHV_REGISTER_VALUE {
  WHV_UINT128 Reg128;
  uint64_t Reg64;
  uint32_t Reg32;
  uint16_t Reg16;
  uint8_t Reg8;
  WHV_X64_FP_CONTROL_STATUS_REGISTER FpControlStatus;
  WHV_X64_XMM_CONTROL_STATUS_REGISTER XmmControlStatus;
  WHV_X64_SEGMENT_REGISTER Segment;
  WHV_X64_TABLE_REGISTER Table;
};
static_assert(sizeof(WHV_REGISTER_VALUE) == 16 && alignof(WHV_REGISTER_VALUE) == 16,
              "bindgen: WHV_REGISTER_VALUE is 16 bytes, align 16");

// ---- Running a virtual processor ----

using WHV_RUN_VP_EXIT_REASON = uint32_t;
inline constexpr WHV_RUN_VP_EXIT_REASON WHvRunVpExitReasonNone = 0x0;
inline constexpr WHV_RUN_VP_EXIT_REASON WHvRunVpExitReasonMemoryAccess = 0x1;
inline constexpr WHV_RUN_VP_EXIT_REASON WHvRunVpExitReasonX64IoPortAccess = 0x2;
inline constexpr WHV_RUN_VP_EXIT_REASON WHvRunVpExitReasonUnrecoverableException = 0x4;
inline constexpr WHV_RUN_VP_EXIT_REASON WHvRunVpExitReasonInvalidVpRegisterValue = 0x5;
inline constexpr WHV_RUN_VP_EXIT_REASON WHvRunVpExitReasonUnsupportedFeature = 0x6;
inline constexpr WHV_RUN_VP_EXIT_REASON WHvRunVpExitReasonX64InterruptWindow = 0x7;
inline constexpr WHV_RUN_VP_EXIT_REASON WHvRunVpExitReasonX64Halt = 0x8;
inline constexpr WHV_RUN_VP_EXIT_REASON WHvRunVpExitReasonX64ApicEoi = 0x9;
inline constexpr WHV_RUN_VP_EXIT_REASON WHvRunVpExitReasonX64MsrAccess = 0x1000;
inline constexpr WHV_RUN_VP_EXIT_REASON WHvRunVpExitReasonX64Cpuid = 0x1001;
inline constexpr WHV_RUN_VP_EXIT_REASON WHvRunVpExitReasonException = 0x1002;
inline constexpr WHV_RUN_VP_EXIT_REASON WHvRunVpExitReasonX64Rdtsc = 0x1003;
inline constexpr WHV_RUN_VP_EXIT_REASON WHvRunVpExitReasonX64ApicSmiTrap = 0x1004;
inline constexpr WHV_RUN_VP_EXIT_REASON WHvRunVpExitReasonHypercall = 0x1005;
inline constexpr WHV_RUN_VP_EXIT_REASON WHvRunVpExitReasonX64ApicInitSipiTrap = 0x1006;
inline constexpr WHV_RUN_VP_EXIT_REASON WHvRunVpExitReasonCanceled = 0x2001;

// WHV_VP_EXIT_CONTEXT: the vCPU state at every exit.
struct WHV_VP_EXIT_CONTEXT {
  uint16_t ExecutionState;  // WHV_X64_VP_EXECUTION_STATE
  uint8_t InstructionLengthCr8;  // InstructionLength 0-3, Cr8 4-7
  uint8_t Reserved;
  uint32_t Reserved2;
  WHV_X64_SEGMENT_REGISTER Cs;
  uint64_t Rip;
  uint64_t Rflags;
};
static_assert(sizeof(WHV_VP_EXIT_CONTEXT) == 40, "bindgen: 40 bytes");
static_assert(offsetof(WHV_VP_EXIT_CONTEXT, Rip) == 24, "SDK layout");
inline constexpr uint8_t InstructionLength(const WHV_VP_EXIT_CONTEXT& vp) {
  return vp.InstructionLengthCr8 & 0xf;
}

// WHV_MEMORY_ACCESS_TYPE.
inline constexpr uint32_t WHvMemoryAccessRead = 0;
inline constexpr uint32_t WHvMemoryAccessWrite = 1;
inline constexpr uint32_t WHvMemoryAccessExecute = 2;

// WHV_MEMORY_ACCESS_CONTEXT. AccessInfo: AccessType 0-1, GpaUnmapped 2,
// GvaValid 3.
struct WHV_MEMORY_ACCESS_CONTEXT {
  uint8_t InstructionByteCount;
  uint8_t Reserved[3];
  uint8_t InstructionBytes[16];
  uint32_t AccessInfo;
  WHV_GUEST_PHYSICAL_ADDRESS Gpa;
  WHV_GUEST_VIRTUAL_ADDRESS Gva;
};
static_assert(sizeof(WHV_MEMORY_ACCESS_CONTEXT) == 40, "bindgen: 40 bytes");
static_assert(offsetof(WHV_MEMORY_ACCESS_CONTEXT, Gpa) == 24, "SDK layout");
inline constexpr uint32_t kMemoryAccessTypeMask = 0x3;
inline constexpr uint32_t kMemoryAccessGpaUnmapped = 1u << 2;

// WHV_X64_IO_PORT_ACCESS_CONTEXT. AccessInfo: IsWrite 0, AccessSize 1-3,
// StringOp 4, RepPrefix 5.
struct WHV_X64_IO_PORT_ACCESS_CONTEXT {
  uint8_t InstructionByteCount;
  uint8_t Reserved[3];
  uint8_t InstructionBytes[16];
  uint32_t AccessInfo;
  uint16_t PortNumber;
  uint16_t Reserved2[3];
  uint64_t Rax;
  uint64_t Rcx;
  uint64_t Rsi;
  uint64_t Rdi;
  WHV_X64_SEGMENT_REGISTER Ds;
  WHV_X64_SEGMENT_REGISTER Es;
};
static_assert(sizeof(WHV_X64_IO_PORT_ACCESS_CONTEXT) == 96, "bindgen: 96 bytes");
static_assert(offsetof(WHV_X64_IO_PORT_ACCESS_CONTEXT, PortNumber) == 24, "SDK layout");
static_assert(offsetof(WHV_X64_IO_PORT_ACCESS_CONTEXT, Rax) == 32, "SDK layout");
inline constexpr uint32_t kIoAccessIsWrite = 1u << 0;
inline constexpr int kIoAccessSizeShift = 1;
inline constexpr uint32_t kIoAccessSizeMask = 0x7u << 1;
inline constexpr uint32_t kIoAccessStringOp = 1u << 4;
inline constexpr uint32_t kIoAccessRepPrefix = 1u << 5;

// WHV_X64_MSR_ACCESS_CONTEXT. AccessInfo: IsWrite 0.
struct WHV_X64_MSR_ACCESS_CONTEXT {
  uint32_t AccessInfo;
  uint32_t MsrNumber;
  uint64_t Rax;
  uint64_t Rdx;
};
static_assert(sizeof(WHV_X64_MSR_ACCESS_CONTEXT) == 24, "bindgen: 24 bytes");

struct WHV_X64_CPUID_ACCESS_CONTEXT {
  uint64_t Rax;
  uint64_t Rcx;
  uint64_t Rdx;
  uint64_t Rbx;
  uint64_t DefaultResultRax;
  uint64_t DefaultResultRcx;
  uint64_t DefaultResultRdx;
  uint64_t DefaultResultRbx;
};
static_assert(sizeof(WHV_X64_CPUID_ACCESS_CONTEXT) == 64, "bindgen: 64 bytes");

// WHV_VP_EXCEPTION_CONTEXT. ExceptionInfo: ErrorCodeValid 0,
// SoftwareException 1.
struct WHV_VP_EXCEPTION_CONTEXT {
  uint8_t InstructionByteCount;
  uint8_t Reserved[3];
  uint8_t InstructionBytes[16];
  uint32_t ExceptionInfo;
  uint8_t ExceptionType;
  uint8_t Reserved2[3];
  uint32_t ErrorCode;
  uint64_t ExceptionParameter;
};
static_assert(sizeof(WHV_VP_EXCEPTION_CONTEXT) == 40, "bindgen: 40 bytes");

struct WHV_X64_UNSUPPORTED_FEATURE_CONTEXT {
  uint32_t FeatureCode;
  uint32_t Reserved;
  uint64_t FeatureParameter;
};

struct WHV_HYPERCALL_CONTEXT {
  uint64_t Rax, Rbx, Rcx, Rdx, R8, Rsi, Rdi, Reserved0;
  WHV_UINT128 XmmRegisters[6];
  uint64_t Reserved1[2];
};
static_assert(sizeof(WHV_HYPERCALL_CONTEXT) == 176, "SDK layout");

// WHV_RUN_VP_EXIT_CONTEXT: the output buffer of WHvRunVirtualProcessor.
struct WHV_RUN_VP_EXIT_CONTEXT {
  WHV_RUN_VP_EXIT_REASON ExitReason;
  uint32_t Reserved;
  WHV_VP_EXIT_CONTEXT VpContext;
  union {
    WHV_MEMORY_ACCESS_CONTEXT MemoryAccess;
    WHV_X64_IO_PORT_ACCESS_CONTEXT IoPortAccess;
    WHV_X64_MSR_ACCESS_CONTEXT MsrAccess;
    WHV_X64_CPUID_ACCESS_CONTEXT CpuidAccess;
    WHV_VP_EXCEPTION_CONTEXT VpException;
    uint32_t InterruptWindowDeliverableType;  // InterruptWindow
    WHV_X64_UNSUPPORTED_FEATURE_CONTEXT UnsupportedFeature;
    uint32_t CancelReason;
    uint32_t ApicEoiInterruptVector;  // ApicEoi
    WHV_HYPERCALL_CONTEXT Hypercall;
  };
};
static_assert(sizeof(WHV_RUN_VP_EXIT_CONTEXT) == 224,
              "SDK/bindgen: WHV_RUN_VP_EXIT_CONTEXT is 224 bytes");
static_assert(offsetof(WHV_RUN_VP_EXIT_CONTEXT, VpContext) == 8, "SDK layout");
static_assert(offsetof(WHV_RUN_VP_EXIT_CONTEXT, MemoryAccess) == 48, "SDK layout");

// ---- Interrupts ----

// WHV_X64_LOCAL_APIC_EMULATION_MODE: the LocalApicEmulationMode partition
// property, which only a partition not yet set up takes (and only where
// WHV_CAPABILITY_FEATURES has LocalApicEmulation).
inline constexpr uint32_t WHvX64LocalApicEmulationModeNone = 0;
inline constexpr uint32_t WHvX64LocalApicEmulationModeXApic = 1;
inline constexpr uint32_t WHvX64LocalApicEmulationModeX2Apic = 2;

// WHV_INTERRUPT_CONTROL: what WHvRequestInterrupt asks of the emulated local
// APICs. TypeModes: Type bits 0-7 (WHV_INTERRUPT_TYPE), DestinationMode
// bits 8-11 (WHV_INTERRUPT_DESTINATION_MODE), TriggerMode bits 12-15
// (WHV_INTERRUPT_TRIGGER_MODE), bits 16-63 reserved (zero).
struct WHV_INTERRUPT_CONTROL {
  uint64_t TypeModes;
  uint32_t Destination;  // an APIC id (physical) or a logical destination
  uint32_t Vector;
};
static_assert(sizeof(WHV_INTERRUPT_CONTROL) == 16, "bindgen: 16 bytes");
static_assert(offsetof(WHV_INTERRUPT_CONTROL, Destination) == 8, "SDK layout");
static_assert(offsetof(WHV_INTERRUPT_CONTROL, Vector) == 12, "SDK layout");
inline constexpr int kInterruptControlTypeShift = 0;
inline constexpr int kInterruptControlDestinationModeShift = 8;
inline constexpr int kInterruptControlTriggerModeShift = 12;
// WHV_INTERRUPT_TYPE.
inline constexpr uint64_t WHvX64InterruptTypeFixed = 0;
inline constexpr uint64_t WHvX64InterruptTypeLowestPriority = 1;
inline constexpr uint64_t WHvX64InterruptTypeNmi = 4;
inline constexpr uint64_t WHvX64InterruptTypeInit = 5;
inline constexpr uint64_t WHvX64InterruptTypeSipi = 6;
inline constexpr uint64_t WHvX64InterruptTypeLocalInt1 = 9;
// WHV_INTERRUPT_DESTINATION_MODE.
inline constexpr uint64_t WHvX64InterruptDestinationModePhysical = 0;
inline constexpr uint64_t WHvX64InterruptDestinationModeLogical = 1;
// WHV_INTERRUPT_TRIGGER_MODE.
inline constexpr uint64_t WHvX64InterruptTriggerModeEdge = 0;
inline constexpr uint64_t WHvX64InterruptTriggerModeLevel = 1;

// WHv{Get,Set}VirtualProcessorInterruptControllerState2: the local APIC in
// the "standard external state format", the xAPIC register page (Intel SDM
// Vol. 3A, Section 11.4.1, Table 11-1): register n at byte offset 16 * n,
// 32 bits wide, the page 4 KiB. Getting it into a smaller buffer is
// WHV_E_INSUFFICIENT_BUFFER with the size needed; setting it from a smaller
// one E_POINTER. Both need the partition's local APIC emulation.
inline constexpr uint32_t kLapicStateSize = 4096;

// ---- The instruction emulator (WinHvEmulation.h) ----

// WHV_EMULATOR_STATUS bits.
inline constexpr uint32_t kEmulationSuccessful = 1u << 0;
inline constexpr uint32_t kEmulationInternalFailure = 1u << 1;
inline constexpr uint32_t kEmulationIoPortCallbackFailed = 1u << 2;
inline constexpr uint32_t kEmulationMemoryCallbackFailed = 1u << 3;
inline constexpr uint32_t kEmulationTranslateGvaPageCallbackFailed = 1u << 4;
inline constexpr uint32_t kEmulationGetRegistersCallbackFailed = 1u << 6;
inline constexpr uint32_t kEmulationSetRegistersCallbackFailed = 1u << 7;
using WHV_EMULATOR_STATUS = uint32_t;

struct WHV_EMULATOR_MEMORY_ACCESS_INFO {
  WHV_GUEST_PHYSICAL_ADDRESS GpaAddress;
  uint8_t Direction;  // 0 read, 1 write
  uint8_t AccessSize;
  uint8_t Data[8];
};
static_assert(sizeof(WHV_EMULATOR_MEMORY_ACCESS_INFO) == 24, "bindgen: 24 bytes");
static_assert(offsetof(WHV_EMULATOR_MEMORY_ACCESS_INFO, Data) == 10, "bindgen");

struct WHV_EMULATOR_IO_ACCESS_INFO {
  uint8_t Direction;  // 0 in, 1 out
  uint16_t Port;
  uint16_t AccessSize;
  uint32_t Data;
};
static_assert(sizeof(WHV_EMULATOR_IO_ACCESS_INFO) == 12, "bindgen: 12 bytes");
static_assert(offsetof(WHV_EMULATOR_IO_ACCESS_INFO, Port) == 2, "bindgen");
static_assert(offsetof(WHV_EMULATOR_IO_ACCESS_INFO, Data) == 8, "bindgen");

using WHV_EMULATOR_IO_PORT_CALLBACK =
    HRESULT(WHPX_CALL*)(void* context, WHV_EMULATOR_IO_ACCESS_INFO* io_access);
using WHV_EMULATOR_MEMORY_CALLBACK = HRESULT(WHPX_CALL*)(
    void* context, WHV_EMULATOR_MEMORY_ACCESS_INFO* memory_access);
using WHV_EMULATOR_GET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK =
    HRESULT(WHPX_CALL*)(void* context, const WHV_REGISTER_NAME* names,
                        uint32_t count, WHV_REGISTER_VALUE* values);
using WHV_EMULATOR_SET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK =
    HRESULT(WHPX_CALL*)(void* context, const WHV_REGISTER_NAME* names,
                        uint32_t count, const WHV_REGISTER_VALUE* values);
using WHV_EMULATOR_TRANSLATE_GVA_PAGE_CALLBACK = HRESULT(WHPX_CALL*)(
    void* context, WHV_GUEST_VIRTUAL_ADDRESS gva, WHV_TRANSLATE_GVA_FLAGS flags,
    WHV_TRANSLATE_GVA_RESULT_CODE* result, WHV_GUEST_PHYSICAL_ADDRESS* gpa);

struct WHV_EMULATOR_CALLBACKS {
  uint32_t Size;  // sizeof(WHV_EMULATOR_CALLBACKS)
  uint32_t Reserved;
  WHV_EMULATOR_IO_PORT_CALLBACK WHvEmulatorIoPortCallback;
  WHV_EMULATOR_MEMORY_CALLBACK WHvEmulatorMemoryCallback;
  WHV_EMULATOR_GET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK
      WHvEmulatorGetVirtualProcessorRegisters;
  WHV_EMULATOR_SET_VIRTUAL_PROCESSOR_REGISTERS_CALLBACK
      WHvEmulatorSetVirtualProcessorRegisters;
  WHV_EMULATOR_TRANSLATE_GVA_PAGE_CALLBACK WHvEmulatorTranslateGvaPage;
};
static_assert(sizeof(WHV_EMULATOR_CALLBACKS) == 48, "bindgen: 48 bytes");

using WHV_EMULATOR_HANDLE = void*;

}  // namespace hv::whpx_abi

#endif  // HV_HYPERVISOR_WHPX_WHPX_ABI_H_
