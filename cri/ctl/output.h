// How podsandboxctl prints what a runtime answered: `-o json|yaml|table`,
// as crictl spells it. JSON and YAML are the protobuf JSON of the CRI
// messages (lowerCamelCase names, zero values included, as crictl prints
// them); YAML is written by yaml-cpp from the same tree, so both formats
// always hold the same fields. Tables are each verb's own (pod_verbs.h,
// image_verbs.h).
//
// Thread-safety: pure functions.
#ifndef PODSANDBOX_CRI_CTL_OUTPUT_H_
#define PODSANDBOX_CRI_CTL_OUTPUT_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/map.h"
#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"

namespace podsandbox::cri::ctl {

enum class OutputFormat { kJson, kYaml, kTable };

// The spellings `-o` accepts, for CLI11's IsMember.
inline constexpr const char* kJson = "json";
inline constexpr const char* kYaml = "yaml";
inline constexpr const char* kTable = "table";

// "json", "yaml" or "table" (already checked by the parser); anything else
// is table.
OutputFormat ParseOutputFormat(absl::string_view name);

// The message as protobuf JSON, parsed. Zero values are printed (so
// SANDBOX_READY and mode POD, both 0, show).
nlohmann::json ProtoToJson(const google::protobuf::Message& message);

// A verbose-info value: parsed when it is JSON text, else the string.
nlohmann::json InfoValue(const std::string& text);

// What the inspect verbs print in JSON or YAML: {"status": <status>} plus
// each verbose-info entry as InfoValue.
nlohmann::json InspectJson(
    const google::protobuf::Message& status,
    const google::protobuf::Map<std::string, std::string>& info);

// The tree as YAML, ending in a newline. Strings a YAML reader would take
// for another type ("123", "true", "", "null") are quoted, so the YAML
// reads back as the JSON does.
std::string ToYaml(const nlohmann::json& value);

// Writes `value` as JSON (indented by 2) or YAML; kTable is the caller's
// to handle and writes JSON here.
void WriteStructured(const nlohmann::json& value, OutputFormat format,
                     std::ostream& out);

// crictl's sizes (go-units HumanSize): decimal units, four significant
// digits: 1240000 -> "1.24MB".
std::string HumanSize(uint64_t bytes);

// An id as tables show it: without "sha256:" and cut to 13 characters
// unless `no_trunc`.
std::string ShortId(absl::string_view id, bool no_trunc);

// A creation time as tables show it: "12 seconds ago", "3 minutes ago",
// "2 hours ago".
std::string Ago(int64_t created_at_ns);

}  // namespace podsandbox::cri::ctl

#endif  // PODSANDBOX_CRI_CTL_OUTPUT_H_
