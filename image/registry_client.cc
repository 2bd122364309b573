#include "image/registry_client.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "image/auth_challenge.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "sys/status.h"

namespace podsandbox::image {
namespace {

using json = nlohmann::json;

// Tokens and error documents are small; anything bigger is not one.
constexpr int64_t kMaxTokenResponse = 1 << 20;

// "HTTP 404 MANIFEST_UNKNOWN: manifest unknown" from the registry's error
// document (distribution's {"errors":[{"code","message"}]}), when it has
// one.
std::string Describe(const HttpResponse& r) {
  std::string s = absl::StrCat("HTTP ", r.status);
  json j = json::parse(r.body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("errors") &&
      j["errors"].is_array() && !j["errors"].empty() &&
      j["errors"][0].is_object()) {
    const json& e = j["errors"][0];
    absl::StrAppend(&s, " ", e.value("code", ""), ": ", e.value("message", ""));
  }
  return s;
}

absl::Status StatusFor(const HttpRequest& req, const HttpResponse& r) {
  std::string m = absl::StrCat(req.method, " ", req.url, ": ", Describe(r));
  switch (r.status) {
    case 401:
      return absl::UnauthenticatedError(m);
    case 403:
      return absl::PermissionDeniedError(m);
    case 404:
      return absl::NotFoundError(m);
    case 429:
      return absl::UnavailableError(m);
    default:
      if (r.status >= 500) return absl::UnavailableError(m);
      return absl::UnknownError(m);
  }
}

std::string BasicAuth(const Credentials& c) {
  return absl::StrCat(
      "Basic ", absl::Base64Escape(absl::StrCat(c.username, ":", c.password)));
}

}  // namespace

std::vector<std::string> RegistryClient::DefaultAccept() {
  return ManifestAcceptTypes();
}

absl::StatusOr<std::unique_ptr<RegistryClient>> RegistryClient::Create(
    Endpoint endpoint, std::string repository, Credentials credentials,
    HttpOptions http) {
  if (repository.empty()) {
    return absl::InvalidArgumentError("repository: must not be empty");
  }
  if (!credentials.auth.empty()) {
    std::string decoded;
    size_t colon;
    if (!absl::Base64Unescape(credentials.auth, &decoded) ||
        (colon = decoded.find(':')) == std::string::npos) {
      return absl::InvalidArgumentError(
          "auth.auth: must be base64 of \"username:password\"");
    }
    credentials.username = decoded.substr(0, colon);
    credentials.password = decoded.substr(colon + 1);
  }
  http.ca_file = endpoint.ca_file;
  http.verify_tls = endpoint.verify_tls;
  return std::unique_ptr<RegistryClient>(
      new RegistryClient(std::move(endpoint), std::move(repository),
                         std::move(credentials), std::move(http)));
}

RegistryClient::RegistryClient(Endpoint endpoint, std::string repository,
                               Credentials credentials, HttpOptions http)
    : endpoint_(std::move(endpoint)),
      repository_(std::move(repository)),
      credentials_(std::move(credentials)),
      http_(std::move(http)) {}

absl::StatusOr<std::string> RegistryClient::FetchToken(
    const std::string& realm, const std::string& service) {
  if (!absl::StartsWith(realm, "https://") &&
      !absl::StartsWith(realm, "http://")) {
    return absl::UnauthenticatedError(
        absl::StrCat("token realm \"", realm, "\" is not an http(s) URL"));
  }
  std::string scope = absl::StrCat("repository:", repository_, ":pull");
  HttpRequest req;
  req.max_body_bytes = kMaxTokenResponse;
  if (!credentials_.identity_token.empty()) {
    // OAuth2 refresh-token grant, as docker and containerd do with an
    // identity token.
    req.method = "POST";
    req.url = realm;
    req.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    req.body = absl::StrCat(
        "grant_type=refresh_token&client_id=podsandbox&refresh_token=",
        UrlEscape(credentials_.identity_token), "&service=", UrlEscape(service),
        "&scope=", UrlEscape(scope));
  } else {
    req.url = absl::StrCat(
        realm, realm.find('?') == std::string::npos ? "?" : "&",
        "service=", UrlEscape(service), "&scope=", UrlEscape(scope));
    if (!credentials_.username.empty()) {
      req.headers.push_back(
          absl::StrCat("Authorization: ", BasicAuth(credentials_)));
    }
  }
  absl::StatusOr<HttpResponse> r = Fetch(http_, req);
  if (!r.ok()) return sys::Annotate(r.status(), "fetch registry token");
  if (r->status / 100 != 2) {
    absl::Status s = StatusFor(req, *r);
    // A token server refusing the credentials is an authentication
    // failure of the pull, whatever status it chose.
    if (r->status == 400 || r->status == 401) {
      s = absl::UnauthenticatedError(s.message());
    }
    return sys::Annotate(s, "fetch registry token");
  }
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::UnauthenticatedError(
        absl::StrCat("token from ", realm, ": not a JSON object"));
  }
  for (const char* key : {"token", "access_token"}) {
    if (auto it = j.find(key);
        it != j.end() && it->is_string() && !it->get<std::string>().empty()) {
      return absl::StrCat("Bearer ", it->get<std::string>());
    }
  }
  return absl::UnauthenticatedError(
      absl::StrCat("token from ", realm, ": no token in the response"));
}

absl::StatusOr<std::string> RegistryClient::Authorize(
    absl::string_view www_authenticate) {
  ASSIGN_OR_RETURN(AuthChallenge c, ParseAuthChallenge(www_authenticate));
  if (c.scheme == "bearer") {
    if (!credentials_.registry_token.empty()) {
      return absl::StrCat("Bearer ", credentials_.registry_token);
    }
    return FetchToken(c.params["realm"], c.params["service"]);
  }
  if (c.scheme == "basic") {
    if (credentials_.username.empty()) {
      return absl::UnauthenticatedError(
          "registry asks for basic auth and no credentials were given");
    }
    return BasicAuth(credentials_);
  }
  return absl::UnauthenticatedError(
      absl::StrCat("unsupported auth scheme \"", c.scheme, "\""));
}

absl::StatusOr<HttpResponse> RegistryClient::Send(HttpRequest request,
                                                  const BodySink& sink) {
  std::string used;
  {
    absl::MutexLock lock(&mu_);
    used = authorization_;
  }
  const std::vector<std::string> base_headers = request.headers;
  for (int attempt = 0;; ++attempt) {
    request.headers = base_headers;
    if (!used.empty()) {
      request.headers.push_back(absl::StrCat("Authorization: ", used));
    }
    ASSIGN_OR_RETURN(HttpResponse r, Fetch(http_, request, sink));
    if (r.status / 100 == 2) return r;
    std::optional<std::string> challenge = r.Header("www-authenticate");
    if (r.status != 401 || attempt > 0 || !challenge) {
      return StatusFor(request, r);
    }
    absl::StatusOr<std::string> auth = Authorize(*challenge);
    if (!auth.ok()) {
      return sys::Annotate(auth.status(),
                           absl::StrCat(request.method, " ", request.url));
    }
    used = *std::move(auth);
    absl::MutexLock lock(&mu_);
    authorization_ = used;
  }
}

absl::StatusOr<FetchedManifest> RegistryClient::GetManifest(
    absl::string_view reference, int64_t max_bytes,
    const std::vector<std::string>& accept) {
  std::optional<Digest> want;
  if (absl::StrContains(reference, ':')) {
    ASSIGN_OR_RETURN(want, Digest::Parse(reference, "reference"));
  } else if (!IsValidTag(reference)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "reference: \"", reference, "\" is neither a tag nor a digest"));
  }
  HttpRequest req;
  req.url = absl::StrCat(endpoint_.url, "/v2/", repository_, "/manifests/",
                         reference);
  req.headers.push_back(absl::StrCat("Accept: ", absl::StrJoin(accept, ", ")));
  req.max_body_bytes = max_bytes;
  ASSIGN_OR_RETURN(HttpResponse r, Send(req, nullptr));
  FetchedManifest m;
  m.bytes = std::move(r.body);
  m.digest = Sha256Of(m.bytes);
  if (want && *want != m.digest) {
    return absl::DataLossError(absl::StrCat(
        "manifest ", req.url, ": content has digest ", m.digest.String()));
  }
  if (std::optional<std::string> header = r.Header("docker-content-digest")) {
    // Only a sha256 header can be checked; another algorithm is ignored
    // (our own digest is what we keep).
    if (absl::StatusOr<Digest> d = Digest::Parse(*header);
        d.ok() && *d != m.digest) {
      return absl::DataLossError(absl::StrCat(
          "manifest ", req.url, ": content has digest ", m.digest.String(),
          ", Docker-Content-Digest says ", *header));
    }
  }
  std::string ct = r.Header("content-type").value_or("");
  m.media_type = std::string(absl::StripAsciiWhitespace(
      absl::string_view(ct).substr(0, ct.find(';'))));
  return m;
}

absl::Status RegistryClient::FetchBlob(const Digest& digest, int64_t max_bytes,
                                       const BodySink& sink) {
  HttpRequest req;
  req.url = absl::StrCat(endpoint_.url, "/v2/", repository_, "/blobs/",
                         digest.String());
  req.max_body_bytes = max_bytes;
  Sha256 hash;
  BodySink hashing = [&](absl::string_view piece) {
    hash.Update(piece);
    return sink(piece);
  };
  RETURN_IF_ERROR(Send(req, hashing));
  if (Digest got = hash.Finish(); got != digest) {
    return absl::DataLossError(
        absl::StrCat("blob ", req.url, ": content has digest ", got.String()));
  }
  return absl::OkStatus();
}

}  // namespace podsandbox::image
