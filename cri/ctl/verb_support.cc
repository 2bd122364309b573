#include "cri/ctl/verb_support.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"

namespace podsandbox::cri::ctl {

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

absl::Status ReadJsonMessage(const std::string& path,
                             google::protobuf::Message& message) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("open ", path));
  std::stringstream text;
  text << in.rdbuf();
  if (auto parsed =
          google::protobuf::util::JsonStringToMessage(text.str(), &message);
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
