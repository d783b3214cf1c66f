// WhpxApi: the one seam between hv's WHPX backend and Windows: a table with
// one function pointer per WinHvPlatform / WinHvEmulation call the backend
// makes. On Windows LoadWhpxApi() fills it from winhvplatform.dll and
// winhvemulation.dll at run time; tests hand the backend a fake table
// (testing/fakes/whpx_fake.h) that checks every argument. Every pointer uses
// the Windows x64 calling convention (WHPX_CALL, whpx_abi.h).
//
// Example:
//   ASSIGN_OR_RETURN(const hv::WhpxApi* api, hv::LoadWhpxApi());
//   hv::whpx_abi::WHV_PARTITION_HANDLE partition = nullptr;
//   RETURN_IF_ERROR(hv::HResultStatus("WHvCreatePartition",
//                                     api->WHvCreatePartition(&partition)));
#ifndef HV_HYPERVISOR_WHPX_WHPX_API_H_
#define HV_HYPERVISOR_WHPX_WHPX_API_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "hypervisor/whpx/whpx_abi.h"

namespace hv {

struct WhpxApi {
  using HRESULT = whpx_abi::HRESULT;
  using Partition = whpx_abi::WHV_PARTITION_HANDLE;

  // winhvplatform.dll
  HRESULT(WHPX_CALL* WHvGetCapability)
  (whpx_abi::WHV_CAPABILITY_CODE code, void* buffer, uint32_t buffer_size,
   uint32_t* written_size);
  HRESULT(WHPX_CALL* WHvCreatePartition)(Partition* partition);
  HRESULT(WHPX_CALL* WHvSetupPartition)(Partition partition);
  HRESULT(WHPX_CALL* WHvDeletePartition)(Partition partition);
  HRESULT(WHPX_CALL* WHvGetPartitionProperty)
  (Partition partition, whpx_abi::WHV_PARTITION_PROPERTY_CODE code,
   void* buffer, uint32_t buffer_size, uint32_t* written_size);
  HRESULT(WHPX_CALL* WHvSetPartitionProperty)
  (Partition partition, whpx_abi::WHV_PARTITION_PROPERTY_CODE code,
   const void* buffer, uint32_t buffer_size);
  HRESULT(WHPX_CALL* WHvMapGpaRange)
  (Partition partition, void* source, whpx_abi::WHV_GUEST_PHYSICAL_ADDRESS gpa,
   uint64_t size, whpx_abi::WHV_MAP_GPA_RANGE_FLAGS flags);
  HRESULT(WHPX_CALL* WHvUnmapGpaRange)
  (Partition partition, whpx_abi::WHV_GUEST_PHYSICAL_ADDRESS gpa,
   uint64_t size);
  HRESULT(WHPX_CALL* WHvQueryGpaRangeDirtyBitmap)
  (Partition partition, whpx_abi::WHV_GUEST_PHYSICAL_ADDRESS gpa,
   uint64_t size, uint64_t* bitmap, uint32_t bitmap_size);
  HRESULT(WHPX_CALL* WHvTranslateGva)
  (Partition partition, uint32_t vp_index,
   whpx_abi::WHV_GUEST_VIRTUAL_ADDRESS gva,
   whpx_abi::WHV_TRANSLATE_GVA_FLAGS flags,
   whpx_abi::WHV_TRANSLATE_GVA_RESULT* result,
   whpx_abi::WHV_GUEST_PHYSICAL_ADDRESS* gpa);
  HRESULT(WHPX_CALL* WHvCreateVirtualProcessor)
  (Partition partition, uint32_t vp_index, uint32_t flags);
  HRESULT(WHPX_CALL* WHvDeleteVirtualProcessor)
  (Partition partition, uint32_t vp_index);
  HRESULT(WHPX_CALL* WHvRunVirtualProcessor)
  (Partition partition, uint32_t vp_index, void* exit_context,
   uint32_t exit_context_size);
  HRESULT(WHPX_CALL* WHvCancelRunVirtualProcessor)
  (Partition partition, uint32_t vp_index, uint32_t flags);
  HRESULT(WHPX_CALL* WHvGetVirtualProcessorRegisters)
  (Partition partition, uint32_t vp_index,
   const whpx_abi::WHV_REGISTER_NAME* names, uint32_t count,
   whpx_abi::WHV_REGISTER_VALUE* values);
  HRESULT(WHPX_CALL* WHvSetVirtualProcessorRegisters)
  (Partition partition, uint32_t vp_index,
   const whpx_abi::WHV_REGISTER_NAME* names, uint32_t count,
   const whpx_abi::WHV_REGISTER_VALUE* values);
  HRESULT(WHPX_CALL* WHvRequestInterrupt)
  (Partition partition, const whpx_abi::WHV_INTERRUPT_CONTROL* interrupt,
   uint32_t interrupt_size);

  // winhvemulation.dll
  HRESULT(WHPX_CALL* WHvEmulatorCreateEmulator)
  (const whpx_abi::WHV_EMULATOR_CALLBACKS* callbacks,
   whpx_abi::WHV_EMULATOR_HANDLE* emulator);
  HRESULT(WHPX_CALL* WHvEmulatorDestroyEmulator)
  (whpx_abi::WHV_EMULATOR_HANDLE emulator);
  HRESULT(WHPX_CALL* WHvEmulatorTryIoEmulation)
  (whpx_abi::WHV_EMULATOR_HANDLE emulator, void* context,
   const whpx_abi::WHV_VP_EXIT_CONTEXT* vp_context,
   const whpx_abi::WHV_X64_IO_PORT_ACCESS_CONTEXT* io_context,
   whpx_abi::WHV_EMULATOR_STATUS* status);
  HRESULT(WHPX_CALL* WHvEmulatorTryMmioEmulation)
  (whpx_abi::WHV_EMULATOR_HANDLE emulator, void* context,
   const whpx_abi::WHV_VP_EXIT_CONTEXT* vp_context,
   const whpx_abi::WHV_MEMORY_ACCESS_CONTEXT* mmio_context,
   whpx_abi::WHV_EMULATOR_STATUS* status);

  // winhvplatform.dll, Windows 10 version 2004 and later: nullptr where the
  // DLL does not export them (the backend then has no kXsave). The buffer
  // is the vCPU's XSAVE area in the compacted format (whpx_xsave.h); a
  // buffer too small for it is WHV_E_INSUFFICIENT_BUFFER with the size it
  // needs in `written_size`.
  HRESULT(WHPX_CALL* WHvGetVirtualProcessorXsaveState)
  (Partition partition, uint32_t vp_index, void* buffer, uint32_t buffer_size,
   uint32_t* written_size);
  HRESULT(WHPX_CALL* WHvSetVirtualProcessorXsaveState)
  (Partition partition, uint32_t vp_index, const void* buffer,
   uint32_t buffer_size);

  // winhvplatform.dll, Windows 10 version 2004 and later: nullptr where the
  // DLL does not export them (the backend then has no GetLapic/SetLapic).
  // The state is the local APIC's register page (whpx_abi::kLapicStateSize);
  // the partition must emulate local APICs.
  HRESULT(WHPX_CALL* WHvGetVirtualProcessorInterruptControllerState2)
  (Partition partition, uint32_t vp_index, void* state, uint32_t state_size,
   uint32_t* written_size);
  HRESULT(WHPX_CALL* WHvSetVirtualProcessorInterruptControllerState2)
  (Partition partition, uint32_t vp_index, const void* state,
   uint32_t state_size);
};

// LoadWhpxApi(): the process's real table, loaded once. On Windows,
// UNAVAILABLE naming the DLL or entry point and the Win32 error when the
// Windows Hypervisor Platform feature is missing (also under wine, which has
// no winhvplatform.dll). Elsewhere always UNAVAILABLE: WHPX exists only on
// Windows.
absl::StatusOr<const WhpxApi*> LoadWhpxApi();

}  // namespace hv

#endif  // HV_HYPERVISOR_WHPX_WHPX_API_H_
