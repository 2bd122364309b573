#include "sys/json_fields.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace podsandbox::sys {
namespace {

using json = nlohmann::json;

// Accepts every SAX event and remembers where parsing failed: the DOM
// parser, run without exceptions, only says that it failed.
class ErrorPosition : public nlohmann::json_sax<json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    position_ = position;
    // what() repeats the position ("[json.exception.parse_error.101] parse
    // error at line 1, column 2: <reason>"); keep the reason only.
    message_ = ex.what();
    if (size_t column = message_.find("column "); column != std::string::npos) {
      if (size_t colon = message_.find(": ", column);
          colon != std::string::npos) {
        message_ = message_.substr(colon + 2);
      }
    }
    return false;
  }

  std::size_t position() const { return position_; }
  const std::string& message() const { return message_; }

 private:
  std::size_t position_ = 0;
  std::string message_ = "invalid JSON";
};

std::string TypeMismatch(absl::string_view where, absl::string_view key,
                         absl::string_view want) {
  return absl::StrCat(where, where.empty() ? "" : ".", key, ": must be ", want);
}

}  // namespace

absl::StatusOr<json> ParseJsonObject(absl::string_view text) {
  json value = json::parse(text.begin(), text.end(), nullptr, false);
  if (value.is_discarded()) {
    ErrorPosition sax;
    json::sax_parse(text.begin(), text.end(), &sax);
    // nlohmann counts the byte after the offending one; report 1-based
    // line and column of the offending byte.
    size_t offset = std::min(
        text.size(), sax.position() > 0 ? sax.position() - 1 : size_t{0});
    size_t line = 1 + std::count(text.begin(), text.begin() + offset, '\n');
    size_t newline =
        offset == 0 ? absl::string_view::npos : text.rfind('\n', offset - 1);
    size_t line_start = newline == absl::string_view::npos ? 0 : newline + 1;
    size_t column = offset - line_start + 1;
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON at line ",
                                                   line, ", column ", column,
                                                   ": ", sax.message()));
  }
  if (!value.is_object()) {
    return absl::InvalidArgumentError("JSON value is not an object");
  }
  return value;
}

absl::Status OptionalString(const json& obj, absl::string_view key,
                            absl::string_view where, std::string* out) {
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_string()) {
    return absl::InvalidArgumentError(TypeMismatch(where, key, "a string"));
  }
  *out = it->get<std::string>();
  return absl::OkStatus();
}

absl::Status OptionalStrings(const json& obj, absl::string_view key,
                             absl::string_view where,
                             std::vector<std::string>* out) {
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_array() ||
      !std::all_of(it->begin(), it->end(),
                   [](const json& v) { return v.is_string(); })) {
    return absl::InvalidArgumentError(
        TypeMismatch(where, key, "an array of strings"));
  }
  out->clear();
  for (const json& v : *it) out->push_back(v.get<std::string>());
  return absl::OkStatus();
}

absl::Status OptionalBool(const json& obj, absl::string_view key,
                          absl::string_view where, bool* out) {
  auto it = obj.find(std::string(key));
  if (it == obj.end()) return absl::OkStatus();
  if (!it->is_boolean()) {
    return absl::InvalidArgumentError(TypeMismatch(where, key, "a boolean"));
  }
  *out = it->get<bool>();
  return absl::OkStatus();
}

absl::Status OptionalInt(const json& obj, absl::string_view key,
                         absl::string_view where, int* out) {
  auto it = obj.find(std::string(key));
  if (it == obj.end()) return absl::OkStatus();
  if (!it->is_number_integer() || it->get<int64_t>() < INT32_MIN ||
      it->get<int64_t>() > INT32_MAX) {
    return absl::InvalidArgumentError(TypeMismatch(where, key, "an integer"));
  }
  *out = it->get<int>();
  return absl::OkStatus();
}

absl::Status OptionalInt64(const json& obj, absl::string_view key,
                           absl::string_view where, int64_t* out) {
  auto it = obj.find(std::string(key));
  if (it == obj.end()) return absl::OkStatus();
  // An unsigned above INT64_MAX wraps, so that a uint64_t written as JSON
  // and read back through a cast keeps its bits.
  if (!it->is_number_integer()) {
    return absl::InvalidArgumentError(TypeMismatch(where, key, "an integer"));
  }
  *out = it->get<int64_t>();
  return absl::OkStatus();
}

absl::Status OptionalStringMap(const json& obj, absl::string_view key,
                               absl::string_view where,
                               std::map<std::string, std::string>* out) {
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_object()) {
    return absl::InvalidArgumentError(TypeMismatch(where, key, "an object"));
  }
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) {
      return absl::InvalidArgumentError(
          TypeMismatch(where, absl::StrCat(key, ".", k), "a string"));
    }
    (*out)[k] = v.get<std::string>();
  }
  return absl::OkStatus();
}

int64_t TimeToUnixNanos(absl::Time t) {
  return t == absl::InfinitePast() ? 0 : absl::ToUnixNanos(t);
}

absl::Time TimeFromUnixNanos(int64_t nanos) {
  return nanos == 0 ? absl::InfinitePast() : absl::FromUnixNanos(nanos);
}

}  // namespace podsandbox::sys
