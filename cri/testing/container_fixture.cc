#include "cri/testing/container_fixture.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "image/manifest.h"
#include "image/testing/image_builder.h"
#include "image/testing/pusher.h"
#include "sys/testing/status_matchers.h"

namespace podsandbox::cri {

namespace v1 = ::runtime::v1;

std::vector<std::string> LogLines(const std::string& path) {
  std::vector<std::string> out;
  for (absl::string_view line :
       absl::StrSplit(ReadAll(path), '\n', absl::SkipEmpty())) {
    out.push_back(std::string(line.substr(line.find(' ') + 1)));
  }
  return out;
}

void ContainerTestBase::TearDown() {
  // Pods before the leak check (RemovePodSandbox removes their containers
  // too); the registry is our child, so it goes before the process check.
  if (daemon_running()) RemoveAllPods();
  registry_.reset();
  PodsandboxdTestBase::TearDown();
}

void ContainerTestBase::SetUpImage() {
  namespace it = ::podsandbox::image::testing;
  ASSERT_OK_AND_ASSIGN(registry_, it::TestRegistry::Start(sys_));
  ASSERT_OK_AND_ASSIGN(std::vector<it::TarEntry> entries, it::BusyboxEntries());
  ASSERT_OK_AND_ASSIGN(it::BuiltLayer layer,
                       it::MakeLayer(entries, it::Compression::kGzip));
  it::BuiltImage built = it::MakeImage({layer}, image::HostPlatform());
  it::Pusher pusher(registry_->url(), registry_->http_options());
  ASSERT_OK(it::PushImage(pusher, "library/busybox", "1", built).status());
  WriteAll(config(), absl::StrCat(ReadAll(config()), "\n[registries.\"",
                                  registry_->host(), "\"]\ninsecure = true\n"));
  image_ = absl::StrCat(registry_->host(), "/library/busybox:1");
}

void ContainerTestBase::Pull() {
  std::unique_ptr<v1::ImageService::Stub> images =
      v1::ImageService::NewStub(channel());
  v1::PullImageRequest request;
  request.mutable_image()->set_image(image_);
  v1::PullImageResponse response;
  grpc::Status s = images->PullImage(RpcContext().get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  image_id_ = response.image_ref();
}

void ContainerTestBase::StartDaemonWithImage() {
  ASSERT_NO_FATAL_FAILURE(SetUpImage());
  ASSERT_NO_FATAL_FAILURE(StartDaemon());
  ASSERT_NO_FATAL_FAILURE(Pull());
}

grpc::Status ContainerTestBase::RemoveImage() {
  std::unique_ptr<v1::ImageService::Stub> images =
      v1::ImageService::NewStub(channel());
  v1::RemoveImageRequest request;
  request.mutable_image()->set_image(image_);
  v1::RemoveImageResponse response;
  return images->RemoveImage(RpcContext().get(), request, &response);
}

v1::ContainerStatus ContainerTestBase::WaitForExited(const std::string& id) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (true) {
    v1::ContainerStatusRequest request;
    request.set_container_id(id);
    v1::ContainerStatusResponse response;
    grpc::Status s = runtime_service().ContainerStatus(RpcContext().get(),
                                                       request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!s.ok() || response.status().state() == v1::CONTAINER_EXITED ||
        absl::Now() >= deadline) {
      return response.status();
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

v1::CreateContainerRequest ContainerTestBase::ShellContainer(
    const std::string& pod_id, const v1::PodSandboxConfig& pod,
    const std::string& name, const std::string& script) const {
  v1::CreateContainerRequest request;
  request.set_pod_sandbox_id(pod_id);
  *request.mutable_sandbox_config() = pod;
  v1::ContainerConfig* c = request.mutable_config();
  c->mutable_metadata()->set_name(name);
  c->mutable_image()->set_image(image_);
  c->add_command("/bin/sh");
  c->add_args("-c");
  c->add_args(script);
  c->set_log_path(absl::StrCat(name, "/0.log"));
  return request;
}

}  // namespace podsandbox::cri
