// Reading fields of a parsed nlohmann::json without exceptions: nlohmann's
// get<T>() throws on a type mismatch, so every read checks the type first
// and a mismatch becomes an InvalidArgument naming the field. Also the
// name tables and time encoding that the JSON records (sandbox/record,
// container/record) share. Stateless; every function is thread-safe.
#ifndef PODSANDBOX_SYS_JSON_FIELDS_H_
#define PODSANDBOX_SYS_JSON_FIELDS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace podsandbox::sys {

// Parses `text` as a JSON object. InvalidArgument for bad JSON, with the
// line, column and parser message; or when the value is not an object.
absl::StatusOr<nlohmann::json> ParseJsonObject(absl::string_view text);

// Reads obj[key] into *out when present. Missing leaves *out alone and is
// OK, and so does null for a string, a list or a map (image configs write
// "Cmd": null, "Labels": null); a value of another type is InvalidArgument
// "<where>.<key>: ...".
absl::Status OptionalString(const nlohmann::json& obj, absl::string_view key,
                            absl::string_view where, std::string* out);
absl::Status OptionalStrings(const nlohmann::json& obj, absl::string_view key,
                             absl::string_view where,
                             std::vector<std::string>* out);
absl::Status OptionalBool(const nlohmann::json& obj, absl::string_view key,
                          absl::string_view where, bool* out);
absl::Status OptionalInt(const nlohmann::json& obj, absl::string_view key,
                         absl::string_view where, int* out);
absl::Status OptionalInt64(const nlohmann::json& obj, absl::string_view key,
                           absl::string_view where, int64_t* out);
// An object whose every value is a string; entries are added to *out.
absl::Status OptionalStringMap(const nlohmann::json& obj, absl::string_view key,
                               absl::string_view where,
                               std::map<std::string, std::string>* out);

// A time as JSON records keep it: Unix nanoseconds, with 0 for
// absl::InfinitePast() ("never").
int64_t TimeToUnixNanos(absl::Time t);
absl::Time TimeFromUnixNanos(int64_t nanos);

// An enum's names, as a constexpr table of {value, name} pairs.
template <typename Enum>
using EnumNames = std::pair<Enum, absl::string_view>;

// The name of `value` in `names`; "?" for a value the table lacks (a cast
// from a bad integer: the tables list every enumerator).
template <typename Enum, size_t N>
absl::string_view EnumName(const EnumNames<Enum> (&names)[N], Enum value) {
  for (const auto& [v, text] : names) {
    if (v == value) return text;
  }
  return "?";
}

// Sets *out to the value named `name` in `names`. InvalidArgument
// "<field>: unknown value "<name>"" when no entry has that name.
template <typename Enum, size_t N>
absl::Status EnumFromName(const EnumNames<Enum> (&names)[N],
                          absl::string_view name, absl::string_view field,
                          Enum* out) {
  for (const auto& [value, text] : names) {
    if (text == name) {
      *out = value;
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": unknown value \"", name, "\""));
}

}  // namespace podsandbox::sys

#endif  // PODSANDBOX_SYS_JSON_FIELDS_H_
