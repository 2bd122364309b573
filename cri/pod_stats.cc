#include "cri/pod_stats.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace podsandbox::cri {

std::vector<InterfaceUsage> ParseNetDev(absl::string_view text) {
  std::vector<InterfaceUsage> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    size_t colon = line.find(':');
    // The two header lines have '|' and no ':'.
    if (colon == absl::string_view::npos) continue;
    absl::string_view name = absl::StripAsciiWhitespace(line.substr(0, colon));
    if (name.empty() || name == "lo") continue;
    std::vector<absl::string_view> fields = absl::StrSplit(
        line.substr(colon + 1), absl::ByAnyChar(" \t"), absl::SkipEmpty());
    // Receive: bytes packets errs drop fifo frame compressed multicast;
    // transmit: bytes packets errs ...
    InterfaceUsage usage;
    usage.name = std::string(name);
    if (fields.size() < 11 || !absl::SimpleAtoi(fields[0], &usage.rx_bytes) ||
        !absl::SimpleAtoi(fields[2], &usage.rx_errors) ||
        !absl::SimpleAtoi(fields[8], &usage.tx_bytes) ||
        !absl::SimpleAtoi(fields[10], &usage.tx_errors)) {
      continue;
    }
    out.push_back(std::move(usage));
  }
  return out;
}

}  // namespace podsandbox::cri
