#include "cri/ctl/verb_support.h"

#include <cstdint>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "yaml-cpp/yaml.h"

namespace podsandbox::cri::ctl {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using json = nlohmann::json;

// A YAML null, or a plain (unquoted) scalar that YAML reads as null.
bool IsYamlNull(const YAML::Node& node) {
  if (node.IsNull()) return true;
  // Scalar() of a map or list is "", which is no null.
  if (!node.IsScalar()) return false;
  if (node.Tag() != "?") return false;  // quoted: a string
  const std::string& s = node.Scalar();
  return s.empty() || s == "~" || absl::EqualsIgnoreCase(s, "null");
}

// The field of `message` a YAML key names: its proto name (crictl's YAML
// files use those) or its JSON name; null when neither.
const FieldDescriptor* FieldNamed(const Descriptor& message,
                                  const std::string& key) {
  if (const FieldDescriptor* f = message.FindFieldByName(key)) return f;
  return message.FindFieldByCamelcaseName(key);
}

json ToJson(const YAML::Node& node, const Descriptor* message);

// A scalar or list for a field of `field`'s type (repeats aside). YAML's
// scalars have no type of their own until a schema gives one: the field's.
// Numbers go to protobuf's JSON parser as strings, which it takes for every
// numeric type.
json FieldValue(const YAML::Node& node, const FieldDescriptor& field) {
  if (IsYamlNull(node)) return nullptr;
  if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    return ToJson(node, field.message_type());
  }
  if (!node.IsScalar()) return ToJson(node, nullptr);
  const std::string& s = node.Scalar();
  bool plain = node.Tag() == "?";
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_BOOL:
      if (plain && absl::EqualsIgnoreCase(s, "true")) return true;
      if (plain && absl::EqualsIgnoreCase(s, "false")) return false;
      return s;  // protobuf refuses it, naming the field
    case FieldDescriptor::CPPTYPE_STRING:
      // Protobuf JSON wants bytes in base64; a YAML file (crictl's env
      // values, KeyValue.value here) holds the text itself.
      if (field.type() == FieldDescriptor::TYPE_BYTES) {
        return absl::Base64Escape(s);
      }
      return s;
    case FieldDescriptor::CPPTYPE_ENUM: {
      int64_t number;
      if (plain && absl::SimpleAtoi(s, &number)) return number;
      return s;
    }
    default:
      return s;
  }
}

// `node` as JSON for `message` (null: no schema, as for an unknown key,
// which protobuf's parser then refuses by name).
json ToJson(const YAML::Node& node, const Descriptor* message) {
  if (node.IsMap()) {
    json out = json::object();
    for (const auto& entry : node) {
      std::string key = entry.first.Scalar();
      const FieldDescriptor* field =
          message != nullptr ? FieldNamed(*message, key) : nullptr;
      if (field == nullptr) {
        out[key] = ToJson(entry.second, nullptr);
      } else if (field->is_map()) {
        const FieldDescriptor* value = field->message_type()->map_value();
        json map = json::object();
        if (entry.second.IsMap()) {
          for (const auto& kv : entry.second) {
            map[kv.first.Scalar()] = FieldValue(kv.second, *value);
          }
          out[key] = std::move(map);
        } else {
          out[key] = IsYamlNull(entry.second) ? json(nullptr)
                                              : ToJson(entry.second, nullptr);
        }
      } else if (field->is_repeated() && entry.second.IsSequence()) {
        json list = json::array();
        for (const YAML::Node& item : entry.second) {
          list.push_back(FieldValue(item, *field));
        }
        out[key] = std::move(list);
      } else {
        out[key] = FieldValue(entry.second, *field);
      }
    }
    return out;
  }
  if (node.IsSequence()) {
    json out = json::array();
    for (const YAML::Node& item : node) out.push_back(ToJson(item, nullptr));
    return out;
  }
  if (IsYamlNull(node)) return nullptr;
  return node.Scalar();
}

// Parses YAML text. yaml-cpp has no non-throwing parser: its exception is
// caught here, the one place, and becomes a Status.
absl::StatusOr<YAML::Node> ParseYaml(const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("YAML at line ", e.mark.line + 1, ", column ",
                     e.mark.column + 1, ": ", e.msg));
  }
}

}  // namespace

absl::StatusOr<std::string> ResolveIdPrefix(const std::vector<std::string>& ids,
                                            const std::string& id,
                                            absl::string_view kind) {
  std::string found;
  for (const std::string& candidate : ids) {
    if (candidate == id) return id;
    if (!absl::StartsWith(candidate, id)) continue;
    if (!found.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(kind, " id prefix ", id, " is ambiguous"));
    }
    found = candidate;
  }
  return found.empty() ? id : found;
}

absl::Status ReadConfigMessage(const std::string& path,
                               google::protobuf::Message& message) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("open ", path));
  std::stringstream stream;
  stream << in.rdbuf();
  std::string text = stream.str();
  if (!absl::StartsWith(absl::StripLeadingAsciiWhitespace(text), "{")) {
    absl::StatusOr<YAML::Node> yaml = ParseYaml(text);
    if (!yaml.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("parse ", path, ": ", yaml.status().message()));
    }
    if (!yaml->IsMap()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "parse ", path, ": neither a JSON object nor a YAML mapping"));
    }
    text = ToJson(*yaml, message.GetDescriptor()).dump();
  }
  if (auto parsed = google::protobuf::util::JsonStringToMessage(text, &message);
      !parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("parse ", path, ": ", std::string(parsed.message())));
  }
  return absl::OkStatus();
}

void AddLabels(const std::vector<std::string>& labels,
               google::protobuf::Map<std::string, std::string>* selector) {
  for (const std::string& label : labels) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(label, absl::MaxSplits('=', 1));
    (*selector)[kv.first] = kv.second;
  }
}

}  // namespace podsandbox::cri::ctl
