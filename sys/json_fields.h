// Reading fields of a parsed nlohmann::json without exceptions: nlohmann's
// get<T>() throws on a type mismatch, so every read checks the type first
// and a mismatch becomes an InvalidArgument naming the field.
#ifndef PODSANDBOX_SYS_JSON_FIELDS_H_
#define PODSANDBOX_SYS_JSON_FIELDS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace podsandbox::sys {

// Parses `text` as a JSON object. InvalidArgument for bad JSON, with the
// line, column and parser message; or when the value is not an object.
absl::StatusOr<nlohmann::json> ParseJsonObject(absl::string_view text);

// Reads obj[key] into *out when present. Missing leaves *out alone and is
// OK; a value of another type is InvalidArgument "<where>.<key>: ...".
absl::Status OptionalString(const nlohmann::json& obj, absl::string_view key,
                            absl::string_view where, std::string* out);
absl::Status OptionalStrings(const nlohmann::json& obj, absl::string_view key,
                             absl::string_view where,
                             std::vector<std::string>* out);
absl::Status OptionalBool(const nlohmann::json& obj, absl::string_view key,
                          absl::string_view where, bool* out);
absl::Status OptionalInt(const nlohmann::json& obj, absl::string_view key,
                         absl::string_view where, int* out);

}  // namespace podsandbox::sys

#endif  // PODSANDBOX_SYS_JSON_FIELDS_H_
