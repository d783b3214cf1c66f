#include "hypervisor/os/win_status.h"

#include <cstdint>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/status_matchers.h"

namespace hv {
namespace {

using ::hv::testing::StatusIs;
using ::testing::Eq;

TEST(WinErrorStatus, NamesOperationErrorAndNumber) {
  EXPECT_THAT(WinErrorStatus("VirtualFree", 87),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("VirtualFree: ERROR_INVALID_PARAMETER (Win32 error 87)")));
}

TEST(WinErrorStatus, MapsCodes) {
  EXPECT_THAT(WinErrorStatus("CreateFile", 2), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(WinErrorStatus("CreateFile", 5),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(WinErrorStatus("VirtualAlloc", 8),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(WinErrorStatus("LoadLibrary", 126), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(WinErrorStatus("CloseHandle", 6),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(WinErrorStatus, UnknownCodeKeepsItsNumber) {
  EXPECT_THAT(WinErrorStatus("DeviceIoControl", 12345),
              StatusIs(absl::StatusCode::kUnknown,
                       Eq("DeviceIoControl: Win32 error 12345")));
}

TEST(WinErrorStatus, SuccessIsInternalAndSaysSo) {
  EXPECT_THAT(WinErrorStatus("ReadFile", 0),
              StatusIs(absl::StatusCode::kInternal,
                       Eq("ReadFile: failed without setting an error (ERROR_SUCCESS)")));
}

TEST(HresultStatus, NamesWellKnownHresults) {
  EXPECT_THAT(HresultStatus("WHvCreatePartition", static_cast<int32_t>(0x80004001u)),
              StatusIs(absl::StatusCode::kUnimplemented,
                       Eq("WHvCreatePartition: E_NOTIMPL (HRESULT 0x80004001)")));
  EXPECT_THAT(HresultStatus("WHvSetupPartition", static_cast<int32_t>(0x80070057u)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("WHvSetupPartition: E_INVALIDARG (HRESULT 0x80070057)")));
}

TEST(HresultStatus, Win32FacilityTakesTheWin32Meaning) {
  // HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND).
  EXPECT_THAT(HresultStatus("WHvMapGpaRange", static_cast<int32_t>(0x80070002u)),
              StatusIs(absl::StatusCode::kNotFound,
                       Eq("WHvMapGpaRange: ERROR_FILE_NOT_FOUND (HRESULT 0x80070002)")));
}

TEST(HresultStatus, UnknownFailureKeepsItsBits) {
  EXPECT_THAT(HresultStatus("WHvRunVirtualProcessor", static_cast<int32_t>(0xC0350005u)),
              StatusIs(absl::StatusCode::kUnknown,
                       Eq("WHvRunVirtualProcessor: HRESULT 0xc0350005")));
}

TEST(HresultStatus, SuccessCodeIsInternalAndSaysSo) {
  EXPECT_THAT(HresultStatus("WHvGetCapability", 0),
              StatusIs(absl::StatusCode::kInternal,
                       Eq("WHvGetCapability: called a failure with success HRESULT 0x00000000")));
}

}  // namespace
}  // namespace hv
