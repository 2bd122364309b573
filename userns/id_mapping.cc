#include "userns/id_mapping.h"

#include <unistd.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace podsandbox::userns {
namespace {

// The kernel refuses a range whose end wraps past 2^32-1, and id 2^32-1
// itself ((u32)-1 is "no id"): first + length must not exceed 2^32-1.
constexpr uint64_t kIdLimit = 0xFFFFFFFFull;

struct Range {
  uint64_t first;
  uint64_t end;  // one past the last id
  size_t index;
};

std::string FieldName(absl::string_view prefix, absl::string_view list,
                      size_t index) {
  return absl::StrCat(prefix, ".", list, "[", index, "]");
}

absl::Status Invalid(absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

// Finds the first pair of overlapping ranges, by sorting on start.
absl::Status CheckNoOverlap(std::vector<Range> ranges, absl::string_view side,
                            absl::string_view prefix, absl::string_view list) {
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.first < b.first; });
  for (size_t i = 1; i < ranges.size(); ++i) {
    const Range& prev = ranges[i - 1];
    const Range& cur = ranges[i];
    if (cur.first < prev.end) {
      size_t later = std::max(prev.index, cur.index);
      size_t earlier = std::min(prev.index, cur.index);
      return Invalid(FieldName(prefix, list, later),
                     absl::StrCat(side, " range overlaps that of ", list, "[",
                                  earlier, "]"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateList(const std::vector<IdMapping>& list,
                          absl::string_view list_name,
                          const MappingPolicy& policy,
                          absl::string_view prefix) {
  if (list.size() > kMaxMapLines) {
    return Invalid(
        absl::StrCat(prefix, ".", list_name),
        absl::StrCat("has ", list.size(), " ranges; the kernel allows at most ",
                     kMaxMapLines));
  }
  std::vector<Range> container_ranges;
  std::vector<Range> host_ranges;
  for (size_t i = 0; i < list.size(); ++i) {
    const IdMapping& m = list[i];
    if (m.length == 0) {
      return Invalid(absl::StrCat(FieldName(prefix, list_name, i), ".length"),
                     "must be greater than 0");
    }
    uint64_t container_end = uint64_t{m.container_id} + m.length;
    uint64_t host_end = uint64_t{m.host_id} + m.length;
    if (container_end > kIdLimit) {
      return Invalid(FieldName(prefix, list_name, i),
                     absl::StrCat("container range ", m.container_id, "+",
                                  m.length, " runs past 2^32-1"));
    }
    if (host_end > kIdLimit) {
      return Invalid(FieldName(prefix, list_name, i),
                     absl::StrCat("host range ", m.host_id, "+", m.length,
                                  " runs past 2^32-1"));
    }
    if (m.host_id == 0 && !policy.allow_host_root) {
      return Invalid(FieldName(prefix, list_name, i),
                     "host range contains host id 0 (root), which the user "
                     "namespace policy forbids");
    }
    container_ranges.push_back({m.container_id, container_end, i});
    host_ranges.push_back({m.host_id, host_end, i});
  }
  if (absl::Status s =
          CheckNoOverlap(container_ranges, "container", prefix, list_name);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckNoOverlap(host_ranges, "host", prefix, list_name);
      !s.ok()) {
    return s;
  }
  // 340 lines of ten-digit ids are ~11 KB: the line limit alone does not
  // keep the text within the one write the kernel takes.
  if (size_t bytes = FormatMapFile(list).size(); bytes > MaxMapTextBytes()) {
    return Invalid(absl::StrCat(prefix, ".", list_name),
                   absl::StrCat("is ", bytes,
                                " bytes as map file text; the kernel takes at "
                                "most ",
                                MaxMapTextBytes(), " in one write"));
  }
  if (!ToHostId(list, 0).has_value()) {
    return Invalid(absl::StrCat(prefix, ".", list_name),
                   "must map container id 0 (the pod's root)");
  }
  return absl::OkStatus();
}

}  // namespace

size_t MaxMapTextBytes() {
  // Fewer than PAGE_SIZE bytes: 4095 on x86-64, more with 16K or 64K pages.
  static const size_t limit = static_cast<size_t>(::sysconf(_SC_PAGESIZE)) - 1;
  return limit;
}

absl::Status ValidateMappings(const IdMappings& mappings,
                              const MappingPolicy& policy,
                              absl::string_view field_prefix) {
  if (mappings.uids.empty() && mappings.gids.empty()) {
    return Invalid(absl::StrCat(field_prefix, ".uids"),
                   "must not be empty for a pod user namespace");
  }
  if (mappings.gids.empty()) {
    return Invalid(absl::StrCat(field_prefix, ".gids"),
                   "must not be empty when uids are set");
  }
  if (mappings.uids.empty()) {
    return Invalid(absl::StrCat(field_prefix, ".uids"),
                   "must not be empty when gids are set");
  }
  if (absl::Status s =
          ValidateList(mappings.uids, "uids", policy, field_prefix);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          ValidateList(mappings.gids, "gids", policy, field_prefix);
      !s.ok()) {
    return s;
  }
  if (!(mappings.gids == mappings.uids) &&
      !policy.allow_different_uid_gid_maps) {
    return Invalid(absl::StrCat(field_prefix, ".gids"),
                   "must equal uids; the user namespace policy does not "
                   "allow different uid and gid maps");
  }
  return absl::OkStatus();
}

std::string FormatMapFile(const std::vector<IdMapping>& mappings) {
  std::string text;
  for (const IdMapping& m : mappings) {
    absl::StrAppend(&text, m.container_id, " ", m.host_id, " ", m.length, "\n");
  }
  return text;
}

absl::StatusOr<std::vector<IdMapping>> ParseMapFile(absl::string_view text) {
  std::vector<IdMapping> mappings;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    IdMapping m;
    if (fields.size() != 3 || !absl::SimpleAtoi(fields[0], &m.container_id) ||
        !absl::SimpleAtoi(fields[1], &m.host_id) ||
        !absl::SimpleAtoi(fields[2], &m.length)) {
      return absl::InvalidArgumentError(
          absl::StrCat("map line \"", absl::StripAsciiWhitespace(line),
                       "\": want three unsigned 32-bit numbers"));
    }
    mappings.push_back(m);
  }
  return mappings;
}

std::optional<uint32_t> ToHostId(const std::vector<IdMapping>& mappings,
                                 uint32_t container_id) {
  for (const IdMapping& m : mappings) {
    if (container_id >= m.container_id &&
        uint64_t{container_id} < uint64_t{m.container_id} + m.length) {
      return m.host_id + (container_id - m.container_id);
    }
  }
  return std::nullopt;
}

std::string DescribeMappings(const std::vector<IdMapping>& mappings) {
  return absl::StrJoin(
      mappings, "; ", [](std::string* out, const IdMapping& m) {
        absl::StrAppend(out, m.container_id, " ", m.host_id, " ", m.length);
      });
}

}  // namespace podsandbox::userns
