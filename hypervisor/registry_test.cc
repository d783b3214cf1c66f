#include "hypervisor/registry.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hypervisor/backend_registration.h"
#include "hypervisor/hypervisor.h"
#include "testing/backend_expectations.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::IsOk;
using ::hv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// A backend that only records the spec it was created with.
class SpecRecorder : public Hypervisor {
 public:
  explicit SpecRecorder(HypervisorSpec spec) : spec_(std::move(spec)) {}
  absl::string_view kind() const override { return spec_.kind; }
  bool CheckCapability(HypervisorCap) const override { return false; }
  uint32_t MaxVcpus() const override { return 1; }
  absl::StatusOr<std::unique_ptr<Vm>> CreateVm() override {
    return absl::UnimplementedError("SpecRecorder has no VMs");
  }
  const HypervisorSpec& spec() const { return spec_; }

 private:
  HypervisorSpec spec_;
};

const BackendRegistration kRegisterRecorder(
    "recorder", {"device", "mode"},
    [](const HypervisorSpec& spec) -> absl::StatusOr<std::unique_ptr<Hypervisor>> {
      return std::make_unique<SpecRecorder>(spec);
    });

TEST(ParseHypervisorSpec, KindAlone) {
  ASSERT_OK_AND_ASSIGN(HypervisorSpec spec, ParseHypervisorSpec("kvm"));
  EXPECT_EQ(spec.kind, "kvm");
  EXPECT_TRUE(spec.options.empty());
  EXPECT_EQ(spec.Option("device", "/dev/kvm"), "/dev/kvm");
}

TEST(ParseHypervisorSpec, KindWithOptions) {
  ASSERT_OK_AND_ASSIGN(HypervisorSpec spec,
                       ParseHypervisorSpec("kvm[device=/dev/kvm2,mode=x_1]"));
  EXPECT_EQ(spec.kind, "kvm");
  EXPECT_THAT(spec.options, ElementsAre(Pair("device", "/dev/kvm2"), Pair("mode", "x_1")));
  EXPECT_EQ(spec.Option("device", "/dev/kvm"), "/dev/kvm2");
}

TEST(ParseHypervisorSpec, RejectsMalformedSpecs) {
  for (const char* bad : {"", "KVM", "kvm[", "kvm]", "kvm[]", "kvm[device]",
                          "kvm[device=]", "kvm[=x]", "kvm[a=b,]", "kvm[a=b]x",
                          "kvm [a=b]", "1kvm", "kvm[a=b=c]"}) {
    EXPECT_THAT(ParseHypervisorSpec(bad),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("hypervisor spec")))
        << bad;
  }
}

TEST(ParseHypervisorSpec, RejectsRepeatedOption) {
  EXPECT_THAT(ParseHypervisorSpec("kvm[device=a,device=b]"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("option \"device\" given twice")));
}

TEST(CreateHypervisor, PassesParsedSpecToTheBackend) {
  ASSERT_OK_AND_ASSIGN(auto hypervisor, CreateHypervisor("recorder[mode=fast]"));
  auto* recorder = static_cast<SpecRecorder*>(hypervisor.get());
  EXPECT_EQ(recorder->kind(), "recorder");
  EXPECT_EQ(recorder->spec().Option("mode", ""), "fast");
}

TEST(CreateHypervisor, UnknownKindListsLinkedBackends) {
  EXPECT_THAT(CreateHypervisor("nosuch"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("\"nosuch\" is not linked into this build; linked: ")));
  EXPECT_THAT(CreateHypervisor("nosuch"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("recorder")));
}

TEST(CreateHypervisor, UnknownOptionListsAcceptedOnes) {
  EXPECT_THAT(CreateHypervisor("recorder[speed=1]"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "hypervisor \"recorder\" has no option \"speed\"; it "
                       "accepts: device, mode"));
}

TEST(LinkedBackends, IncludesRegisteredBackend) {
  EXPECT_TRUE(testing::IsLinkedBackend("recorder", {"device", "mode"}));
}

}  // namespace
}  // namespace hv
