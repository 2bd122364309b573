#include "cri/daemon_config.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "oci/runtime_type.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::cri {
namespace {

using ::podsandbox::sys::testing::IsOk;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kFull[] = R"toml(
root = "/var/lib/psb"
state = "/run/psb"
listen = "/run/psb/psb.sock"
socket_group = "kube"
log_level = "debug"
default_runtime = "crun"
stop_grace_period = "3s"
oom_score_adj = 100
cgroup_parent_prefix = "/kubepods"

[limits]
sandboxes = 500
containers = 600
request_bytes = 8388608
label_annotation_bytes = 65536
port_mappings = 100
sysctls = 10
dns_entries = 20
stop_remove_queue = 11
container_queue = 12
stats_queue = 13
pull_queue = 14
image_remove_queue = 15

[cni]
conf_dir = "/etc/psb/net.d"
bin_dirs = ["/opt/cni/bin"]
timeout = "5s"

[userns]
allow_host_root = true
allow_different_uid_gid_maps = true
allow_overlapping_ranges = true

[[runtime_handlers]]
name = "runc"
type = "runc"
path = "/usr/sbin/runc"
root = "/run/psb/runc"
extra_args = ["--debug"]
no_pivot_root = true
timeout = "20s"

[[runtime_handlers]]
name = "crun"
type = "crun"
path = "/usr/bin/crun"
)toml";

TEST(DaemonConfigTest, ParsesEveryKey) {
  ASSERT_OK_AND_ASSIGN(DaemonConfig config, ParseDaemonConfig(kFull, "f"));
  EXPECT_EQ(config.controller.root_dir, "/var/lib/psb");
  EXPECT_EQ(config.controller.state_dir, "/run/psb");
  EXPECT_EQ(config.listen, "/run/psb/psb.sock");
  EXPECT_EQ(config.socket_group, "kube");
  EXPECT_EQ(config.log_level, sys::LogLevel::kDebug);
  EXPECT_EQ(config.controller.default_runtime, "crun");
  EXPECT_EQ(config.controller.stop_grace_period, absl::Seconds(3));
  EXPECT_EQ(config.controller.oom_score_adj, 100);
  EXPECT_EQ(config.controller.cni_conf_dir, "/etc/psb/net.d");
  EXPECT_THAT(config.controller.cni_bin_dirs, ElementsAre("/opt/cni/bin"));
  EXPECT_EQ(config.controller.cni_timeout, absl::Seconds(5));
  EXPECT_TRUE(config.controller.userns_policy.allow_host_root);
  EXPECT_TRUE(config.controller.userns_policy.allow_different_uid_gid_maps);
  EXPECT_TRUE(config.controller.userns_policy.allow_overlapping_ranges);
  EXPECT_EQ(config.controller.pod_limits.cgroup_parent_prefix, "/kubepods");
  EXPECT_EQ(config.controller.max_sandboxes, 500u);
  EXPECT_EQ(config.max_containers, 600u);
  EXPECT_EQ(config.max_request_bytes, 8 << 20);
  EXPECT_EQ(config.controller.pod_limits.max_label_annotation_bytes, 65536u);
  EXPECT_EQ(config.controller.pod_limits.max_port_mappings, 100u);
  EXPECT_EQ(config.controller.pod_limits.max_sysctls, 10u);
  EXPECT_EQ(config.controller.pod_limits.max_dns_entries, 20u);
  EXPECT_EQ(config.queues.stop_remove, 11);
  EXPECT_EQ(config.queues.container, 12);
  EXPECT_EQ(config.queues.stats, 13);
  EXPECT_EQ(config.queues.pull, 14);
  EXPECT_EQ(config.queues.image_remove, 15);
  ASSERT_EQ(config.controller.runtime_handlers.size(), 2u);
  const oci::RuntimeHandler& runc = config.controller.runtime_handlers[0];
  EXPECT_EQ(runc.name, "runc");
  EXPECT_EQ(runc.type, oci::RuntimeType::kRunc);
  EXPECT_EQ(runc.path, "/usr/sbin/runc");
  EXPECT_EQ(runc.root, "/run/psb/runc");
  EXPECT_THAT(runc.extra_args, ElementsAre("--debug"));
  EXPECT_TRUE(runc.no_pivot_root);
  EXPECT_EQ(runc.timeout, absl::Seconds(20));
  EXPECT_EQ(config.controller.runtime_handlers[1].type,
            oci::RuntimeType::kCrun);
  EXPECT_THAT(FinalizeDaemonConfig(&config), IsOk());
  // An empty root lands under the state directory.
  EXPECT_EQ(config.controller.runtime_handlers[1].root,
            "/run/psb/runtime/crun");
}

TEST(DaemonConfigTest, EmptyFileGivesDefaults) {
  ASSERT_OK_AND_ASSIGN(DaemonConfig config, ParseDaemonConfig("", "f"));
  EXPECT_EQ(config.controller.root_dir, "/var/lib/podsandbox");
  EXPECT_EQ(config.controller.state_dir, "/run/podsandbox");
  EXPECT_EQ(config.listen, "/run/podsandbox/podsandboxd.sock");
  // Resolved by CompleteControllerOptions: "builtin" with the installed
  // handlers, else the first configured one.
  EXPECT_EQ(config.controller.default_runtime, "");
  EXPECT_THAT(config.controller.cni_bin_dirs,
              ElementsAre("/opt/cni/bin", "/usr/lib/cni"));
  EXPECT_TRUE(config.controller.runtime_handlers.empty());
  // Validation's defaults: refusing, and far above what kubelet sends.
  EXPECT_FALSE(config.controller.userns_policy.allow_different_uid_gid_maps);
  EXPECT_FALSE(config.controller.userns_policy.allow_overlapping_ranges);
  EXPECT_EQ(config.controller.pod_limits.cgroup_parent_prefix, "/");
  EXPECT_EQ(config.controller.max_sandboxes, 4096u);
  EXPECT_EQ(config.max_containers, 16384u);
  EXPECT_EQ(config.max_request_bytes, 16 << 20);
  EXPECT_EQ(config.controller.pod_limits.max_label_annotation_bytes, 1u << 20);
  EXPECT_EQ(config.controller.pod_limits.max_port_mappings, 4096u);
  EXPECT_EQ(config.controller.pod_limits.max_sysctls, 1024u);
  EXPECT_EQ(config.controller.pod_limits.max_dns_entries, 256u);
  EXPECT_EQ(config.queues.stop_remove, 256);
  EXPECT_EQ(config.queues.container, 1024);
  EXPECT_EQ(config.queues.stats, 64);
  EXPECT_EQ(config.queues.pull, 256);
  EXPECT_EQ(config.queues.image_remove, 64);
}

TEST(DaemonConfigTest, BadLimitsAreNamed) {
  for (const auto& [text, want] :
       std::vector<std::pair<const char*, const char*>>{
           {"[limits]\nsandboxes = 0\n",
            "p.toml:2: limits.sandboxes: must be in [1, "},
           {"[limits]\ncontainers = 0\n",
            "p.toml:2: limits.containers: must be in [1, 1048576]"},
           {"[limits]\ncontainers = 1048577\n",
            "limits.containers: must be in [1, 1048576]"},
           {"[limits]\ncontainers = \"10\"\n",
            "limits.containers: must be an integer"},
           {"[limits]\nrequest_bytes = 1024\n",
            "limits.request_bytes: must be in [65536, 2147483647]"},
           {"[limits]\nrequest_bytes = 4294967296\n",
            "limits.request_bytes: must be in"},
           {"[limits]\nport_mappings = -1\n",
            "limits.port_mappings: must be in [0, "},
           {"[limits]\nsysctls = \"10\"\n",
            "limits.sysctls: must be an integer"},
           {"[limits]\ndns_entry = 3\n", "limits.dns_entry: unknown key"},
           // A queue of 0 would refuse every call that finds the workers
           // busy; one past 65536 no longer bounds anything.
           {"[limits]\nstop_remove_queue = 0\n",
            "p.toml:2: limits.stop_remove_queue: must be in [1, 65536]"},
           {"[limits]\ncontainer_queue = 65537\n",
            "limits.container_queue: must be in [1, 65536]"},
           {"[limits]\nstats_queue = -1\n",
            "limits.stats_queue: must be in [1, 65536]"},
           {"[limits]\npull_queue = 4294967296\n",
            "limits.pull_queue: must be in [1, 65536]"},
           {"[limits]\nimage_remove_queue = \"8\"\n",
            "limits.image_remove_queue: must be an integer"},
           {"limits = 3\n", "limits: must be a table"},
           {"[userns]\nallow_overlapping_ranges = 1\n",
            "userns.allow_overlapping_ranges: must be true or false"},
           {"cgroup_parent_prefix = 7\n",
            "cgroup_parent_prefix: must be a string"},
       }) {
    EXPECT_THAT(ParseDaemonConfig(text, "p.toml"),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(want)))
        << text;
  }
  // The prefix must be a clean absolute path; checked with the whole.
  for (const char* prefix : {"kubepods", "/kubepods/", "/a/../b"}) {
    ASSERT_OK_AND_ASSIGN(
        DaemonConfig config,
        ParseDaemonConfig(
            absl::StrCat("cgroup_parent_prefix = \"", prefix,
                         "\"\n[[runtime_handlers]]\nname = \"runc\"\n"
                         "path = \"/usr/sbin/runc\"\n"),
            "p.toml"));
    EXPECT_THAT(FinalizeDaemonConfig(&config),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("cgroup_parent_prefix: ")))
        << prefix;
  }
}

TEST(DaemonConfigTest, UnknownKeysAreNamedWithTheirLine) {
  EXPECT_THAT(ParseDaemonConfig("root = \"/x\"\nrooot = \"/y\"\n", "p.toml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("p.toml:2: rooot: unknown key")));
  EXPECT_THAT(ParseDaemonConfig("[cni]\nbindir = \"/x\"\n", "p.toml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cni.bindir: unknown key")));
  EXPECT_THAT(ParseDaemonConfig("[userns]\nallow = true\n", "p.toml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("userns.allow: unknown key")));
  EXPECT_THAT(
      ParseDaemonConfig("[[runtime_handlers]]\nname = \"a\"\nbinary = \"/b\"\n",
                        "p.toml"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("runtime_handlers[0].binary: unknown key")));
}

TEST(DaemonConfigTest, BadValuesAreNamed) {
  EXPECT_THAT(ParseDaemonConfig("root = 3\n", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("root: must be a string")));
  EXPECT_THAT(ParseDaemonConfig("stop_grace_period = \"ten\"\n", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("stop_grace_period: \"ten\" is not a "
                                 "duration")));
  EXPECT_THAT(ParseDaemonConfig("oom_score_adj = 5000\n", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("oom_score_adj: must be in [-1000, 1000]")));
  EXPECT_THAT(ParseDaemonConfig("log_level = \"loud\"\n", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("log_level: must be")));
  EXPECT_THAT(ParseDaemonConfig("[cni]\nbin_dirs = [\"/a\", 1]\n", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cni.bin_dirs[1]: must be a string")));
  EXPECT_THAT(ParseDaemonConfig("cni = 1\n", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cni: must be a table")));
  EXPECT_THAT(
      ParseDaemonConfig("[[runtime_handlers]]\ntype = \"docker\"\n", "f"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("runtime_handlers[0].type: must be runc, crun, "
                         "runsc or builtin")));
  EXPECT_THAT(ParseDaemonConfig("runtime_handlers = 1\n", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("runtime_handlers: must be an array")));
}

TEST(DaemonConfigTest, SyntaxErrorsNameTheLine) {
  EXPECT_THAT(
      ParseDaemonConfig("root = \"/x\"\nstate = \n", "s.toml"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("s.toml:2:")));
}

TEST(DaemonConfigTest, MissingFileIsNotFound) {
  EXPECT_THAT(LoadDaemonConfig("/nonexistent/podsandboxd.toml"),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("/nonexistent/podsandboxd.toml")));
}

TEST(DaemonConfigTest, FlagsOverrideTheFile) {
  ASSERT_OK_AND_ASSIGN(DaemonConfig config, ParseDaemonConfig(kFull, "f"));
  ConfigOverrides flags;
  flags.root = "/tmp/r";
  flags.state = "/tmp/s";
  flags.listen = "/tmp/s/sock";
  flags.cni_conf_dir = "/tmp/net.d";
  flags.cni_bin_dirs = "/a:/b::/c";
  flags.default_runtime = "runc";
  flags.log_level = "warning";
  flags.socket_group = "0";
  ASSERT_THAT(ApplyOverrides(flags, &config), IsOk());
  EXPECT_EQ(config.controller.root_dir, "/tmp/r");
  EXPECT_EQ(config.controller.state_dir, "/tmp/s");
  EXPECT_EQ(config.listen, "/tmp/s/sock");
  EXPECT_EQ(config.controller.cni_conf_dir, "/tmp/net.d");
  EXPECT_THAT(config.controller.cni_bin_dirs, ElementsAre("/a", "/b", "/c"));
  EXPECT_EQ(config.controller.default_runtime, "runc");
  EXPECT_EQ(config.log_level, sys::LogLevel::kWarning);
  EXPECT_EQ(config.socket_group, "0");
  // Untouched by flags.
  EXPECT_EQ(config.controller.stop_grace_period, absl::Seconds(3));

  ConfigOverrides bad;
  bad.log_level = "chatty";
  EXPECT_THAT(
      ApplyOverrides(bad, &config),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--log-level")));
}

TEST(DaemonConfigTest, FinalizeChecksTheWhole) {
  ASSERT_OK_AND_ASSIGN(DaemonConfig config, ParseDaemonConfig(kFull, "f"));
  config.controller.root_dir = "relative";
  EXPECT_THAT(FinalizeDaemonConfig(&config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("root: \"relative\" must be an absolute")));

  ASSERT_OK_AND_ASSIGN(config, ParseDaemonConfig(kFull, "f"));
  config.controller.default_runtime = "gvisor";
  EXPECT_THAT(FinalizeDaemonConfig(&config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("")));

  ASSERT_OK_AND_ASSIGN(config, ParseDaemonConfig(kFull, "f"));
  config.controller.runtime_handlers[1].path = "crun";
  EXPECT_THAT(FinalizeDaemonConfig(&config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("runtime_handlers[1].path")));

  ASSERT_OK_AND_ASSIGN(config, ParseDaemonConfig(kFull, "f"));
  config.controller.cni_bin_dirs = {"/ok", "rel"};
  EXPECT_THAT(FinalizeDaemonConfig(&config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cni.bin_dirs[1]")));
}

TEST(DaemonConfigTest, JsonNamesTheHandlers) {
  ASSERT_OK_AND_ASSIGN(DaemonConfig config, ParseDaemonConfig(kFull, "f"));
  ASSERT_THAT(FinalizeDaemonConfig(&config), IsOk());
  const std::string json = DaemonConfigJson(config);
  EXPECT_THAT(json, HasSubstr("\"defaultRuntime\":\"crun\""));
  EXPECT_THAT(json, HasSubstr("\"path\":\"/usr/sbin/runc\""));
  EXPECT_THAT(json, HasSubstr("\"confDir\":\"/etc/psb/net.d\""));
  EXPECT_THAT(json, HasSubstr("\"containerQueue\":12"));
}

TEST(DaemonConfigTest, MaxConcurrentRunPodSandbox) {
  ASSERT_OK_AND_ASSIGN(DaemonConfig defaults, ParseDaemonConfig("", "f"));
  EXPECT_EQ(defaults.max_concurrent_run_pod_sandbox, 32);
  ASSERT_OK_AND_ASSIGN(
      DaemonConfig config,
      ParseDaemonConfig("max_concurrent_run_pod_sandbox = 5\n", "f"));
  EXPECT_EQ(config.max_concurrent_run_pod_sandbox, 5);
  EXPECT_THAT(DaemonConfigJson(config),
              HasSubstr("\"maxConcurrentRunPodSandbox\":5"));
  for (const char* bad : {"0", "-1", "1025"}) {
    EXPECT_THAT(ParseDaemonConfig(absl::StrCat("\n\nmax_concurrent_run_pod_"
                                               "sandbox = ",
                                               bad, "\n"),
                                  "f"),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("f:3: max_concurrent_run_pod_sandbox: "
                                   "must be in [1, 1024]")))
        << bad;
  }
  EXPECT_THAT(
      ParseDaemonConfig("max_concurrent_run_pod_sandbox = \"8\"\n", "f"),
      StatusIs(
          absl::StatusCode::kInvalidArgument,
          HasSubstr("max_concurrent_run_pod_sandbox: must be an integer")));
}

constexpr char kRegistries[] = R"toml(
[images]
max_manifest_bytes = 65536
max_config_bytes = 131072
max_image_bytes = 1073741824
max_layer_bytes = 2147483648
max_layer_entries = 5000
connect_timeout = "5s"
stall_timeout = "1m"

[registries."registry.k8s.io"]
mirrors = ["http://127.0.0.1:5000", "https://mirror.example"]

[registries."127.0.0.1:5000"]
insecure = true

[registries."mirror.example"]
ca_file = "/etc/ssl/certs/ca-certificates.crt"
)toml";

TEST(DaemonConfigTest, ParsesRegistriesAndImageLimits) {
  ASSERT_OK_AND_ASSIGN(DaemonConfig config,
                       ParseDaemonConfig(kRegistries, "f"));
  EXPECT_EQ(config.pull.max_manifest_bytes, 65536);
  EXPECT_EQ(config.pull.max_config_bytes, 131072);
  EXPECT_EQ(config.pull.max_image_bytes, int64_t{1} << 30);
  EXPECT_EQ(config.pull.unpack.max_bytes, uint64_t{2} << 30);
  EXPECT_EQ(config.pull.unpack.max_entries, 5000u);
  EXPECT_EQ(config.pull.http.connect_timeout, absl::Seconds(5));
  EXPECT_EQ(config.pull.http.low_speed_time, absl::Minutes(1));
  ASSERT_EQ(config.registries.size(), 3u);
  EXPECT_THAT(config.registries["registry.k8s.io"].mirrors,
              ElementsAre("http://127.0.0.1:5000", "https://mirror.example"));
  EXPECT_TRUE(config.registries["127.0.0.1:5000"].insecure);
  EXPECT_FALSE(config.registries["registry.k8s.io"].insecure);
  EXPECT_EQ(config.registries["mirror.example"].ca_file,
            "/etc/ssl/certs/ca-certificates.crt");
  ASSERT_THAT(FinalizeDaemonConfig(&config), IsOk());
  const std::string json = DaemonConfigJson(config);
  EXPECT_THAT(json, HasSubstr("\"mirrors\":[\"http://127.0.0.1:5000\""));
  EXPECT_THAT(json, HasSubstr("\"maxLayerEntries\":5000"));
}

TEST(DaemonConfigTest, BadRegistryAndImageValuesAreNamed) {
  struct Case {
    const char* toml;
    const char* field;
  };
  for (const Case& c : std::vector<Case>{
           {"[registries.\"r.io\"]\nmirrors = \"http://m\"\n",
            "f:2: registries.\"r.io\".mirrors: must be an array"},
           {"[registries.\"r.io\"]\ninsecure = \"yes\"\n",
            "f:2: registries.\"r.io\".insecure: must be true or false"},
           {"[registries.\"r.io\"]\nmirror = []\n",
            "f:2: registries.\"r.io\".mirror: unknown key"},
           {"registries = 1\n", "f:1: registries: must be a table"},
           {"[images]\nmax_manifest_bytes = 10\n",
            "f:2: images.max_manifest_bytes: must be in ["},
           {"[images]\nmax_layer_entries = 0\n",
            "f:2: images.max_layer_entries: must be in ["},
           {"[images]\nstall_timeout = \"soon\"\n",
            "f:2: images.stall_timeout: \"soon\" is not a duration"},
           {"[images]\nmax_blob = 1\n", "f:2: images.max_blob: unknown key"},
       }) {
    EXPECT_THAT(
        ParseDaemonConfig(c.toml, "f").status(),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.field)))
        << c.toml;
  }
}

TEST(DaemonConfigTest, FinalizeChecksRegistries) {
  ASSERT_OK_AND_ASSIGN(DaemonConfig config, ParseDaemonConfig(kFull, "f"));
  config.registries["r.io"].mirrors = {"http://ok:5000", "ftp://m"};
  EXPECT_THAT(
      FinalizeDaemonConfig(&config),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("registries.\"r.io\".mirrors[1]: \"ftp://m\"")));

  ASSERT_OK_AND_ASSIGN(config, ParseDaemonConfig(kFull, "f"));
  config.registries["r.io"].ca_file = "ca.pem";
  EXPECT_THAT(FinalizeDaemonConfig(&config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("registries.\"r.io\".ca_file: \"ca.pem\" "
                                 "must be an absolute path")));

  ASSERT_OK_AND_ASSIGN(config, ParseDaemonConfig(kFull, "f"));
  config.registries["r.io"].ca_file = "/nonexistent/ca.pem";
  EXPECT_THAT(FinalizeDaemonConfig(&config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("registries.\"r.io\".ca_file: cannot read")));

  ASSERT_OK_AND_ASSIGN(config, ParseDaemonConfig(kFull, "f"));
  config.pull.http.connect_timeout = absl::ZeroDuration();
  EXPECT_THAT(FinalizeDaemonConfig(&config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("images.connect_timeout: must be positive")));
}

TEST(DaemonConfigTest, LogFormatAndMetricsAddress) {
  ASSERT_OK_AND_ASSIGN(DaemonConfig defaults, ParseDaemonConfig("", "f"));
  EXPECT_EQ(defaults.log_format, sys::LogFormat::kText);
  EXPECT_EQ(defaults.metrics_address, "");

  ASSERT_OK_AND_ASSIGN(
      DaemonConfig config,
      ParseDaemonConfig("log_format = \"json\"\n[metrics]\naddress = "
                        "\"unix:/run/psb/metrics.sock\"\n",
                        "f"));
  EXPECT_EQ(config.log_format, sys::LogFormat::kJson);
  EXPECT_EQ(config.metrics_address, "unix:/run/psb/metrics.sock");
  EXPECT_THAT(DaemonConfigJson(config),
              HasSubstr("\"metrics\":{\"address\":\"unix:/run/psb/"
                        "metrics.sock\"}"));

  EXPECT_THAT(
      ParseDaemonConfig("log_format = \"xml\"\n", "f"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("log_format")));
  EXPECT_THAT(
      ParseDaemonConfig("[metrics]\naddress = \"localhost:9090\"\n", "f"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("metrics.address")));
  EXPECT_THAT(
      ParseDaemonConfig("[metrics]\nport = 9090\n", "f"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("metrics.port")));

  ConfigOverrides flags;
  flags.log_format = "text";
  ASSERT_THAT(ApplyOverrides(flags, &config), IsOk());
  EXPECT_EQ(config.log_format, sys::LogFormat::kText);
  flags.log_format = "yaml";
  EXPECT_THAT(
      ApplyOverrides(flags, &config),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--log-format")));
}

// What scripts/install writes to /etc/podsandbox/config.toml parses and
// checks out, with the defaults it documents.
TEST(DaemonConfigTest, TheInstalledDefaultConfigIsValid) {
  ASSERT_OK_AND_ASSIGN(DaemonConfig config,
                       LoadDaemonConfig("packaging/config.toml"));
  EXPECT_EQ(config.listen, "/run/podsandbox/podsandboxd.sock");
  EXPECT_EQ(config.log_format, sys::LogFormat::kText);
  EXPECT_EQ(config.metrics_address, "");
  EXPECT_EQ(config.controller.root_dir, "/var/lib/podsandbox");
  EXPECT_THAT(FinalizeDaemonConfig(&config), IsOk());
}

TEST(DaemonConfigTest, InfraIsPauseOrNoneGloballyAndPerHandler) {
  ASSERT_OK_AND_ASSIGN(
      DaemonConfig config,
      ParseDaemonConfig("infra = \"none\"\n"
                        "[[runtime_handlers]]\nname = \"b\"\n"
                        "type = \"builtin\"\ninfra = \"none\"\n"
                        "[[runtime_handlers]]\nname = \"r\"\n"
                        "type = \"runc\"\npath = \"/r\"\n"
                        "infra = \"pause\"\n",
                        "f"));
  EXPECT_TRUE(config.controller.infra_none);
  ASSERT_EQ(config.controller.runtime_handlers.size(), 2u);
  EXPECT_EQ(config.controller.runtime_handlers[0].type,
            oci::RuntimeType::kBuiltin);
  EXPECT_TRUE(config.controller.runtime_handlers[0].infra_none);
  EXPECT_FALSE(config.controller.runtime_handlers[1].infra_none);
  ASSERT_OK_AND_ASSIGN(DaemonConfig defaults, ParseDaemonConfig("", "f"));
  EXPECT_FALSE(defaults.controller.infra_none);
  EXPECT_THAT(ParseDaemonConfig("infra = \"nothing\"\n", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("infra: must be \"pause\" or \"none\"")));
}

}  // namespace
}  // namespace podsandbox::cri
