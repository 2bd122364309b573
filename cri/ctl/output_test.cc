#include "cri/ctl/output.h"

#include <sstream>
#include <string>

#include "cri/api.pb.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "yaml-cpp/yaml.h"

namespace podsandbox::cri::ctl {
namespace {

using json = nlohmann::json;

TEST(OutputTest, ProtoJsonKeepsZeroValuesAndCamelCase) {
  ::runtime::v1::PodSandbox pod;
  pod.set_id("abc");
  pod.set_runtime_handler("runc");
  const json j = ProtoToJson(pod);
  EXPECT_EQ(j["id"], "abc");
  EXPECT_EQ(j["runtimeHandler"], "runc");
  EXPECT_EQ(j["state"], "SANDBOX_READY");  // 0, still printed
}

TEST(OutputTest, YamlQuotesStringsThatReadAsOtherTypes) {
  const json j = {{"n", "123"}, {"b", "true"}, {"e", ""},      {"s", "plain"},
                  {"i", 7},     {"t", true},   {"l", {1, "x"}}};
  const std::string yaml = ToYaml(j);
  EXPECT_NE(yaml.find("n: \"123\""), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("b: \"true\""), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("e: \"\""), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("s: plain"), std::string::npos) << yaml;
  // And it reads back as the same types: a YAML reader agrees.
  const YAML::Node node = YAML::Load(yaml);
  EXPECT_EQ(node["n"].Tag(), "!");  // quoted: a string
  EXPECT_EQ(node["i"].as<int>(), 7);
  EXPECT_TRUE(node["t"].as<bool>());
  EXPECT_EQ(node["l"][1].as<std::string>(), "x");
}

TEST(OutputTest, WriteStructuredJsonAndYaml) {
  std::ostringstream as_json, as_yaml;
  WriteStructured({{"a", 1}}, OutputFormat::kJson, as_json);
  WriteStructured({{"a", 1}}, OutputFormat::kYaml, as_yaml);
  EXPECT_EQ(as_json.str(), "{\n  \"a\": 1\n}\n");
  EXPECT_EQ(as_yaml.str(), "a: 1\n");
}

TEST(OutputTest, HumanSizeAsCrictl) {
  EXPECT_EQ(HumanSize(0), "0B");
  EXPECT_EQ(HumanSize(999), "999B");
  EXPECT_EQ(HumanSize(1240000), "1.24MB");
  EXPECT_EQ(HumanSize(4190000000), "4.19GB");
}

TEST(OutputTest, ShortIdDropsAlgorithmAndTruncates) {
  EXPECT_EQ(ShortId("sha256:0123456789abcdef", false), "0123456789abc");
  EXPECT_EQ(ShortId("sha256:0123456789abcdef", true), "0123456789abcdef");
  EXPECT_EQ(ShortId("feed", false), "feed");
}

TEST(OutputTest, InfoValueParsesJsonElseKeepsText) {
  EXPECT_EQ(InfoValue(R"({"pid": 4})")["pid"], 4);
  EXPECT_EQ(InfoValue("not json"), "not json");
}

}  // namespace
}  // namespace podsandbox::cri::ctl
