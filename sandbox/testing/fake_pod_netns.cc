#include "sandbox/testing/fake_pod_netns.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sys/file.h"

namespace podsandbox::sandbox::testing {
namespace {

absl::Status Touch(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(absl::StrCat(path, " is pinned"));
    }
    return absl::ErrnoToStatus(errno, absl::StrCat("create ", path));
  }
  ::close(fd);
  return absl::OkStatus();
}

absl::Status RemoveIfThere(const std::string& path) {
  if (::unlink(path.c_str()) == 0 || errno == ENOENT) return absl::OkStatus();
  return absl::ErrnoToStatus(errno, absl::StrCat("unlink ", path));
}

}  // namespace

FakePodNetns::FakePodNetns(std::string dir) : dir_(std::move(dir)) {}

void FakePodNetns::FailNextCreate(absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_next_create_ = std::move(status);
}

std::vector<std::string> FakePodNetns::loopbacks() const {
  absl::MutexLock lock(&mu_);
  return loopbacks_;
}

absl::Status FakePodNetns::Init() {
  for (const char* sub : {"/netns", "/userns"}) {
    std::string path = absl::StrCat(dir_, sub);
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::ErrnoToStatus(errno, absl::StrCat("mkdir ", path));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<netns::PinnedNamespaces> FakePodNetns::Create(
    absl::string_view id, const userns::IdMappings* mappings) {
  {
    absl::MutexLock lock(&mu_);
    if (!fail_next_create_.ok()) {
      return std::exchange(fail_next_create_, absl::OkStatus());
    }
  }
  netns::PinnedNamespaces pins;
  pins.netns = NetnsPin(id);
  if (absl::Status s = Touch(pins.netns); !s.ok()) return s;
  if (mappings != nullptr) {
    pins.userns = UsernsPin(id);
    if (absl::Status s = Touch(pins.userns); !s.ok()) {
      RemoveIfThere(pins.netns).IgnoreError();  // atomic, as the real one
      return s;
    }
  }
  return pins;
}

absl::Status FakePodNetns::BringUpLoopback(absl::string_view netns_pin) {
  absl::MutexLock lock(&mu_);
  loopbacks_.emplace_back(netns_pin);
  return absl::OkStatus();
}

absl::Status FakePodNetns::Remove(absl::string_view id) {
  absl::Status netns = RemoveIfThere(NetnsPin(id));
  absl::Status userns = RemoveIfThere(UsernsPin(id));
  return netns.ok() ? userns : netns;
}

std::string FakePodNetns::NetnsPin(absl::string_view id) const {
  return absl::StrCat(dir_, "/netns/", id);
}

std::string FakePodNetns::UsernsPin(absl::string_view id) const {
  return absl::StrCat(dir_, "/userns/", id);
}

absl::StatusOr<std::vector<std::string>> FakePodNetns::ListIds() const {
  std::vector<std::string> ids;
  for (const char* sub : {"/netns", "/userns"}) {
    absl::StatusOr<std::vector<std::string>> names =
        sys::ListDir(absl::StrCat(dir_, sub));
    if (!names.ok()) return names.status();
    for (std::string& name : *names) {
      bool seen = false;
      for (const std::string& id : ids) seen = seen || id == name;
      if (!seen) ids.push_back(std::move(name));
    }
  }
  return ids;
}

}  // namespace podsandbox::sandbox::testing
