// Test fixture: an HTTP proxy in front of a TestRegistry (plain http) that
// can hold one blob mid-transfer. Every request is forwarded to the
// registry and its answer relayed (headers too: auth challenges pass);
// a GET of the held blob sends its headers and the first half of its
// body, records that it is holding, and sends the rest only after
// Release(). Tests use it to stop a pull at a known point: a daemon
// SIGKILLed while a layer is half unpacked, a second pull started while
// the first is provably in flight.
//
// The proxy is python3's http.server (ThreadingHTTPServer), killed and
// reaped when the object goes away. Bodies are buffered whole in the
// proxy: the test images are a few MB.
#ifndef PODSANDBOX_IMAGE_TESTING_GATED_PROXY_H_
#define PODSANDBOX_IMAGE_TESTING_GATED_PROXY_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "image/digest.h"
#include "sys/sys.h"
#include "sys/testing/temp_dir.h"

namespace podsandbox::image::testing {

class GatedProxy {
 public:
  // Serves on a free 127.0.0.1 port, forwarding to `upstream_host`
  // ("127.0.0.1:<port>", plain http), holding GETs of the blob `held`.
  // Waits (polling with a deadline) until it answers.
  static absl::StatusOr<std::unique_ptr<GatedProxy>> Start(
      sys::Sys& sys, std::string upstream_host, Digest held);
  ~GatedProxy();
  GatedProxy(const GatedProxy&) = delete;
  GatedProxy& operator=(const GatedProxy&) = delete;

  std::string host() const;  // "127.0.0.1:<port>"

  // Polls until a GET of the held blob has sent half its body and waits.
  // DeadlineExceeded after `timeout`.
  absl::Status WaitUntilHolding(absl::Duration timeout);
  // How many GETs of the held blob have reached the hold so far.
  int HoldCount() const;
  // Lets every held and later transfer run to its end.
  absl::Status Release();

 private:
  GatedProxy(sys::Sys& sys, std::string upstream_host, Digest held);

  sys::Sys& sys_;
  const std::string upstream_host_;
  const Digest held_;
  sys::TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace podsandbox::image::testing

#endif  // PODSANDBOX_IMAGE_TESTING_GATED_PROXY_H_
