#include "sys/mountinfo_field.h"

#include "gtest/gtest.h"

namespace podsandbox::sys {
namespace {

TEST(UnescapeMountInfoFieldTest, DecodesTheFourBytesTheKernelEscapes) {
  EXPECT_EQ(UnescapeMountInfoField("/mnt/a\\040b\\011c\\012d\\134e"),
            "/mnt/a b\tc\nd\\e");
}

TEST(UnescapeMountInfoFieldTest, PlainTextIsUnchanged) {
  EXPECT_EQ(UnescapeMountInfoField("/var/lib/kubelet/pods"),
            "/var/lib/kubelet/pods");
  EXPECT_EQ(UnescapeMountInfoField(""), "");
}

TEST(UnescapeMountInfoFieldTest, BackslashWithoutThreeOctalDigitsIsKept) {
  EXPECT_EQ(UnescapeMountInfoField("a\\08x"), "a\\08x");
  EXPECT_EQ(UnescapeMountInfoField("a\\04"), "a\\04");
  EXPECT_EQ(UnescapeMountInfoField("a\\"), "a\\");
}

}  // namespace
}  // namespace podsandbox::sys
