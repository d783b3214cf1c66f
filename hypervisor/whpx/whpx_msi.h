// WhpxMsiInterrupt(): an x86 MSI (what a device writes: an address and a
// data word) decoded into the WHV_INTERRUPT_CONTROL WHvRequestInterrupt
// takes, for Vm::SignalMsi on a partition that emulates local APICs.
//
// The message format is Intel SDM Vol. 3A, Section 11.11 ("Message
// Signalled Interrupts"):
//   address (11.11.1): bits 31:20 0xFEE, bits 19:12 destination id, bit 3
//     redirection hint (RH), bit 2 destination mode (DM: 0 physical,
//     1 logical);
//   data (11.11.2): bits 7:0 vector, bits 10:8 delivery mode (000 fixed,
//     001 lowest priority, 010 SMI, 100 NMI, 101 INIT, 111 ExtINT; 011 and
//     110 reserved), bit 14 level (1 assert), bit 15 trigger mode (0 edge,
//     1 level).
// WHPX's interrupt types have fixed, lowest priority, NMI and INIT (and
// SIPI, which is no MSI delivery mode); SMI, ExtINT and the reserved modes
// are INVALID_ARGUMENT naming the mode. With RH set a fixed message may go
// to the lowest-priority processor of the destination (as KVM treats it),
// so it is requested as lowest priority. A level-triggered message that
// deasserts (bit 14 clear) asks nothing of a local APIC that WHPX can
// request: INVALID_ARGUMENT. Address bits 63:32, or 31:20 other than 0xFEE,
// are INVALID_ARGUMENT: WHPX's xAPIC has 8-bit destinations, and anything
// else is not a message to the local APICs. The data's other bits must be
// clear (reserved).
//
// Example:
//   ASSIGN_OR_RETURN(WHV_INTERRUPT_CONTROL control,
//                    hv::WhpxMsiInterrupt(0xfee01000, 0x40));
//   // fixed, physical, edge, destination 1, vector 0x40
#ifndef HV_HYPERVISOR_WHPX_WHPX_MSI_H_
#define HV_HYPERVISOR_WHPX_WHPX_MSI_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "hypervisor/whpx/whpx_abi.h"

namespace hv {

absl::StatusOr<whpx_abi::WHV_INTERRUPT_CONTROL> WhpxMsiInterrupt(
    uint64_t address, uint32_t data);

}  // namespace hv

#endif  // HV_HYPERVISOR_WHPX_WHPX_MSI_H_
