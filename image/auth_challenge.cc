#include "image/auth_challenge.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace podsandbox::image {
namespace {

bool IsTokenChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("!#$%&'*+-.^_`|~/:").find(c) !=
             absl::string_view::npos;
}

void SkipSpace(absl::string_view text, size_t* i) {
  while (*i < text.size() && (text[*i] == ' ' || text[*i] == '\t')) ++*i;
}

absl::string_view Token(absl::string_view text, size_t* i) {
  size_t start = *i;
  while (*i < text.size() && IsTokenChar(text[*i])) ++*i;
  return text.substr(start, *i - start);
}

}  // namespace

absl::StatusOr<AuthChallenge> ParseAuthChallenge(absl::string_view header) {
  auto error = [](absl::string_view reason) {
    return absl::InvalidArgumentError(
        absl::StrCat("WWW-Authenticate: ", reason));
  };
  AuthChallenge c;
  size_t i = 0;
  SkipSpace(header, &i);
  c.scheme = absl::AsciiStrToLower(Token(header, &i));
  if (c.scheme.empty()) return error("no auth scheme");
  while (true) {
    SkipSpace(header, &i);
    if (i == header.size()) return c;
    size_t key_start = i;
    std::string key = absl::AsciiStrToLower(Token(header, &i));
    SkipSpace(header, &i);
    if (key.empty() || i == header.size() || header[i] != '=') {
      // "Basic realm=x, Bearer ..." : a second challenge starts; keep the
      // first. Anything else is garbage.
      if (!key.empty() && !c.params.empty() && header[key_start - 1] == ' ') {
        return c;
      }
      return error(absl::StrCat("expected key=value at offset ", key_start));
    }
    ++i;
    SkipSpace(header, &i);
    std::string value;
    if (i < header.size() && header[i] == '"') {
      ++i;
      while (i < header.size() && header[i] != '"') {
        if (header[i] == '\\' && i + 1 < header.size()) ++i;  // quoted-pair
        value.push_back(header[i++]);
      }
      if (i == header.size()) return error("unterminated quoted string");
      ++i;
    } else {
      value = std::string(Token(header, &i));
    }
    c.params[key] = std::move(value);
    SkipSpace(header, &i);
    if (i < header.size()) {
      if (header[i] != ',') {
        return error(absl::StrCat("expected ',' at offset ", i));
      }
      ++i;
    }
  }
}

}  // namespace podsandbox::image
