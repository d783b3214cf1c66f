// GeniezoneHypervisor against the fake /dev/gzvm: what it opens and asks,
// what it reports, and its registration.
#include "hypervisor/geniezone/geniezone_hypervisor.h"

#include <cerrno>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/geniezone/geniezone_abi.h"
#include "hypervisor/geniezone/geniezone_test_util.h"
#include "hypervisor/registry.h"
#include "testing/fakes/geniezone_fake.h"
#include "testing/backend_expectations.h"
#include "testing/status_matchers.h"

namespace hv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(GeniezoneHypervisor, OpensTheDeviceAndAsksTheAddressWidth) {
  auto fake = GeniezoneFake::Create();
  ASSERT_OK_AND_ASSIGN(auto gz, GeniezoneHypervisor::Create("/dev/gzvm", fake.get()));
  EXPECT_THAT(fake->CallNames(),
              ElementsAre("open /dev/gzvm", "GZVM_CHECK_EXTENSION"));
  const GeniezoneFake::Call check = LastIoctl(*fake, "GZVM_CHECK_EXTENSION");
  EXPECT_EQ(check.fd, fake->calls()[0].result);  // on the device fd
  EXPECT_EQ(check.As<uint64_t>(), geniezone_abi::kCapVmGpaSize);
  EXPECT_EQ(gz->device().gpa_bits, 40u);
  EXPECT_EQ(gz->device().guest_address_limit, uint64_t{1} << 40);
  EXPECT_EQ(gz->kind(), "geniezone");
  EXPECT_EQ(gz->MaxVcpus(), 8u);
}

TEST(GeniezoneHypervisor, UsesTheWidthTheDriverAnswers) {
  GeniezoneFake::Options options;
  options.gpa_bits = 36;
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create(options));
  EXPECT_EQ(env.vm->GuestAddressLimit(), uint64_t{1} << 36);
}

TEST(GeniezoneHypervisor, AssumesFortyBitsWhenTheDriverDoesNotSay) {
  GeniezoneFake::Options options;
  options.gpa_bits = 0;  // GZVM_CHECK_EXTENSION -> EOPNOTSUPP
  ASSERT_OK_AND_ASSIGN(GeniezoneTestEnv env, GeniezoneTestEnv::Create(options));
  EXPECT_EQ(env.vm->GuestAddressLimit(), uint64_t{1} << 40);
}

TEST(GeniezoneHypervisor, MissingDeviceNamesThePath) {
  auto fake = GeniezoneFake::Create();
  EXPECT_THAT(GeniezoneHypervisor::Create("/dev/no-gzvm", fake.get()),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("open /dev/no-gzvm: No such file")));
  EXPECT_EQ(fake->OpenFdCount(), 0u);
}

TEST(GeniezoneHypervisor, FailedCapabilityQueryNamesItAndClosesTheDevice) {
  auto fake = GeniezoneFake::Create();
  fake->FailCall(1, EIO);  // call 0: open, call 1: GZVM_CHECK_EXTENSION
  EXPECT_THAT(GeniezoneHypervisor::Create("/dev/gzvm", fake.get()),
              StatusIs(absl::StatusCode::kUnknown,
                       HasSubstr("GZVM_CHECK_EXTENSION(GZVM_CAP_VM_GPA_SIZE): "
                                 "Input/output error")));
  EXPECT_EQ(fake->OpenFdCount(), 0u);
}

TEST(GeniezoneHypervisor, ReportsWhatGeniezoneOffers) {
  auto fake = GeniezoneFake::Create();
  ASSERT_OK_AND_ASSIGN(auto gz, GeniezoneHypervisor::Create("/dev/gzvm", fake.get()));
  EXPECT_TRUE(HasCapabilities(
      *gz,
      {HypervisorCap::kUserMemory, HypervisorCap::kImmediateExit,
       HypervisorCap::kIrqfd, HypervisorCap::kIoEventfd,
       HypervisorCap::kIrqChip},
      {HypervisorCap::kReadOnlyMemory, HypervisorCap::kDirtyLog,
       HypervisorCap::kSplitIrqChip, HypervisorCap::kXcrs,
       HypervisorCap::kTscControl, HypervisorCap::kSyncRegs}));
}

TEST(GeniezoneHypervisor, CreateVmIssuesCreateVmWithTheOrdinaryType) {
  auto fake = GeniezoneFake::Create();
  ASSERT_OK_AND_ASSIGN(auto gz, GeniezoneHypervisor::Create("/dev/gzvm", fake.get()));
  fake->ClearCalls();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, gz->CreateVm());
  EXPECT_THAT(IoctlNames(*fake), ElementsAre("GZVM_CREATE_VM"));
  EXPECT_EQ(LastIoctl(*fake, "GZVM_CREATE_VM").arg, 0u);
  EXPECT_NE(vm->AsAArch64(), nullptr);
  EXPECT_EQ(vm->AsX86_64(), nullptr);
  EXPECT_EQ(fake->OpenFdCount(), 2u);  // device and VM
  vm.reset();
  EXPECT_EQ(fake->OpenFdCount(), 1u);
}

TEST(GeniezoneHypervisor, CreateVmErrorNamesTheIoctl) {
  auto fake = GeniezoneFake::Create();
  ASSERT_OK_AND_ASSIGN(auto gz, GeniezoneHypervisor::Create("/dev/gzvm", fake.get()));
  fake->FailCall(fake->call_count(), ENOMEM);
  EXPECT_THAT(gz->CreateVm(),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("GZVM_CREATE_VM: Cannot allocate memory")));
  EXPECT_EQ(fake->OpenFdCount(), 1u);
}

TEST(GeniezoneHypervisor, VmOutlivesTheHypervisorObject) {
  auto fake = GeniezoneFake::Create();
  ASSERT_OK_AND_ASSIGN(auto gz, GeniezoneHypervisor::Create("/dev/gzvm", fake.get()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Vm> vm, gz->CreateVm());
  gz.reset();
  EXPECT_EQ(vm->GuestAddressLimit(), uint64_t{1} << 40);
  vm.reset();
  EXPECT_EQ(fake->OpenFdCount(), 0u);
}

TEST(GeniezoneHypervisor, RegistersAsGeniezoneWithADeviceOption) {
  EXPECT_TRUE(IsLinkedBackend("geniezone", {"device"}));
  // The real seam: this machine has no such device.
  EXPECT_THAT(CreateHypervisor("geniezone[device=/nonexistent/gzvm]"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("open /nonexistent/gzvm")));
}

}  // namespace
}  // namespace hv::testing
