// ConsoleInputPump: copies what arrives on an fd (hvrun: stdin) to a
// guest's console while a Linux guest runs, on a thread of its own that
// its end wakes and joins. End of file or a read error stops the
// copying (the guest then gets no more input); bytes arrive as the fd
// gives them (a terminal in its normal mode sends whole lines and echoes
// them itself). On Windows (console_input_windows.cc) it copies nothing.
//
// Example:
//   ASSIGN_OR_RETURN(auto pump, hv::ConsoleInputPump::Start(
//       0, [&](absl::string_view bytes) { machine->QueueConsoleInput(bytes); }));
//   machine->Run(std::cout);
#ifndef HV_TOOLS_HVRUN_CONSOLE_INPUT_H_
#define HV_TOOLS_HVRUN_CONSOLE_INPUT_H_

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/hvrun/host_thread.h"

namespace hv {

class ConsoleInputPump {
 public:
  using Sink = std::function<void(absl::string_view)>;
  // ConsoleInputPump::Start(): RESOURCE_EXHAUSTED when the host cannot
  // start the thread.
  static absl::StatusOr<std::unique_ptr<ConsoleInputPump>> Start(int fd, Sink sink);
  ConsoleInputPump(const ConsoleInputPump&) = delete;
  ConsoleInputPump& operator=(const ConsoleInputPump&) = delete;
  // ~ConsoleInputPump(): stops and joins the thread.
  ~ConsoleInputPump() = default;

 private:
  explicit ConsoleInputPump(std::unique_ptr<PollingThread> thread)
      : thread_(std::move(thread)) {}

  const std::unique_ptr<PollingThread> thread_;  // null where nothing is copied
};

}  // namespace hv

#endif  // HV_TOOLS_HVRUN_CONSOLE_INPUT_H_
