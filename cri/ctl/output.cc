#include "cri/ctl/output.h"

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "yaml-cpp/yaml.h"

namespace podsandbox::cri::ctl {
namespace {

using json = nlohmann::json;

// What YAML 1.1 (yaml-cpp's reading) takes for a bool, a null or a number
// when written plain.
bool ReadsAsNonString(const std::string& s) {
  if (s.empty()) return true;
  const std::string lower = absl::AsciiStrToLower(s);
  for (const char* word :
       {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"}) {
    if (lower == word) return true;
  }
  double number;
  return absl::SimpleAtod(s, &number);
}

void Emit(YAML::Emitter& y, const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      y << YAML::BeginMap;
      for (const auto& [key, item] : value.items()) {
        y << YAML::Key << key << YAML::Value;
        Emit(y, item);
      }
      y << YAML::EndMap;
      return;
    case json::value_t::array:
      y << YAML::BeginSeq;
      for (const json& item : value) Emit(y, item);
      y << YAML::EndSeq;
      return;
    case json::value_t::string: {
      const std::string& s = value.get_ref<const std::string&>();
      if (ReadsAsNonString(s)) y << YAML::DoubleQuoted;
      y << s;
      return;
    }
    case json::value_t::boolean:
      y << value.get<bool>();
      return;
    case json::value_t::number_integer:
      y << value.get<int64_t>();
      return;
    case json::value_t::number_unsigned:
      y << value.get<uint64_t>();
      return;
    case json::value_t::number_float:
      y << value.get<double>();
      return;
    default:  // null, and the binary and discarded kinds JSON text never has
      y << YAML::Null;
      return;
  }
}

}  // namespace

OutputFormat ParseOutputFormat(absl::string_view name) {
  if (name == kJson) return OutputFormat::kJson;
  if (name == kYaml) return OutputFormat::kYaml;
  return OutputFormat::kTable;
}

json ProtoToJson(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  // The printer fails only on messages with unresolvable Any fields, which
  // the CRI has none of.
  if (!google::protobuf::util::MessageToJsonString(message, &text, options)
           .ok()) {
    return json::object();
  }
  return json::parse(text, nullptr, /*allow_exceptions=*/false);
}

json InfoValue(const std::string& text) {
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return text;
  return parsed;
}

json InspectJson(const google::protobuf::Message& status,
                 const google::protobuf::Map<std::string, std::string>& info) {
  json inspect = json::object();
  inspect["status"] = ProtoToJson(status);
  for (const auto& [key, value] : info) inspect[key] = InfoValue(value);
  return inspect;
}

std::string ToYaml(const json& value) {
  YAML::Emitter y;
  Emit(y, value);
  return std::string(y.c_str()) + "\n";
}

void WriteStructured(const json& value, OutputFormat format,
                     std::ostream& out) {
  if (format == OutputFormat::kYaml) {
    out << ToYaml(value);
    return;
  }
  out << value.dump(2) << "\n";
}

std::string HumanSize(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B",  "kB", "MB", "GB", "TB",
                                           "PB", "EB", "ZB", "YB"};
  double size = static_cast<double>(bytes);
  size_t unit = 0;
  while (size >= 1000 && unit + 1 < sizeof(kUnits) / sizeof(kUnits[0])) {
    size /= 1000;
    ++unit;
  }
  return absl::StrFormat("%.4g%s", size, kUnits[unit]);
}

std::string ShortId(absl::string_view id, bool no_trunc) {
  absl::ConsumePrefix(&id, "sha256:");
  if (no_trunc) return std::string(id);
  return std::string(id.substr(0, 13));
}

std::string Ago(int64_t created_at_ns) {
  const absl::Duration age = absl::Now() - absl::FromUnixNanos(created_at_ns);
  if (age < absl::Minutes(1)) {
    return absl::StrCat(absl::ToInt64Seconds(age), " seconds ago");
  }
  if (age < absl::Hours(1)) {
    return absl::StrCat(absl::ToInt64Minutes(age), " minutes ago");
  }
  return absl::StrCat(absl::ToInt64Hours(age), " hours ago");
}

}  // namespace podsandbox::cri::ctl
