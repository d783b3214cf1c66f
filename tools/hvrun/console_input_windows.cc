// ConsoleInputPump on Windows: hvrun boots no Linux guest there (no
// in-kernel irqchip on WHPX), so there is no console to feed.
#include "tools/hvrun/console_input.h"

namespace hv {

absl::StatusOr<std::unique_ptr<ConsoleInputPump>> ConsoleInputPump::Start(int, Sink) {
  return std::unique_ptr<ConsoleInputPump>(new ConsoleInputPump(nullptr));
}

}  // namespace hv
