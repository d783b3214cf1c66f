#include "hypervisor/os/seam_fd.h"

#include <cstdint>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace hv {
namespace {

using ::testing::ElementsAre;

// A seam that records what it is asked to close.
template <typename Handle>
struct RecordingSeam {
  int Close(Handle handle) {
    closed.push_back(handle);
    return 0;
  }
  std::vector<Handle> closed;
};

TEST(SeamFd, ClosesThroughItsSeamOnce) {
  RecordingSeam<int> seam;
  {
    SeamFd<RecordingSeam<int>> fd(&seam, 5);
    EXPECT_TRUE(fd.valid());
    EXPECT_EQ(fd.get(), 5);
    SeamFd<RecordingSeam<int>> moved(std::move(fd));
    EXPECT_FALSE(fd.valid());
    EXPECT_EQ(moved.get(), 5);
  }
  EXPECT_THAT(seam.closed, ElementsAre(5));
}

TEST(SeamFd, NoneIsNeverClosed) {
  RecordingSeam<int> seam;
  { SeamFd<RecordingSeam<int>> fd(&seam, -1); EXPECT_FALSE(fd.valid()); }
  { SeamFd<RecordingSeam<int>> fd; }
  EXPECT_TRUE(seam.closed.empty());
}

TEST(SeamFd, MoveAssignmentClosesTheOldHandle) {
  RecordingSeam<int> seam;
  SeamFd<RecordingSeam<int>> a(&seam, 3);
  SeamFd<RecordingSeam<int>> b(&seam, 4);
  a = std::move(b);
  EXPECT_THAT(seam.closed, ElementsAre(3));
  EXPECT_EQ(a.get(), 4);
}

TEST(SeamFd, HoldsAWindowsHandlesBits) {
  RecordingSeam<intptr_t> seam;
  {
    SeamFd<RecordingSeam<intptr_t>, intptr_t> handle(&seam, 0x1234);
    EXPECT_TRUE(handle.valid());
  }
  {
    SeamFd<RecordingSeam<intptr_t>, intptr_t> none(&seam, -1);
    EXPECT_FALSE(none.valid());
  }
  EXPECT_THAT(seam.closed, ElementsAre(intptr_t{0x1234}));
}

}  // namespace
}  // namespace hv
