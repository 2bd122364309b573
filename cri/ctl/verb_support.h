// What podsandboxctl's pod and container verbs do alike with their
// arguments and the lists they get back: ids given by a unique prefix (as
// crictl takes them), config files in YAML or protobuf JSON, "key=value"
// label selectors, and lists shown newest first.
//
// Thread-safety: pure functions (ReadConfigMessage reads a file).
#ifndef PODSANDBOX_CRI_CTL_VERB_SUPPORT_H_
#define PODSANDBOX_CRI_CTL_VERB_SUPPORT_H_

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/map.h"
#include "google/protobuf/message.h"

namespace podsandbox::cri::ctl {

// The id among `ids` that equals `id`, else the only one that starts with
// it; `id` itself when none does (the runtime then answers NotFound).
// InvalidArgument naming `kind` ("pod", "container") when several start
// with it.
absl::StatusOr<std::string> ResolveIdPrefix(const std::vector<std::string>& ids,
                                            const std::string& id,
                                            absl::string_view kind);

// Reads the config file at `path` into `message`, as crictl reads its pod
// and container configs: protobuf JSON when the text starts with '{', else
// YAML whose keys are the fields' names (log_directory) or JSON names
// (logDirectory). A YAML scalar is read as the field's type wants it
// ("1" is a string for a label, a number for attempt; quoted scalars are
// always strings). NotFound if it cannot be opened, InvalidArgument
// (naming the file) if it is not that message's JSON or YAML.
absl::Status ReadConfigMessage(const std::string& path,
                               google::protobuf::Message& message);

// Adds each "key=value" of `labels` to `selector` (a missing "=" gives an
// empty value; cli.h checks the spelling).
void AddLabels(const std::vector<std::string>& labels,
               google::protobuf::Map<std::string, std::string>* selector);

// Orders `items` (pods or containers: anything with created_at()) newest
// first, equal times in their listed order, and keeps the newest `last`
// when `last` > 0.
template <typename Item>
void NewestFirst(std::vector<Item>& items, int last) {
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) {
                     return a.created_at() > b.created_at();
                   });
  if (last > 0 && items.size() > static_cast<size_t>(last)) {
    items.resize(last);
  }
}

}  // namespace podsandbox::cri::ctl

#endif  // PODSANDBOX_CRI_CTL_VERB_SUPPORT_H_
