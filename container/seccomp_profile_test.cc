#include "container/seccomp_profile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "container/capabilities.h"
#include "sys/real_sys.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::container {
namespace {

using nlohmann::json;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::HasSubstr;

// Every rule that lets `name` through, with its args (empty: always).
std::vector<json> RulesFor(const json& profile, const std::string& name) {
  std::vector<json> out;
  for (const json& rule : profile["syscalls"]) {
    for (const json& n : rule["names"]) {
      if (n == name) out.push_back(rule);
    }
  }
  return out;
}

bool AllowsUnconditionally(const json& profile, const std::string& name) {
  for (const json& rule : RulesFor(profile, name)) {
    if (rule["action"] == "SCMP_ACT_ALLOW" && !rule.contains("args")) {
      return true;
    }
  }
  return false;
}

TEST(RuntimeDefaultTest, DeniesByDefaultWithEperm) {
  json p = RuntimeDefaultSeccomp(DefaultCapabilities());
  EXPECT_EQ(p["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(p["defaultErrnoRet"], 1);
  EXPECT_EQ(p["architectures"], json(NativeSeccompArchitectures()));
  // pipe and pipe2: every shell pipeline and $(...) (they were missing,
  // and `sh -c 'a | b'` failed with "can't create pipe").
  for (const char* ok : {"read", "openat", "execve", "futex", "setuid", "pipe",
                         "pipe2", "chroot" /* CAP_SYS_CHROOT is a default */}) {
    EXPECT_TRUE(AllowsUnconditionally(p, ok)) << ok;
  }
  for (const char* denied :
       {"mount", "unshare", "setns", "ptrace", "init_module", "reboot", "bpf",
        "io_uring_setup", "kexec_load", "open_by_handle_at", "clock_settime",
        "keyctl", "add_key", "userfaultfd"}) {
    EXPECT_TRUE(RulesFor(p, denied).empty()) << denied;
  }
}

TEST(RuntimeDefaultTest, CloneWithoutSysAdminHasNoNamespaceFlags) {
  json p = RuntimeDefaultSeccomp(DefaultCapabilities());
  std::vector<json> clone = RulesFor(p, "clone");
  ASSERT_EQ(clone.size(), 1u);
  ASSERT_EQ(clone[0]["args"].size(), 1u);
  EXPECT_EQ(clone[0]["args"][0]["op"], "SCMP_CMP_MASKED_EQ");
  EXPECT_EQ(clone[0]["args"][0]["value"], 0x7E020000u);
  EXPECT_EQ(clone[0]["args"][0]["valueTwo"], 0u);
  std::vector<json> clone3 = RulesFor(p, "clone3");
  ASSERT_EQ(clone3.size(), 1u);
  EXPECT_EQ(clone3[0]["action"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(clone3[0]["errnoRet"], 38);  // ENOSYS: libc falls back
}

TEST(RuntimeDefaultTest, CapabilitiesOpenTheirSyscalls) {
  std::vector<std::string> caps = DefaultCapabilities();
  caps.push_back("CAP_SYS_ADMIN");
  caps.push_back("CAP_SYS_PTRACE");
  json p = RuntimeDefaultSeccomp(caps);
  for (const char* ok : {"mount", "umount2", "unshare", "setns", "clone",
                         "clone3", "ptrace", "process_vm_readv"}) {
    EXPECT_TRUE(AllowsUnconditionally(p, ok)) << ok;
  }
  EXPECT_TRUE(RulesFor(p, "reboot").empty());
  // Dropping CAP_SYS_CHROOT closes chroot.
  json q =
      RuntimeDefaultSeccomp(ContainerCapabilities({{}, {"SYS_CHROOT"}}, false));
  EXPECT_TRUE(RulesFor(q, "chroot").empty());
}

TEST(RuntimeDefaultTest, PersonalityAndSocketAreArgumentChecked) {
  json p = RuntimeDefaultSeccomp(DefaultCapabilities());
  std::vector<json> persona = RulesFor(p, "personality");
  EXPECT_EQ(persona.size(), 5u);
  for (const json& r : persona) EXPECT_EQ(r["args"][0]["op"], "SCMP_CMP_EQ");
  std::vector<json> socket = RulesFor(p, "socket");
  ASSERT_EQ(socket.size(), 1u);
  EXPECT_EQ(socket[0]["args"][0]["op"], "SCMP_CMP_NE");
  EXPECT_EQ(socket[0]["args"][0]["value"], 40);  // AF_VSOCK
}

TEST(SeccompForTest, UnconfinedAndPrivilegedHaveNoFilter) {
  sys::RealSys sys;
  ASSERT_OK_AND_ASSIGN(auto a, SeccompFor(sys, {ProfileType::kUnconfined, ""},
                                          false, DefaultCapabilities()));
  EXPECT_FALSE(a.has_value());
  ASSERT_OK_AND_ASSIGN(auto b,
                       SeccompFor(sys, {ProfileType::kRuntimeDefault, ""}, true,
                                  AllCapabilities()));
  EXPECT_FALSE(b.has_value());
  ASSERT_OK_AND_ASSIGN(
      auto c, SeccompFor(sys, {ProfileType::kRuntimeDefault, ""}, false,
                         DefaultCapabilities()));
  EXPECT_TRUE(c.has_value());
}

class LocalhostTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_.Sub(name);
    std::ofstream(path) << text;
    return path;
  }
  absl::StatusOr<std::optional<json>> Load(
      const std::string& path,
      std::vector<std::string> caps = DefaultCapabilities()) {
    return SeccompFor(sys_, {ProfileType::kLocalhost, path}, false, caps);
  }
  sys::RealSys sys_;
  sys::TempDir dir_;
};

TEST_F(LocalhostTest, OciFormatPassesThrough) {
  std::string path = Write("p.json", R"({
    "defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
                  "errnoRet": 1}]})");
  ASSERT_OK_AND_ASSIGN(std::optional<json> p, Load(path));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ((*p)["defaultAction"], "SCMP_ACT_ALLOW");
  ASSERT_EQ((*p)["syscalls"].size(), 1u);
  EXPECT_EQ((*p)["syscalls"][0]["names"][0], "mkdir");
  EXPECT_EQ((*p)["syscalls"][0]["errnoRet"], 1);
}

TEST_F(LocalhostTest, DockerFormatResolvesArchMapAndCapabilityConditions) {
  std::string native = NativeSeccompArchitectures()[0];
  std::string path = Write("docker.json", R"({
    "defaultAction": "SCMP_ACT_ERRNO",
    "archMap": [{"architecture": ")" + native +
                                              R"(",
                 "subArchitectures": ["SUB_A"]},
                {"architecture": "SCMP_ARCH_OTHER"}],
    "syscalls": [
      {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
      {"names": ["mount"], "action": "SCMP_ACT_ALLOW",
       "includes": {"caps": ["CAP_SYS_ADMIN"]}},
      {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
       "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
      {"name": "write", "action": "SCMP_ACT_ALLOW"}]})");
  ASSERT_OK_AND_ASSIGN(std::optional<json> p, Load(path));
  EXPECT_EQ((*p)["architectures"], json({native, "SUB_A"}));
  EXPECT_FALSE(RulesFor(*p, "read").empty());
  EXPECT_TRUE(RulesFor(*p, "mount").empty());
  EXPECT_FALSE(RulesFor(*p, "clone").empty());
  EXPECT_FALSE(RulesFor(*p, "write").empty());
  std::vector<std::string> admin = DefaultCapabilities();
  admin.push_back("CAP_SYS_ADMIN");
  ASSERT_OK_AND_ASSIGN(std::optional<json> q, Load(path, admin));
  EXPECT_FALSE(RulesFor(*q, "mount").empty());
  EXPECT_TRUE(RulesFor(*q, "clone").empty());
}

TEST_F(LocalhostTest, BadFilesAreInvalidArgumentNamingTheField) {
  const std::string field =
      "config.linux.security_context.seccomp.localhost_ref";
  EXPECT_THAT(Load(dir_.Sub("missing.json")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(field + ": " + dir_.Sub("missing.json") +
                                 " does not exist")));
  EXPECT_THAT(Load(dir_.path()), StatusIs(absl::StatusCode::kInvalidArgument,
                                          HasSubstr("not a regular file")));
  ASSERT_EQ(mkfifo(dir_.Sub("fifo").c_str(), 0600), 0);
  EXPECT_THAT(Load(dir_.Sub("fifo")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not a regular file")));
  EXPECT_THAT(
      Load(Write("big.json", std::string(kMaxSeccompProfileBytes + 1, ' '))),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("more than 1048576")));
  EXPECT_THAT(Load(Write("garbage.json", "{not json")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not a JSON object")));
  EXPECT_THAT(
      Load(Write("noaction.json", R"({"syscalls": []})")),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("defaultAction")));
  EXPECT_THAT(Load(Write("badrule.json",
                         R"({"defaultAction": "SCMP_ACT_ALLOW",
                     "syscalls": [{"names": ["read"]}]})")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("syscalls[0]: needs an action")));
  EXPECT_THAT(
      Load("relative.json"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("absolute")));
}

TEST_F(LocalhostTest, EverySyscallFaultSurfaces) {
  std::string path = Write("p.json", R"({"defaultAction":"SCMP_ACT_LOG"})");
  for (sys::SysCall call : {sys::SysCall::kOpen, sys::SysCall::kRead}) {
    for (int nth : {1, 2}) {
      sys::FaultySys faulty(sys_);
      faulty.FailNth(call, nth, EACCES);
      auto p = SeccompFor(faulty, {ProfileType::kLocalhost, path}, false,
                          DefaultCapabilities());
      if (faulty.fired(call) == 0) {
        EXPECT_OK(p.status());
        continue;
      }
      EXPECT_EQ(faulty.fired(call), 1);
      EXPECT_THAT(p, StatusIs(absl::StatusCode::kPermissionDenied))
          << sys::SysCallName(call) << " #" << nth;
    }
  }
}

}  // namespace
}  // namespace podsandbox::container
