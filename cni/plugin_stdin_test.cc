#include "cni/plugin_stdin.h"

#include "gtest/gtest.h"

namespace podsandbox::cni {
namespace {

using json = nlohmann::json;

// Parses known-good test JSON (no exceptions: discarded on error).
nlohmann::json J(const std::string& text) {
  return nlohmann::json::parse(text, nullptr, false);
}

PluginConfig Plugin(const char* text) {
  json raw = J(text);
  return PluginConfig{raw["type"].get<std::string>(), raw};
}

TEST(PluginStdinTest, InjectsNameVersionAndPrevResult) {
  PluginConfig plugin = Plugin(R"({"type":"bridge","name":"stale",
      "cniVersion":"0.3.1","bridge":"cni0","future":{"x":[1,2]}})");
  json prev = {{"cniVersion", "1.0.0"}, {"ips", json::array()}};
  json got = J(BuildPluginStdin("net", "1.0.0", plugin, prev, json::object()));
  EXPECT_EQ(got, J(R"({"type":"bridge","name":"net",
      "cniVersion":"1.0.0","bridge":"cni0","future":{"x":[1,2]},
      "prevResult":{"cniVersion":"1.0.0","ips":[]}})"));
}

TEST(PluginStdinTest, FirstPluginGetsNoPrevResult) {
  PluginConfig plugin =
      Plugin(R"({"type":"bridge","prevResult":{"from":"file"}})");
  json got = J(BuildPluginStdin("net", "1.0.0", plugin, json(), json()));
  EXPECT_FALSE(got.contains("prevResult"));
}

TEST(PluginStdinTest, RuntimeConfigHoldsOnlyDeclaredCapabilities) {
  json caps = J(R"({"portMappings":[{"hostPort":8080,
      "containerPort":80,"protocol":"tcp"}],"dns":{"servers":["1.1.1.1"]}})");
  PluginConfig portmap = Plugin(R"({"type":"portmap",
      "capabilities":{"portMappings":true,"bandwidth":true,"dns":false}})");
  json got = J(BuildPluginStdin("net", "1.0.0", portmap, json(), caps));
  EXPECT_FALSE(got.contains("capabilities"));
  EXPECT_EQ(got["runtimeConfig"], J(R"({"portMappings":[{"hostPort":8080,
                "containerPort":80,"protocol":"tcp"}]})"));

  PluginConfig bridge = Plugin(R"({"type":"bridge"})");
  got = J(BuildPluginStdin("net", "1.0.0", bridge, json(), caps));
  EXPECT_FALSE(got.contains("runtimeConfig"));
}

TEST(PluginStdinTest, RuntimeConfigFromTheFileSurvivesWithoutArguments) {
  PluginConfig plugin = Plugin(R"({"type":"x","capabilities":{"mac":true},
      "runtimeConfig":{"mac":"00:11:22:33:44:55"}})");
  json got =
      J(BuildPluginStdin("net", "1.0.0", plugin, json(), json::object()));
  EXPECT_EQ(got["runtimeConfig"]["mac"], "00:11:22:33:44:55");
}

}  // namespace
}  // namespace podsandbox::cni
