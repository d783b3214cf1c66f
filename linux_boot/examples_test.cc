// The Example block of each header in linux_boot/, pasted as it stands there
// under a line naming the header (tools/examples_check.sh), so an example
// that no longer matches the API stops the build. linux_boot is pure byte
// work: the examples run on TestBzImage (bzimage_fixture.h) and a
// std::vector as guest RAM, and the test reads back what they wrote. The
// vCPU set-up's needs a VM that makes vCPUs, so it is compiled, not run.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/os/status_macros.h"
#include "hypervisor/x86_64/vm_x86_64.h"
#include "linux_boot/acpi_tables.h"
#include "linux_boot/arm64_fdt.h"
#include "linux_boot/arm64_image.h"
#include "linux_boot/arm64_image_fixture.h"
#include "linux_boot/arm64_layout.h"
#include "linux_boot/bzimage.h"
#include "linux_boot/bzimage_fixture.h"
#include "linux_boot/le_bytes.h"
#include "linux_boot/mp_table.h"
#include "linux_boot/x86_64_layout.h"
#include "linux_boot/x86_64_loader.h"
#include "linux_boot/x86_64_vcpu.h"
#include "linux_boot/zero_page.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::IsOk;
using ::hv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t kMiB = 1 << 20;

// The string of `size` bytes at `bytes`.
std::string At(const uint8_t* bytes, size_t size) {
  return std::string(reinterpret_cast<const char*>(bytes), size);
}

// linux_boot/arm64_image_fixture.h
std::vector<uint8_t> Arm64ImageFixtureExample() {
  hv::TestArm64Image image;
  image.flags |= 1;  // big-endian: refused
  std::vector<uint8_t> bytes = image.Build();
  return bytes;
}

TEST(LinuxBootExamples, Arm64ImageFixture) {
  EXPECT_THAT(ParseArm64Image(Arm64ImageFixtureExample()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("big-endian")));
}

// linux_boot/arm64_image.h
absl::StatusOr<hv::Arm64Image> Arm64ImageExample(absl::Span<const uint8_t> file_bytes) {
  ASSIGN_OR_RETURN(hv::Arm64Image kernel, hv::ParseArm64Image(file_bytes));
  // Copy kernel.file to a 2 MiB-aligned base + kernel.text_offset, keep
  // kernel.footprint() bytes from there free, enter at the first byte
  // with x0 = the device tree's address.
  return kernel;
}

// linux_boot/arm64_layout.h
absl::StatusOr<hv::LinuxArm64Layout> Arm64LayoutExample(const hv::Arm64Image& kernel,
                                                        const std::vector<uint8_t>& initrd) {
  ASSIGN_OR_RETURN(hv::LinuxArm64Layout layout,
                   hv::PlanLinuxArm64Boot(kernel, 0x40000000, 512 << 20,
                                          initrd.size()));
  // kernel.file to layout.kernel, the initrd to layout.initrd, the
  // device tree to layout.fdt; vCPU 0 enters at layout.kernel, x0 = fdt.
  return layout;
}

// linux_boot/arm64_fdt.h
absl::StatusOr<std::vector<uint8_t>> Arm64FdtExample() {
  hv::Arm64FdtConfig config;
  config.ram_base = 0x40000000;
  config.ram_size = 512 << 20;
  config.cpu_mpidrs = {0, 1};
  config.gic = {0x08000000, 0x10000, 0x080a0000, 2 * 0x20000};
  config.bootargs = "console=ttyS0";
  ASSIGN_OR_RETURN(std::vector<uint8_t> fdt, hv::BuildArm64Fdt(config));
  // Copy fdt to layout.fdt (arm64_layout.h); x0 = layout.fdt at entry.
  return fdt;
}

TEST(LinuxBootExamples, Arm64ImageLayoutAndFdt) {
  const std::vector<uint8_t> file = hv::TestArm64Image().Build();
  absl::StatusOr<hv::Arm64Image> kernel = Arm64ImageExample(file);
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  absl::StatusOr<hv::LinuxArm64Layout> layout =
      Arm64LayoutExample(*kernel, std::vector<uint8_t>(5000));
  ASSERT_TRUE(layout.ok()) << layout.status();
  EXPECT_EQ(layout->kernel, 0x40000000u);
  EXPECT_EQ(layout->fdt, 0x40000000u + (510u << 20));
  EXPECT_GE(layout->initrd, layout->kernel_end);
  absl::StatusOr<std::vector<uint8_t>> fdt = Arm64FdtExample();
  ASSERT_TRUE(fdt.ok()) << fdt.status();
  // The FDT header's magic, big-endian (devicetree spec 5.2).
  EXPECT_THAT(std::vector<uint8_t>(fdt->begin(), fdt->begin() + 4),
              ElementsAre(0xd0, 0x0d, 0xfe, 0xed));
}

// linux_boot/bzimage_fixture.h
std::vector<uint8_t> BzImageFixtureExample() {
  hv::TestBzImage image;
  image.protocol = 0x020b;  // too old
  std::vector<uint8_t> bytes = image.Build();
  return bytes;
}

TEST(LinuxBootExamples, BzImageFixture) {
  const std::vector<uint8_t> bytes = BzImageFixtureExample();
  EXPECT_EQ(LoadLe<uint16_t>(bytes.data() + 0x206), 0x020b);
  EXPECT_THAT(ParseBzImage(bytes),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("boot protocol 2.11 is older than 2.12")));
}

// linux_boot/bzimage.h
absl::StatusOr<hv::BzImage> BzImageExample(absl::Span<const uint8_t> file_bytes) {
  ASSIGN_OR_RETURN(hv::BzImage kernel, hv::ParseBzImage(file_bytes));
  // Copy kernel.protected_mode_kernel to kernel.pref_address, give the
  // zero page kernel.setup_header, enter at pref_address + 0x200.
  return kernel;
}

TEST(LinuxBootExamples, BzImage) {
  const std::vector<uint8_t> file = TestBzImage().Build();
  ASSERT_OK_AND_ASSIGN(BzImage kernel, BzImageExample(file));
  EXPECT_EQ(kernel.protocol, 0x020f);
  EXPECT_EQ(kernel.pref_address, 0x1000000u);
  // The setup header from 0x1f1 to 0x202 + 0x6a; the kernel after the boot
  // sector and its 3 setup sectors.
  EXPECT_EQ(kernel.setup_header.data(), file.data() + kSetupHeaderOffset);
  EXPECT_EQ(kernel.setup_header.size(), 0x26cu - kSetupHeaderOffset);
  EXPECT_EQ(kernel.protected_mode_kernel.data(), file.data() + 4 * 512);
  EXPECT_EQ(kernel.protected_mode_kernel.size(), 0x3000u);
}

// linux_boot/le_bytes.h
uint16_t LeBytesExample(const std::vector<uint8_t>& image, hv::ZeroPage& zero_page,
                        uint32_t cmdline_address) {
  uint16_t version = hv::LoadLe<uint16_t>(image.data() + 0x206);
  hv::StoreLe<uint32_t>(zero_page.data() + 0x228, cmdline_address);
  return version;
}

TEST(LinuxBootExamples, LeBytes) {
  ZeroPage zero_page = {};
  EXPECT_EQ(LeBytesExample(TestBzImage().Build(), zero_page, 0x20000), 0x020f);
  EXPECT_THAT(std::vector<uint8_t>(&zero_page[0x228], &zero_page[0x22c]),
              ElementsAre(0x00, 0x00, 0x02, 0x00));
}

// linux_boot/zero_page.h
absl::Status ZeroPageExample(const hv::BzImage& kernel, const std::string& cmdline,
                             uint64_t ram_size, uint8_t* ram) {
  hv::ZeroPageParams params;
  params.cmdline_address = 0x20000;
  params.cmdline_size = cmdline.size() + 1;  // with its NUL
  params.e820 = {{0, 0x9fc00, hv::E820Type::kRam},
                 {0x100000, ram_size - 0x100000, hv::E820Type::kRam}};
  ASSIGN_OR_RETURN(hv::ZeroPage page, hv::BuildZeroPage(kernel, params));
  std::memcpy(ram + 0x8000, page.data(), page.size());
  return absl::OkStatus();
}

TEST(LinuxBootExamples, ZeroPage) {
  const std::vector<uint8_t> file = TestBzImage().Build();
  ASSERT_OK_AND_ASSIGN(BzImage kernel, ParseBzImage(file));
  std::vector<uint8_t> ram(kMiB);
  ASSERT_THAT(ZeroPageExample(kernel, "console=ttyS0", 64 * kMiB, ram.data()), IsOk());
  const uint8_t* page = ram.data() + kLinuxZeroPage;
  EXPECT_EQ(At(page + 0x202, 4), "HdrS");                // the setup header
  EXPECT_EQ(LoadLe<uint32_t>(page + 0x228), 0x20000u);   // cmd_line_ptr
  EXPECT_EQ(page[0x1e8], 2);                             // e820_entries
  EXPECT_EQ(LoadLe<uint64_t>(page + 0x2d0 + 20 + 8), 63 * kMiB);  // 2nd size
}

// linux_boot/mp_table.h
absl::Status MpTableExample(uint8_t* ram) {
  hv::MpTableConfig config;
  config.cpus = 2;
  ASSIGN_OR_RETURN(std::vector<uint8_t> table,
                   hv::BuildMpTable(config, hv::kLinuxMpTable));
  std::memcpy(ram + hv::kLinuxMpTable, table.data(), table.size());
  return absl::OkStatus();
}

// The processor entries of the MP table at kLinuxMpTable in `ram`, found
// as a guest finds them: the floating pointer, its configuration table.
int MpTableCpus(const uint8_t* ram) {
  const uint8_t* pointer = ram + kLinuxMpTable;
  EXPECT_EQ(At(pointer, 4), "_MP_");
  const uint8_t* header = ram + LoadLe<uint32_t>(pointer + 4);
  EXPECT_EQ(At(header, 4), "PCMP");
  int cpus = 0;
  const uint8_t* entry = header + 44;
  for (uint16_t i = 0; i < LoadLe<uint16_t>(header + 34); ++i) {
    if (entry[0] == 0) ++cpus;
    entry += entry[0] == 0 ? 20 : 8;  // processor entries are the long ones
  }
  return cpus;
}

TEST(LinuxBootExamples, MpTable) {
  std::vector<uint8_t> ram(kMiB);
  ASSERT_THAT(MpTableExample(ram.data()), IsOk());
  EXPECT_EQ(MpTableCpus(ram.data()), 2);
}

// linux_boot/acpi_tables.h
absl::Status AcpiTablesExample(uint8_t* ram) {
  hv::AcpiConfig acpi;
  acpi.cpus = 2;
  ASSIGN_OR_RETURN(std::vector<uint8_t> tables,
                   hv::BuildAcpiTables(acpi, hv::kLinuxAcpiTables));
  std::memcpy(ram + hv::kLinuxAcpiTables, tables.data(), tables.size());
  return absl::OkStatus();
}

// The local APICs the MADT lists, found as a guest finds them: the RSDP at
// kLinuxAcpiTables in `ram`, its XSDT, the XSDT's "APIC" table.
int MadtCpus(const uint8_t* ram) {
  const uint8_t* rsdp = ram + kLinuxAcpiTables;
  EXPECT_EQ(At(rsdp, 8), "RSD PTR ");
  const uint8_t* xsdt = ram + LoadLe<uint64_t>(rsdp + 24);
  EXPECT_EQ(At(xsdt, 4), "XSDT");
  for (uint32_t at = 36; at < LoadLe<uint32_t>(xsdt + 4); at += 8) {
    const uint8_t* table = ram + LoadLe<uint64_t>(xsdt + at);
    if (At(table, 4) != "APIC") continue;
    int cpus = 0;
    for (uint32_t e = 44; e < LoadLe<uint32_t>(table + 4) && table[e + 1] > 0;
         e += table[e + 1]) {
      if (table[e] == 0) ++cpus;  // Processor Local APIC
    }
    return cpus;
  }
  ADD_FAILURE() << "no MADT";
  return 0;
}

TEST(LinuxBootExamples, AcpiTables) {
  std::vector<uint8_t> ram(kMiB);
  ASSERT_THAT(AcpiTablesExample(ram.data()), IsOk());
  EXPECT_EQ(MadtCpus(ram.data()), 2);
}

// linux_boot/x86_64_layout.h
absl::StatusOr<hv::LinuxX86Layout> X86_64LayoutExample(
    const hv::BzImage& kernel, const std::vector<uint8_t>& initrd,
    const std::string& cmdline) {
  ASSIGN_OR_RETURN(hv::LinuxX86Layout layout,
                   hv::PlanLinuxX86Boot(kernel, 256 << 20, initrd.size(),
                                        cmdline.size() + 1));
  for (const hv::RamRange& ram : layout.ram) { /* add a memory region */ (void)ram; }
  return layout;
}

TEST(LinuxBootExamples, X86_64Layout) {
  const std::vector<uint8_t> file = TestBzImage().Build();
  ASSERT_OK_AND_ASSIGN(BzImage kernel, ParseBzImage(file));
  ASSERT_OK_AND_ASSIGN(LinuxX86Layout layout,
                       X86_64LayoutExample(kernel, std::vector<uint8_t>(0x3000),
                                           "console=ttyS0"));
  ASSERT_EQ(layout.ram.size(), 1u);
  EXPECT_EQ(layout.ram[0].address, 0u);
  EXPECT_EQ(layout.ram[0].size, 256 * kMiB);
  EXPECT_EQ(layout.kernel, 0x1000000u);
  EXPECT_EQ(layout.entry, 0x1000200u);
  EXPECT_EQ(layout.initrd, 256 * kMiB - 0x3000);  // at the top of RAM
}

// linux_boot/x86_64_loader.h
absl::Status X86_64LoaderExample(const std::vector<uint8_t>& kernel_file,
                                 uint64_t ram_size, const std::vector<uint8_t>& initrd,
                                 const std::string& cmdline,
                                 absl::Span<uint8_t> low_ram) {
  ASSIGN_OR_RETURN(hv::BzImage kernel, hv::ParseBzImage(kernel_file));
  ASSIGN_OR_RETURN(hv::LinuxX86Layout layout,
                   hv::PlanLinuxX86Boot(kernel, ram_size, initrd.size(),
                                        cmdline.size() + 1));
  hv::MpTableConfig mp;
  mp.cpus = 2;
  RETURN_IF_ERROR(hv::LoadLinuxX86(kernel, layout, initrd, cmdline, mp, low_ram));
  return absl::OkStatus();
}

TEST(LinuxBootExamples, X86_64Loader) {
  const std::vector<uint8_t> file = TestBzImage().Build();
  const std::vector<uint8_t> initrd(0x3000, 0xab);
  std::vector<uint8_t> ram(64 * kMiB);
  ASSERT_THAT(X86_64LoaderExample(file, ram.size(), initrd, "console=ttyS0",
                                  absl::MakeSpan(ram)),
              IsOk());
  // The kernel at its pref_address, the initrd at the top, the command line
  // (with its NUL) where the zero page says.
  EXPECT_EQ(std::memcmp(&ram[0x1000000], &file[4 * 512], 0x3000), 0);
  EXPECT_EQ(ram[ram.size() - 1], 0xab);
  EXPECT_EQ(LoadLe<uint32_t>(&ram[kLinuxZeroPage + 0x228]), kLinuxCmdline);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&ram[kLinuxCmdline])),
            "console=ttyS0");
  // Both tables list the two vCPUs of `mp`.
  EXPECT_EQ(MpTableCpus(ram.data()), 2);
  EXPECT_EQ(MadtCpus(ram.data()), 2);
}

// linux_boot/x86_64_vcpu.h
// Compiled, not run: it needs a VM that creates vCPUs.
absl::Status X86_64VcpuExample(hv::VmX86_64* vm, uint32_t cpus, absl::Span<uint8_t> ram,
                               const hv::LinuxX86Layout& layout) {
  ASSIGN_OR_RETURN(auto supported, vm->GetSupportedCpuid());
  for (uint32_t i = 0; i < cpus; ++i) {
    ASSIGN_OR_RETURN(auto vcpu, vm->CreateVcpuX86_64(i));
    RETURN_IF_ERROR(hv::SetupLinuxVcpu(*vcpu, i, cpus, supported, ram, layout));
  }
  return absl::OkStatus();
}

TEST(LinuxBootExamples, Compile) { EXPECT_NE(&X86_64VcpuExample, nullptr); }

}  // namespace
}  // namespace hv
