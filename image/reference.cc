#include "image/reference.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace podsandbox::image {
namespace {

constexpr size_t kMaxNameLength = 255;  // distribution's NameTotalLengthMax
constexpr size_t kMaxTagLength = 128;

bool IsLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// distribution: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
bool IsValidPathComponent(absl::string_view c) {
  size_t i = 0;
  while (true) {
    size_t run = i;
    while (i < c.size() && IsLowerAlnum(c[i])) ++i;
    if (i == run) return false;  // empty, or a separator not between runs
    if (i == c.size()) return true;
    if (c[i] == '.') {
      ++i;
    } else if (c[i] == '_') {
      i += (i + 1 < c.size() && c[i + 1] == '_') ? 2 : 1;
    } else if (c[i] == '-') {
      while (i < c.size() && c[i] == '-') ++i;
    } else {
      return false;
    }
  }
}

// A DNS label or IPv4 octet run: [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?
bool IsValidHostLabel(absl::string_view l) {
  if (l.empty() || l.front() == '-' || l.back() == '-') return false;
  for (char c : l) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') {
      return false;
    }
  }
  return true;
}

bool IsValidRegistry(absl::string_view host) {
  if (size_t colon = host.find(':'); colon != absl::string_view::npos) {
    absl::string_view port = host.substr(colon + 1);
    if (port.empty() || port.size() > 5) return false;
    for (char c : port) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    }
    host = host.substr(0, colon);
  }
  for (absl::string_view label : absl::StrSplit(host, '.')) {
    if (!IsValidHostLabel(label)) return false;
  }
  return true;
}

bool IsHex64(absl::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

bool IsValidTag(absl::string_view tag) {
  if (tag.empty() || tag.size() > kMaxTagLength) return false;
  if (tag.front() == '.' || tag.front() == '-') return false;
  for (char c : tag) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' &&
        c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

std::string Reference::Name() const {
  return absl::StrCat(registry, "/", repository);
}

std::string Reference::String() const {
  std::string s = Name();
  if (!tag.empty()) absl::StrAppend(&s, ":", tag);
  if (digest) absl::StrAppend(&s, "@", digest->String());
  return s;
}

std::string Reference::ManifestReference() const {
  return digest ? digest->String() : tag;
}

absl::StatusOr<Reference> ParseReference(absl::string_view text,
                                         absl::string_view field) {
  auto error = [&](absl::string_view reason) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
  };
  if (text.empty()) return error("must not be empty");
  // Bound the work before looking closer: name, tag and digest together
  // can never be longer.
  if (text.size() > kMaxNameLength + 1 + kMaxTagLength + 1 + 7 + 64) {
    return error("too long");
  }
  Reference ref;
  absl::string_view name = text;
  if (size_t at = name.find('@'); at != absl::string_view::npos) {
    absl::StatusOr<Digest> d = Digest::Parse(name.substr(at + 1), field);
    if (!d.ok()) return d.status();
    ref.digest = *std::move(d);
    name = name.substr(0, at);
  }
  // A ':' after the last '/' starts the tag; one before it is a port.
  size_t colon = name.rfind(':');
  size_t slash = name.rfind('/');
  if (colon != absl::string_view::npos &&
      (slash == absl::string_view::npos || colon > slash)) {
    ref.tag = std::string(name.substr(colon + 1));
    name = name.substr(0, colon);
    if (!IsValidTag(ref.tag)) {
      return error(absl::StrCat(
          "invalid tag \"", ref.tag,
          "\" (1-128 of [A-Za-z0-9_.-], not starting with '.' or '-')"));
    }
  }
  if (name.empty()) return error("repository name must not be empty");

  absl::string_view path = name;
  slash = name.find('/');
  if (slash != absl::string_view::npos) {
    absl::string_view first = name.substr(0, slash);
    if (first.find_first_of(".:") != absl::string_view::npos ||
        first == "localhost") {
      ref.registry = std::string(first);
      path = name.substr(slash + 1);
    }
  }
  if (ref.registry.empty()) {
    // docker refuses a bare 64-hex name: it would read as an image id.
    if (IsHex64(name) && ref.tag.empty() && !ref.digest) {
      return error("a 64-hex-digit name is an image id, not a reference");
    }
    ref.registry = "docker.io";
  } else if (!IsValidRegistry(ref.registry)) {
    return error(absl::StrCat("invalid registry host \"", ref.registry, "\""));
  }
  if (ref.registry == "index.docker.io") ref.registry = "docker.io";
  if (path.empty()) return error("repository name must not be empty");
  for (absl::string_view c : absl::StrSplit(path, '/')) {
    if (IsValidPathComponent(c)) continue;
    if (absl::AsciiStrToLower(c) != c &&
        IsValidPathComponent(absl::AsciiStrToLower(c))) {
      return error(
          absl::StrCat("repository name must be lowercase: \"", path, "\""));
    }
    return error(absl::StrCat("invalid repository path component \"", c,
                              "\" (lowercase [a-z0-9] runs separated by "
                              "'.', '_', '__' or '-')"));
  }
  ref.repository = std::string(path);
  if (ref.registry == "docker.io" &&
      ref.repository.find('/') == std::string::npos) {
    ref.repository = absl::StrCat("library/", ref.repository);
  }
  if (ref.Name().size() > kMaxNameLength) {
    return error(absl::StrCat("repository name longer than ", kMaxNameLength,
                              " characters"));
  }
  if (ref.tag.empty() && !ref.digest) ref.tag = "latest";
  return ref;
}

}  // namespace podsandbox::image
