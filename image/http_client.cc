#include "image/http_client.h"

#include <curl/curl.h>

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace podsandbox::image {
namespace {

struct EasyFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// curl_global_init is not thread-safe; a function-local static runs it
// exactly once before the first handle.
void GlobalInit() {
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)init;
}

struct Transfer {
  CURL* curl;
  const HttpRequest* request;
  const BodySink* sink;
  HttpResponse* response;
  int64_t received = 0;
  absl::Status error;  // why a callback stopped the transfer
};

size_t OnHeader(char* data, size_t size, size_t n, void* arg) {
  auto* t = static_cast<Transfer*>(arg);
  absl::string_view line(data, size * n);
  // A new status line (after a redirect or a "100 Continue") starts a new
  // response: only the last one's headers are kept.
  if (absl::StartsWith(line, "HTTP/")) {
    t->response->headers.clear();
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon == line.npos) return size * n;
  t->response->headers.emplace_back(
      absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon))),
      std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* arg) {
  auto* t = static_cast<Transfer*>(arg);
  absl::string_view piece(data, size * n);
  t->received += piece.size();
  // Counted here too: a chunked body announces no length for
  // CURLOPT_MAXFILESIZE to check up front.
  if (t->request->max_body_bytes >= 0 &&
      t->received > t->request->max_body_bytes) {
    t->error = absl::ResourceExhaustedError(
        absl::StrCat("response body larger than the limit of ",
                     t->request->max_body_bytes, " bytes"));
    return 0;
  }
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status / 100 != 2) {
    size_t room =
        kMaxErrorBody - std::min(kMaxErrorBody, t->response->body.size());
    absl::string_view kept = piece.substr(0, room);
    t->response->body.append(kept.data(), kept.size());
    return size * n;
  }
  if (*t->sink == nullptr) {
    t->response->body.append(piece.data(), piece.size());
    return size * n;
  }
  if (absl::Status s = (*t->sink)(piece); !s.ok()) {
    t->error = std::move(s);
    return 0;
  }
  return size * n;
}

absl::Status CurlError(CURLcode code, const char* detail,
                       const HttpRequest& request) {
  std::string message =
      absl::StrCat(request.method, " ", request.url, ": ",
                   detail[0] ? detail : curl_easy_strerror(code));
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return absl::DeadlineExceededError(message);
    case CURLE_FILESIZE_EXCEEDED:
      return absl::ResourceExhaustedError(message);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return absl::InvalidArgumentError(message);
    default:
      return absl::UnavailableError(message);
  }
}

}  // namespace

std::string UrlEscape(absl::string_view text) {
  GlobalInit();
  std::string out;
  // curl_easy_escape ignores its handle since 7.82; nullptr is documented.
  char* escaped =
      curl_easy_escape(nullptr, text.data(), static_cast<int>(text.size()));
  if (escaped != nullptr) {
    out = escaped;
    curl_free(escaped);
  }
  return out;
}

std::optional<std::string> HttpResponse::Header(absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return std::nullopt;
}

absl::StatusOr<HttpResponse> Fetch(const HttpOptions& options,
                                   const HttpRequest& request,
                                   const BodySink& sink) {
  GlobalInit();
  std::unique_ptr<CURL, EasyFree> curl(curl_easy_init());
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  std::unique_ptr<curl_slist, SlistFree> headers;
  for (const std::string& h : request.headers) {
    curl_slist* l = curl_slist_append(headers.get(), h.c_str());
    if (l == nullptr) return absl::InternalError("curl_slist_append failed");
    headers.release();
    headers.reset(l);
  }
  HttpResponse response;
  Transfer t{curl.get(), &request, &sink, &response};
  char error_buffer[CURL_ERROR_SIZE] = {};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);
  // Signals would hit whichever thread; timeouts work without them here
  // because Debian's libcurl resolves names in a thread.
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION,
                   request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS,
                   static_cast<long>(options.max_redirects));
  curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
  curl_easy_setopt(
      c, CURLOPT_CONNECTTIMEOUT_MS,
      static_cast<long>(absl::ToInt64Milliseconds(options.connect_timeout)));
  curl_easy_setopt(
      c, CURLOPT_LOW_SPEED_TIME,
      static_cast<long>(absl::ToInt64Seconds(options.low_speed_time)));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT,
                   static_cast<long>(options.low_speed_bytes_per_second));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
  if (!options.ca_file.empty()) {
    curl_easy_setopt(c, CURLOPT_CAINFO, options.ca_file.c_str());
  }
  if (request.max_body_bytes >= 0) {
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(request.max_body_bytes));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (request.method == "POST" || request.method == "PUT") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    if (request.method == "PUT")
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
  } else if (request.method == "DELETE") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
  } else if (request.method != "GET") {
    return absl::InvalidArgumentError(
        absl::StrCat("method: unsupported \"", request.method, "\""));
  }
  CURLcode code = curl_easy_perform(c);
  if (!t.error.ok()) return t.error;
  if (code != CURLE_OK) return CurlError(code, error_buffer, request);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  char* url = nullptr;
  curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &url);
  if (url != nullptr) response.effective_url = url;
  return response;
}

}  // namespace podsandbox::image
