// Compile-time check, Windows builds only: whpx_abi.h's structures have the
// sizes and field offsets of the SDK's own (mingw's <winhvplatform.h> and
// <winhvemulation.h>), and its constants the SDK's values. Nothing here
// runs; if a layout differs the build fails.
#include <windows.h>
#include <winhvemulation.h>
#include <winhvplatform.h>

#include <cstddef>

#include "hypervisor/whpx/whpx_abi.h"

namespace hv::whpx_abi {
namespace {

#define HV_SAME_SIZE(type) \
  static_assert(sizeof(type) == sizeof(::type), #type " size differs from the SDK")
#define HV_SAME_OFFSET(type, field)                               \
  static_assert(offsetof(type, field) == offsetof(::type, field), \
                #type "::" #field " offset differs from the SDK")

HV_SAME_SIZE(WHV_CAPABILITY);
// Newer SDKs add members to this union (mingw's has CpuidResultList2 and
// more), so only the older SDK's size is a lower bound; every member is at
// offset 0 and WHPX reads only the bytes of the property it is given.
static_assert(sizeof(WHV_PARTITION_PROPERTY) <= sizeof(::WHV_PARTITION_PROPERTY),
              "WHV_PARTITION_PROPERTY larger than the SDK's");
HV_SAME_SIZE(WHV_X64_CPUID_RESULT);
HV_SAME_SIZE(WHV_REGISTER_VALUE);
HV_SAME_SIZE(WHV_X64_SEGMENT_REGISTER);
HV_SAME_SIZE(WHV_X64_TABLE_REGISTER);
HV_SAME_OFFSET(WHV_X64_TABLE_REGISTER, Limit);
HV_SAME_OFFSET(WHV_X64_TABLE_REGISTER, Base);
HV_SAME_SIZE(WHV_VP_EXIT_CONTEXT);
HV_SAME_OFFSET(WHV_VP_EXIT_CONTEXT, Cs);
HV_SAME_OFFSET(WHV_VP_EXIT_CONTEXT, Rip);
HV_SAME_OFFSET(WHV_VP_EXIT_CONTEXT, Rflags);
HV_SAME_SIZE(WHV_MEMORY_ACCESS_CONTEXT);
HV_SAME_OFFSET(WHV_MEMORY_ACCESS_CONTEXT, InstructionBytes);
HV_SAME_OFFSET(WHV_MEMORY_ACCESS_CONTEXT, AccessInfo);
HV_SAME_OFFSET(WHV_MEMORY_ACCESS_CONTEXT, Gpa);
HV_SAME_OFFSET(WHV_MEMORY_ACCESS_CONTEXT, Gva);
HV_SAME_SIZE(WHV_X64_IO_PORT_ACCESS_CONTEXT);
HV_SAME_OFFSET(WHV_X64_IO_PORT_ACCESS_CONTEXT, AccessInfo);
HV_SAME_OFFSET(WHV_X64_IO_PORT_ACCESS_CONTEXT, PortNumber);
HV_SAME_OFFSET(WHV_X64_IO_PORT_ACCESS_CONTEXT, Rax);
HV_SAME_OFFSET(WHV_X64_IO_PORT_ACCESS_CONTEXT, Rcx);
HV_SAME_OFFSET(WHV_X64_IO_PORT_ACCESS_CONTEXT, Ds);
HV_SAME_OFFSET(WHV_X64_IO_PORT_ACCESS_CONTEXT, Es);
HV_SAME_SIZE(WHV_X64_MSR_ACCESS_CONTEXT);
HV_SAME_OFFSET(WHV_X64_MSR_ACCESS_CONTEXT, MsrNumber);
HV_SAME_OFFSET(WHV_X64_MSR_ACCESS_CONTEXT, Rdx);
HV_SAME_SIZE(WHV_X64_CPUID_ACCESS_CONTEXT);
HV_SAME_OFFSET(WHV_X64_CPUID_ACCESS_CONTEXT, DefaultResultRax);
HV_SAME_SIZE(WHV_VP_EXCEPTION_CONTEXT);
HV_SAME_OFFSET(WHV_VP_EXCEPTION_CONTEXT, ExceptionType);
HV_SAME_OFFSET(WHV_VP_EXCEPTION_CONTEXT, ErrorCode);
HV_SAME_SIZE(WHV_RUN_VP_EXIT_CONTEXT);
HV_SAME_OFFSET(WHV_RUN_VP_EXIT_CONTEXT, VpContext);
HV_SAME_OFFSET(WHV_RUN_VP_EXIT_CONTEXT, MemoryAccess);
HV_SAME_OFFSET(WHV_RUN_VP_EXIT_CONTEXT, IoPortAccess);
HV_SAME_OFFSET(WHV_RUN_VP_EXIT_CONTEXT, MsrAccess);
HV_SAME_OFFSET(WHV_RUN_VP_EXIT_CONTEXT, CpuidAccess);
HV_SAME_SIZE(WHV_INTERRUPT_CONTROL);
HV_SAME_OFFSET(WHV_INTERRUPT_CONTROL, Destination);
HV_SAME_OFFSET(WHV_INTERRUPT_CONTROL, Vector);
HV_SAME_SIZE(WHV_EMULATOR_CALLBACKS);
HV_SAME_OFFSET(WHV_EMULATOR_CALLBACKS, WHvEmulatorIoPortCallback);
HV_SAME_OFFSET(WHV_EMULATOR_CALLBACKS, WHvEmulatorTranslateGvaPage);
HV_SAME_SIZE(WHV_EMULATOR_IO_ACCESS_INFO);
HV_SAME_OFFSET(WHV_EMULATOR_IO_ACCESS_INFO, Port);
HV_SAME_OFFSET(WHV_EMULATOR_IO_ACCESS_INFO, AccessSize);
HV_SAME_OFFSET(WHV_EMULATOR_IO_ACCESS_INFO, Data);
HV_SAME_SIZE(WHV_EMULATOR_MEMORY_ACCESS_INFO);
HV_SAME_OFFSET(WHV_EMULATOR_MEMORY_ACCESS_INFO, Direction);
HV_SAME_OFFSET(WHV_EMULATOR_MEMORY_ACCESS_INFO, Data);
HV_SAME_SIZE(WHV_EMULATOR_STATUS);

static_assert(WHvRunVpExitReasonX64IoPortAccess == ::WHvRunVpExitReasonX64IoPortAccess);
static_assert(WHvRunVpExitReasonCanceled == ::WHvRunVpExitReasonCanceled);
static_assert(WHvRunVpExitReasonX64Cpuid == ::WHvRunVpExitReasonX64Cpuid);
static_assert(WHvX64RegisterXmmControlStatus == ::WHvX64RegisterXmmControlStatus);
static_assert(WHvX64RegisterTscAux == ::WHvX64RegisterTscAux);
static_assert(WHvRegisterPendingInterruption ==
              static_cast<uint32_t>(::WHvRegisterPendingInterruption));
static_assert(WHvX64RegisterDeliverabilityNotifications ==
              static_cast<uint32_t>(::WHvX64RegisterDeliverabilityNotifications));
static_assert(WHvPartitionPropertyCodeProcessorCount ==
              ::WHvPartitionPropertyCodeProcessorCount);
static_assert(WHvMapGpaRangeFlagTrackDirtyPages ==
              ::WHvMapGpaRangeFlagTrackDirtyPages);
static_assert(WHvPartitionPropertyCodeLocalApicEmulationMode ==
              ::WHvPartitionPropertyCodeLocalApicEmulationMode);
static_assert(WHvX64LocalApicEmulationModeXApic ==
              ::WHvX64LocalApicEmulationModeXApic);
static_assert(WHvX64InterruptTypeFixed == ::WHvX64InterruptTypeFixed);
static_assert(WHvX64InterruptTypeLowestPriority ==
              ::WHvX64InterruptTypeLowestPriority);
static_assert(WHvX64InterruptTypeNmi == ::WHvX64InterruptTypeNmi);
static_assert(WHvX64InterruptTypeInit == ::WHvX64InterruptTypeInit);
static_assert(WHvX64InterruptTypeSipi == ::WHvX64InterruptTypeSipi);
static_assert(WHvX64InterruptTypeLocalInt1 == ::WHvX64InterruptTypeLocalInt1);
static_assert(WHvX64InterruptDestinationModeLogical ==
              ::WHvX64InterruptDestinationModeLogical);
static_assert(WHvX64InterruptTriggerModeLevel ==
              ::WHvX64InterruptTriggerModeLevel);
// mingw's winerror.h has no WHV_E_* codes; these are checked against
// Microsoft's documentation in whpx_abi.h only.
static_assert(kEInvalidArg == E_INVALIDARG);

}  // namespace
}  // namespace hv::whpx_abi
