#include "cri/daemon_flags.h"

#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace podsandbox::cri {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Optional;

struct Parsed {
  DaemonCommandLine command_line;
  std::string out, err;
};

Parsed Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "podsandboxd");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  std::ostringstream out, err;
  DaemonCommandLine command_line =
      ParseDaemonFlags(static_cast<int>(argv.size()), argv.data(), out, err);
  return {std::move(command_line), out.str(), err.str()};
}

TEST(DaemonFlagsTest, HelpListsTheReadmeSpellings) {
  Parsed p = Parse({"--help"});
  EXPECT_FALSE(p.command_line.flags.has_value());
  EXPECT_EQ(p.command_line.exit_code, 0);
  for (const char* flag :
       {"--config", "--root", "--state", "--listen", "--socket-group",
        "--cni-conf-dir", "--cni-bin-dir", "--default-runtime",
        "--pause-binary", "--log-level", "--log-format", "--version"}) {
    EXPECT_THAT(p.out, HasSubstr(flag));
  }
  // absl's spelling is gone.
  EXPECT_THAT(p.out, Not(HasSubstr("cni_bin_dir")));
}

TEST(DaemonFlagsTest, VersionPrintsVersionCommitAndBuild) {
  Parsed p = Parse({"--version"});
  EXPECT_FALSE(p.command_line.flags.has_value());
  EXPECT_EQ(p.command_line.exit_code, 0);
  EXPECT_THAT(p.out,
              ::testing::MatchesRegex("podsandboxd [0-9.]+\ncommit: [^\n]+\n"
                                      "build: (opt|fastbuild|dbg)\n"));
}

TEST(DaemonFlagsTest, GivenFlagsOverrideAndOthersStayUnset) {
  Parsed p = Parse({"--config", "/etc/p.toml", "--root=/r", "--cni-bin-dir",
                    "/a:/b", "--log-level", "DEBUG", "--log-format", "json"});
  ASSERT_TRUE(p.command_line.flags.has_value()) << p.err;
  const DaemonFlags& f = *p.command_line.flags;
  EXPECT_EQ(f.config_path, "/etc/p.toml");
  EXPECT_THAT(f.overrides.root, Optional(std::string("/r")));
  EXPECT_THAT(f.overrides.cni_bin_dirs, Optional(std::string("/a:/b")));
  EXPECT_THAT(f.overrides.log_level, Optional(std::string("debug")));
  EXPECT_THAT(f.overrides.log_format, Optional(std::string("json")));
  EXPECT_FALSE(f.overrides.state.has_value());
  EXPECT_FALSE(f.overrides.listen.has_value());
  EXPECT_FALSE(f.overrides.pause_binary.has_value());
  EXPECT_THAT(p.out, IsEmpty());
}

TEST(DaemonFlagsTest, NoFlagsRunWithTheFile) {
  Parsed p = Parse({});
  ASSERT_TRUE(p.command_line.flags.has_value());
  EXPECT_EQ(p.command_line.flags->config_path, "");
  EXPECT_FALSE(p.command_line.flags->overrides.root.has_value());
}

TEST(DaemonFlagsTest, BadUsageExitsTwo) {
  const std::vector<std::vector<std::string>> kBad = {
      {"--cni_bin_dir", "/x"},  // absl's old spelling
      {"--frobnicate"},        {"--root"}, {"stray"}, {"--log-level", "chatty"},
      {"--log-format", "xml"},
  };
  for (const std::vector<std::string>& args : kBad) {
    Parsed p = Parse(args);
    EXPECT_FALSE(p.command_line.flags.has_value()) << args[0];
    EXPECT_EQ(p.command_line.exit_code, 2) << args[0];
    EXPECT_THAT(p.err, Not(IsEmpty())) << args[0];
  }
}

}  // namespace
}  // namespace podsandbox::cri
