// Fuzzes the Linux boot paths' kernel-image parsing and planning, x86_64 and
// arm64, with each input: it either fails ParseBzImage / ParseArm64Image
// with INVALID_ARGUMENT, or parses into spans inside the input, and then
// planning a boot (and building the x86 zero page) fails cleanly or gives a
// layout whose pieces lie in RAM without overlapping.
#include <cstdint>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "linux_boot/arm64_image.h"
#include "linux_boot/arm64_layout.h"
#include "linux_boot/bzimage.h"
#include "linux_boot/x86_64_layout.h"
#include "linux_boot/zero_page.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

void FuzzArm64(const uint8_t* data, size_t size) {
  absl::StatusOr<hv::Arm64Image> kernel = hv::ParseArm64Image(absl::MakeConstSpan(data, size));
  if (!kernel.ok()) {
    Check(kernel.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  Check(kernel->file.data() == data && kernel->file.size() == size);
  Check(kernel->footprint() >= size && kernel->image_size > 0);
  const uint64_t ram_base = uint64_t{data[size - 3]} << 30;  // 1 GiB steps
  const uint64_t ram = (uint64_t{data[size - 1]} + 1) << 24;  // 16 MiB steps
  const uint64_t initrd = uint64_t{data[size - 2]} << 20;
  absl::StatusOr<hv::LinuxArm64Layout> layout =
      hv::PlanLinuxArm64Boot(*kernel, ram_base, ram, initrd);
  if (!layout.ok()) {
    Check(layout.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  Check(layout->kernel >= ram_base);
  Check(layout->kernel_end - layout->kernel == kernel->footprint());
  Check(layout->kernel_end <= layout->fdt);
  Check(layout->fdt + hv::kArm64MaxFdtSize <= ram_base + ram && layout->fdt % 8 == 0);
  Check(initrd == 0 || (layout->initrd >= layout->kernel_end &&
                        layout->initrd + initrd <= layout->fdt));
}

void FuzzX86(const uint8_t* data, size_t size) {
  absl::Span<const uint8_t> input(data, size);
  absl::StatusOr<hv::BzImage> kernel = hv::ParseBzImage(input);
  if (!kernel.ok()) {
    Check(kernel.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  const auto inside = [&](absl::Span<const uint8_t> span) {
    return span.data() >= data && span.data() + span.size() <= data + size;
  };
  Check(inside(kernel->setup_header) && inside(kernel->protected_mode_kernel));
  Check(!kernel->protected_mode_kernel.empty());
  // RAM and initrd sizes from the input's last bytes, so the fuzzer steers
  // them too.
  const uint64_t ram = (uint64_t{data[size - 1]} + 1) << 24;  // 16 MiB steps
  const uint64_t initrd = uint64_t{data[size - 2]} << 20;
  absl::StatusOr<hv::LinuxX86Layout> layout =
      hv::PlanLinuxX86Boot(*kernel, ram, initrd, 64);
  if (!layout.ok()) {
    Check(layout.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  Check(layout->kernel + kernel->init_size <= ram);
  Check(initrd == 0 || (layout->initrd >= layout->kernel + kernel->init_size &&
                        layout->initrd + initrd <= ram));
  hv::ZeroPageParams params;
  params.cmdline_address = hv::kLinuxCmdline;
  params.cmdline_size = 64;
  params.initrd_address = layout->initrd;
  params.initrd_size = initrd;
  params.e820 = layout->e820;
  absl::StatusOr<hv::ZeroPage> page = hv::BuildZeroPage(*kernel, params);
  Check(page.ok() || page.status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzArm64(data, size);
  FuzzX86(data, size);
  return 0;
}
