#include "testing/backend_under_test.h"

#include <cstdlib>
#include <utility>

namespace hv::testing {

BackendUnderTest RegisteredBackend(std::string name, std::string spec,
                                   std::string allow_missing_env) {
  BackendUnderTest backend;
  backend.name = std::move(name);
  backend.create = [spec = std::move(spec)] {
    return ScriptedBackend(CreateHypervisor(spec), nullptr);
  };
  backend.allow_missing_env = std::move(allow_missing_env);
  return backend;
}

absl::StatusOr<BackendInstance> ScriptedBackend(
    absl::StatusOr<std::unique_ptr<Hypervisor>> hypervisor,
    std::shared_ptr<ScriptedGuest> script) {
  if (!hypervisor.ok()) return hypervisor.status();
  return BackendInstance{*std::move(hypervisor), std::move(script)};
}

void PrintTo(const BackendUnderTest& backend, std::ostream* os) {
  *os << backend.name;
}

std::string BackendName(
    const ::testing::TestParamInfo<BackendUnderTest>& info) {
  return info.param.name;
}

void OpenBackend(const BackendUnderTest& backend, BackendInstance* instance) {
  absl::StatusOr<BackendInstance> created = backend.create();
  if (!created.ok()) {
    const char* allow = backend.allow_missing_env.empty()
                            ? nullptr
                            : std::getenv(backend.allow_missing_env.c_str());
    if (allow != nullptr && std::string(allow) == "1") {
      GTEST_SKIP() << backend.name << " is unavailable (" << created.status()
                   << ") and " << backend.allow_missing_env
                   << "=1 allows skipping";
    }
    FAIL() << "backend " << backend.name
           << " is unavailable: " << created.status()
           << (backend.allow_missing_env.empty()
                   ? ""
                   : " (set " + backend.allow_missing_env +
                         "=1 to skip instead; CI never does)");
  }
  ASSERT_NE(created->hypervisor, nullptr)
      << "backend " << backend.name << " created no hypervisor";
  *instance = *std::move(created);
}

void BackendTest::SetUp() {
  BackendInstance instance;
  ASSERT_NO_FATAL_FAILURE(OpenBackend(GetParam(), &instance));
  if (IsSkipped()) return;
  hypervisor_ = std::move(instance.hypervisor);
  script_ = std::move(instance.script);
}

void BackendTest::TearDown() {
  hypervisor_.reset();
  script_.reset();
}

}  // namespace hv::testing
