#include "hypervisor/gunyah/gunyah_hypervisor.h"

#include <fcntl.h>

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/gunyah/gunyah_abi.h"
#include "hypervisor/gunyah/gunyah_test_util.h"
#include "hypervisor/hypervisor.h"
#include "hypervisor/registry.h"
#include "testing/backend_expectations.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(GunyahHypervisor, OpensTheDeviceReadWriteCloseOnExec) {
  ASSERT_OK_AND_ASSIGN(GunyahTestEnv gunyah, NewGunyahTestEnv());
  EXPECT_EQ(gunyah.hypervisor->kind(), "gunyah");
  std::vector<GunyahFake::Call> calls = gunyah.fake->Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].name, "open");
  EXPECT_EQ(calls[0].int_arg, static_cast<uintptr_t>(O_RDWR | O_CLOEXEC));
  EXPECT_EQ(gunyah.fake->open_fds(), 1u);
  gunyah.hypervisor.reset();
  EXPECT_EQ(gunyah.fake->open_fds(), 0u);
}

TEST(GunyahHypervisor, MissingDeviceNamesThePath) {
  GunyahFake fake("/dev/gunyah");
  EXPECT_THAT(GunyahHypervisor::Create("/dev/no-gunyah", &fake),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("open /dev/no-gunyah: No such file")));
  EXPECT_EQ(fake.open_fds(), 0u);
  EXPECT_THAT(GunyahHypervisor::Create("/dev/gunyah", nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(GunyahHypervisor, RegistersAsGunyahWithADeviceOption) {
  EXPECT_TRUE(IsLinkedBackend("gunyah", {"device"}));
  // The registered factory opens the real device path it is given.
  EXPECT_THAT(CreateHypervisor("gunyah[device=/nonexistent/gunyah]"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("/nonexistent/gunyah")));
}

TEST(GunyahHypervisor, CapabilitiesAreWhatTheAbiOffers) {
  ASSERT_OK_AND_ASSIGN(GunyahTestEnv gunyah, NewGunyahTestEnv());
  const Hypervisor& h = *gunyah.hypervisor;
  EXPECT_TRUE(HasCapabilities(
      h,
      {HypervisorCap::kUserMemory, HypervisorCap::kImmediateExit,
       HypervisorCap::kIrqfd, HypervisorCap::kIoEventfd},
      {HypervisorCap::kReadOnlyMemory, HypervisorCap::kDirtyLog,
       HypervisorCap::kSyncRegs}));
  EXPECT_EQ(h.MaxVcpus(), GunyahHypervisor::kMaxVcpus);
}

TEST(GunyahHypervisor, CreateVmIsGhCreateVmWithAZeroArgument) {
  ASSERT_OK_AND_ASSIGN(GunyahTestEnv gunyah, NewGunyahTestEnv());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, gunyah.hypervisor->CreateVm());
  ASSERT_NE(vm->AsAArch64(), nullptr);
  EXPECT_EQ(vm->AsX86_64(), nullptr);
  std::vector<GunyahFake::Call> calls = gunyah.fake->Calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].name, "GH_CREATE_VM");
  EXPECT_EQ(calls[1].request, gunyah_abi::kCreateVm);
  EXPECT_EQ(calls[1].fd, calls[0].result);  // on the device fd
  EXPECT_EQ(calls[1].int_arg, 0u);
  EXPECT_GE(calls[1].result, 0);
  ASSERT_TRUE(gunyah.fake->LatestVm().has_value());
  EXPECT_EQ(gunyah.fake->LatestVm()->status,
            GunyahFake::VmState::Status::kNotStarted);
  vm.reset();
  EXPECT_EQ(gunyah.fake->open_fds(), 1u);
}

TEST(GunyahHypervisor, CreateVmFailureNamesTheIoctlAndLeaksNothing) {
  ASSERT_OK_AND_ASSIGN(GunyahTestEnv gunyah, NewGunyahTestEnv());
  gunyah.fake->FailIoctl(gunyah_abi::kCreateVm, ENOMEM);
  EXPECT_THAT(gunyah.hypervisor->CreateVm(),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("GH_CREATE_VM: Cannot allocate memory")));
  EXPECT_EQ(gunyah.fake->open_fds(), 1u);
  EXPECT_THAT(gunyah.fake->CallNames(), ElementsAre("open", "GH_CREATE_VM"));
}

}  // namespace
}  // namespace hv::testing
