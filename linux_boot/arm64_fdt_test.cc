#include "linux_boot/arm64_fdt.h"

extern "C" {
#include <libfdt.h>
}

#include <cstdint>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "linux_boot/arm64_layout.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Arm64FdtConfig VirtLikeConfig() {
  Arm64FdtConfig c;
  c.ram_base = 0x40000000;
  c.ram_size = 512 << 20;
  c.cpu_mpidrs = {0, 1};
  c.gic.distributor = {0x08000000, 0x10000};
  c.gic.redistributors = {0x080a0000, 2 * 0x20000};
  c.gic.its = Arm64FdtConfig::Range{0x08080000, 0x20000};
  c.uart = Arm64FdtConfig::Uart{{0x09000000, 0x8}, 1};
  c.pci = Arm64FdtConfig::PciEcam{{0x30000000, 16 << 20}, {0x10000000, 0x1000000}, {}, true};
  c.bootargs = "console=ttyS0 panic=-1";
  c.initrd = Arm64FdtConfig::Range{0x5fc00000, 0x200000};
  return c;
}

// Reads a built tree back through libfdt's read-only API.
class Tree {
 public:
  explicit Tree(std::vector<uint8_t> blob) : blob_(std::move(blob)) {}

  int Node(const char* path) const { return fdt_path_offset(blob_.data(), path); }
  std::string String(const char* path, const char* name) const {
    int length = 0;
    const void* value = fdt_getprop(blob_.data(), Node(path), name, &length);
    if (value == nullptr || length == 0) return "<missing>";
    return std::string(static_cast<const char*>(value), length - 1);
  }
  std::vector<uint32_t> Cells(const char* path, const char* name) const {
    int length = 0;
    const auto* value =
        static_cast<const fdt32_t*>(fdt_getprop(blob_.data(), Node(path), name, &length));
    std::vector<uint32_t> cells;
    for (int i = 0; value != nullptr && i < length / 4; ++i) cells.push_back(fdt32_to_cpu(value[i]));
    return cells;
  }
  bool Has(const char* path, const char* name) const {
    return fdt_getprop(blob_.data(), Node(path), name, nullptr) != nullptr;
  }
  const std::vector<uint8_t>& blob() const { return blob_; }

 private:
  std::vector<uint8_t> blob_;
};

Tree Build(const Arm64FdtConfig& config) {
  absl::StatusOr<std::vector<uint8_t>> blob = BuildArm64Fdt(config);
  EXPECT_TRUE(blob.ok()) << blob.status();
  return Tree(blob.ok() ? *blob : std::vector<uint8_t>{});
}

TEST(BuildArm64Fdt, IsAValidTreeWithinTheSlot) {
  Tree tree = Build(VirtLikeConfig());
  ASSERT_EQ(fdt_check_header(tree.blob().data()), 0);
  EXPECT_EQ(fdt_totalsize(tree.blob().data()), tree.blob().size());
  EXPECT_LE(tree.blob().size(), kArm64MaxFdtSize);
  EXPECT_EQ(tree.String("/", "compatible"), "linux,dummy-virt");
  EXPECT_THAT(tree.Cells("/", "interrupt-parent"), ElementsAre(1));
}

TEST(BuildArm64Fdt, DescribesMemoryAndChosen) {
  Tree tree = Build(VirtLikeConfig());
  EXPECT_EQ(tree.String("/memory@40000000", "device_type"), "memory");
  EXPECT_THAT(tree.Cells("/memory@40000000", "reg"), ElementsAre(0, 0x40000000, 0, 512 << 20));
  EXPECT_EQ(tree.String("/chosen", "bootargs"), "console=ttyS0 panic=-1");
  EXPECT_EQ(tree.String("/chosen", "stdout-path"), "/uart@9000000");
  EXPECT_THAT(tree.Cells("/chosen", "linux,initrd-start"), ElementsAre(0, 0x5fc00000));
  EXPECT_THAT(tree.Cells("/chosen", "linux,initrd-end"), ElementsAre(0, 0x5fe00000));
  EXPECT_THAT(tree.Cells("/chosen", "linux,pci-probe-only"), ElementsAre(1));
}

TEST(BuildArm64Fdt, CpusStartThroughPsciHvc) {
  Arm64FdtConfig config = VirtLikeConfig();
  config.cpu_mpidrs = {0, 1, 0x100, 0x100000000};
  config.gic.redistributors.size = 4 * 0x20000;
  Tree tree = Build(config);
  EXPECT_THAT(tree.Cells("/cpus", "#address-cells"), ElementsAre(2));
  EXPECT_EQ(tree.String("/cpus/cpu@1", "enable-method"), "psci");
  EXPECT_THAT(tree.Cells("/cpus/cpu@100", "reg"), ElementsAre(0, 0x100));
  EXPECT_THAT(tree.Cells("/cpus/cpu@100000000", "reg"), ElementsAre(1, 0));
  EXPECT_EQ(tree.String("/psci", "method"), "hvc");
  EXPECT_EQ(tree.String("/psci", "compatible"), std::string("arm,psci-1.0\0arm,psci-0.2", 25));
}

TEST(BuildArm64Fdt, DescribesGicItsTimerUartAndPci) {
  Tree tree = Build(VirtLikeConfig());
  EXPECT_EQ(tree.String("/intc@8000000", "compatible"), "arm,gic-v3");
  EXPECT_TRUE(tree.Has("/intc@8000000", "interrupt-controller"));
  EXPECT_THAT(tree.Cells("/intc@8000000", "reg"),
              ElementsAre(0, 0x08000000, 0, 0x10000, 0, 0x080a0000, 0, 0x40000));
  EXPECT_EQ(tree.String("/intc@8000000/msi-controller@8080000", "compatible"),
            "arm,gic-v3-its");
  EXPECT_THAT(tree.Cells("/intc@8000000/msi-controller@8080000", "phandle"), ElementsAre(2));
  EXPECT_THAT(tree.Cells("/timer", "interrupts"),
              ElementsAre(1, 13, 8, 1, 14, 8, 1, 11, 8, 1, 10, 8));
  EXPECT_EQ(tree.String("/uart@9000000", "compatible"), "ns16550a");
  EXPECT_THAT(tree.Cells("/uart@9000000", "interrupts"), ElementsAre(0, 1, 4));
  EXPECT_EQ(tree.String("/pcie@30000000", "compatible"), "pci-host-ecam-generic");
  EXPECT_THAT(tree.Cells("/pcie@30000000", "bus-range"), ElementsAre(0, 15));
  EXPECT_THAT(tree.Cells("/pcie@30000000", "ranges"),
              ElementsAre(0x02000000, 0, 0x10000000, 0, 0x10000000, 0, 0x1000000));
  EXPECT_THAT(tree.Cells("/pcie@30000000", "msi-map"), ElementsAre(0, 2, 0, 0x10000));
}

TEST(BuildArm64Fdt, LeavesOutWhatTheConfigLacks) {
  Arm64FdtConfig config = VirtLikeConfig();
  config.gic.its.reset();
  config.uart.reset();
  config.initrd.reset();
  config.pci->mmio64 = Arm64FdtConfig::Range{0x8000000000, 0x8000000000};
  config.pci->probe_only = false;
  Tree tree = Build(config);
  EXPECT_LT(tree.Node("/intc@8000000/msi-controller@8080000"), 0);
  EXPECT_LT(tree.Node("/uart@9000000"), 0);
  EXPECT_FALSE(tree.Has("/chosen", "stdout-path"));
  EXPECT_FALSE(tree.Has("/chosen", "linux,initrd-start"));
  EXPECT_FALSE(tree.Has("/pcie@30000000", "msi-map"));
  EXPECT_FALSE(tree.Has("/chosen", "linux,pci-probe-only"));
  EXPECT_EQ(tree.Cells("/pcie@30000000", "ranges").size(), 14u);
}

TEST(BuildArm64Fdt, RefusesConfigsItCannotDescribe) {
  const auto refused = [](Arm64FdtConfig config, const char* why) {
    EXPECT_THAT(BuildArm64Fdt(config),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         ::testing::AllOf(HasSubstr("device tree: "), HasSubstr(why))))
        << why;
  };
  Arm64FdtConfig c = VirtLikeConfig();
  c.cpu_mpidrs.clear();
  refused(c, "no CPUs");
  c = VirtLikeConfig();
  c.cpu_mpidrs = {0x1000000};
  refused(c, "MPIDR");
  c = VirtLikeConfig();
  c.ram_size = 0;
  refused(c, "RAM");
  c = VirtLikeConfig();
  c.cpu_mpidrs = {0, 1, 2};
  refused(c, "redistributors");
  c = VirtLikeConfig();
  c.pci->ecam.size = 3 << 19;
  refused(c, "ECAM");
  c = VirtLikeConfig();
  c.uart->registers.size = 0;
  refused(c, "UART");
  c = VirtLikeConfig();
  c.initrd->base = UINT64_MAX;
  refused(c, "initrd");
}

TEST(BuildArm64Fdt, RefusesATreeLargerThanTwoMiB) {
  Arm64FdtConfig config = VirtLikeConfig();
  config.bootargs = std::string(kArm64MaxFdtSize, 'x');
  EXPECT_THAT(BuildArm64Fdt(config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("larger than")));
}

}  // namespace
}  // namespace hv
