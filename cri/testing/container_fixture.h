// PodsandboxdTestBase for the end to end tests of containers: a busybox
// image (image/testing's builder) pushed as library/busybox:1 to a
// TestRegistry the test starts, the daemon's config naming that registry
// as an insecure host, the image pulled and removed through the daemon's
// ImageService, and busybox shell containers in user-namespaced pods
// (UsernsPodConfig, included from pod_config.h).
//
// Order in a test: SetUpImage() (it writes the daemon's config), then
// StartDaemon(), then Pull(). TearDown removes the pods (and with them their
// containers) before the fixture's leak check, and stops the registry (our
// child). Not thread-safe, like the fixture.
#ifndef PODSANDBOX_CRI_TESTING_CONTAINER_FIXTURE_H_
#define PODSANDBOX_CRI_TESTING_CONTAINER_FIXTURE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "cri/api.grpc.pb.h"
#include "cri/testing/pod_config.h"
#include "cri/testing/podsandboxd_fixture.h"
#include "grpcpp/grpcpp.h"
#include "image/testing/registry.h"
#include "sys/real_sys.h"

namespace podsandbox::cri {

// The lines of the CRI log file at `path` without their timestamps
// ("stdout F text"); none when it is unreadable.
std::vector<std::string> LogLines(const std::string& path);

class ContainerTestBase : public PodsandboxdTestBase {
 protected:
  using PodsandboxdTestBase::PodsandboxdTestBase;

  void TearDown() override;

  // Starts the registry, pushes busybox to it and appends the registry to
  // the daemon's config; sets image_. Fails the test fatally (check with
  // ASSERT_NO_FATAL_FAILURE). Before StartDaemon().
  void SetUpImage();

  // Pulls image_ through the daemon; sets image_id_. Fails the test fatally.
  void Pull();

  grpc::Status RemoveImage();

  // SetUpImage(), StartDaemon(), Pull(): how a test that needs the image
  // begins. Fails the test fatally.
  void StartDaemonWithImage();

  // A CreateContainerRequest for container `name` of pod `pod_id` running
  // `script` with busybox's /bin/sh -c, logging to "<name>/0.log".
  ::runtime::v1::CreateContainerRequest ShellContainer(
      const std::string& pod_id, const ::runtime::v1::PodSandboxConfig& pod,
      const std::string& name, const std::string& script) const;

  // Polls ContainerStatus (a failed call fails the test) until the
  // container is exited or 30 s passed; returns the last status seen, so
  // the caller checks its state.
  ::runtime::v1::ContainerStatus WaitForExited(const std::string& id);

  sys::RealSys sys_;
  std::unique_ptr<image::testing::TestRegistry> registry_;
  std::string image_;
  std::string image_id_;
};

}  // namespace podsandbox::cri

#endif  // PODSANDBOX_CRI_TESTING_CONTAINER_FIXTURE_H_
