#include "oci/testing/fake_oci_runtime.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sys/status.h"

extern char** environ;

namespace podsandbox::oci::testing {
namespace {

// A driver object: the OciRuntime a caller holds, with the state in the
// FakeOciRuntime that made it.
class Driver : public OciRuntime {
 public:
  Driver(FakeOciRuntime& fake, RuntimeHandler handler)
      : fake_(fake), handler_(std::move(handler)) {}

  // oci::OciRuntime
  const RuntimeHandler& handler() const override { return handler_; }
  absl::Status CheckCanRun(const PodNeeds& pod) override {
    return fake_.CheckCanRun(handler_, pod);
  }
  absl::Status CheckSupported(const TaskSpec& spec) override {
    return fake_.CheckSupported(handler_, spec);
  }
  absl::Status Create(const CreateRequest& request) override {
    return fake_.Create(handler_, request);
  }
  absl::Status Start(absl::string_view id) override {
    return fake_.Start(handler_, id);
  }
  absl::StatusOr<RuntimeState> State(absl::string_view id) override {
    return fake_.State(handler_, id);
  }
  absl::Status Kill(absl::string_view id, int signal) override {
    return fake_.Kill(handler_, id, signal);
  }
  absl::Status Delete(absl::string_view id) override {
    return fake_.Delete(handler_, id);
  }
  absl::StatusOr<ExecResult> Exec(const ExecRequest& request) override {
    return fake_.Exec(handler_, request);
  }
  absl::Status Update(absl::string_view id,
                      const std::string& resources_json) override {
    return fake_.Update(handler_, id, resources_json);
  }

 private:
  FakeOciRuntime& fake_;
  const RuntimeHandler handler_;
};

absl::Status NoSuchContainer(absl::string_view op, absl::string_view id) {
  return absl::NotFoundError(
      absl::StrCat("fake ", op, " ", id, ": container does not exist"));
}

}  // namespace

FakeOciRuntime::~FakeOciRuntime() {
  absl::MutexLock lock(&mu_);
  for (const auto& [id, c] : containers_) {
    if (StatusOf(c) != "stopped") ::kill(c.pid, SIGKILL);
  }
}

std::unique_ptr<OciRuntime> FakeOciRuntime::Make(
    const RuntimeHandler& handler) {
  return std::make_unique<Driver>(*this, handler);
}

FakeOciRuntime::Maker FakeOciRuntime::Factory() {
  return [this](const RuntimeHandler& handler) { return Make(handler); };
}

void FakeOciRuntime::FailNext(Verb verb, absl::Status status, int times) {
  absl::MutexLock lock(&mu_);
  for (int i = 0; i < times; ++i) {
    pending_[static_cast<int>(verb)].push_back(status);
  }
}

int FakeOciRuntime::fired(Verb verb) const {
  absl::MutexLock lock(&mu_);
  return fired_[static_cast<int>(verb)];
}

bool FakeOciRuntime::AllInjectedFired() const {
  absl::MutexLock lock(&mu_);
  for (const auto& pending : pending_) {
    if (!pending.empty()) return false;
  }
  return true;
}

std::vector<FakeOciRuntime::Call> FakeOciRuntime::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}

int FakeOciRuntime::count(Verb verb) const {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const Call& call : calls_) n += call.verb == verb;
  return n;
}

std::vector<std::string> FakeOciRuntime::containers() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> ids;
  for (const auto& [id, c] : containers_) ids.push_back(id);
  return ids;
}

pid_t FakeOciRuntime::pid(absl::string_view id) const {
  absl::MutexLock lock(&mu_);
  auto it = containers_.find(std::string(id));
  return it == containers_.end() ? 0 : it->second.pid;
}

void FakeOciRuntime::SetExecResult(ExecResult result) {
  absl::MutexLock lock(&mu_);
  exec_result_ = std::move(result);
}

std::string FakeOciRuntime::resources(absl::string_view id) const {
  absl::MutexLock lock(&mu_);
  auto it = containers_.find(std::string(id));
  return it == containers_.end() ? "" : it->second.resources;
}

absl::string_view FakeOciRuntime::VerbName(Verb verb) {
  switch (verb) {
    case Verb::kCheckCanRun:
      return "CheckCanRun";
    case Verb::kCheckSupported:
      return "CheckSupported";
    case Verb::kCreate:
      return "Create";
    case Verb::kStart:
      return "Start";
    case Verb::kState:
      return "State";
    case Verb::kKill:
      return "Kill";
    case Verb::kDelete:
      return "Delete";
    case Verb::kExec:
      return "Exec";
    case Verb::kUpdate:
      return "Update";
  }
  return "?";
}

absl::Status FakeOciRuntime::Enter(Call call) {
  std::deque<absl::Status>& pending = pending_[static_cast<int>(call.verb)];
  calls_.push_back(std::move(call));
  if (pending.empty()) return absl::OkStatus();
  absl::Status injected = std::move(pending.front());
  pending.pop_front();
  ++fired_[static_cast<int>(calls_.back().verb)];
  return injected;
}

std::string FakeOciRuntime::StatusOf(const Container& c) {
  // A pidfd polls readable once its process has exited (pidfd_open(2)).
  struct pollfd p = {c.pidfd.get(), POLLIN, 0};
  if (::poll(&p, 1, 0) == 1) return "stopped";
  return c.started ? "running" : "created";
}

absl::Status FakeOciRuntime::CheckCanRun(const RuntimeHandler& handler,
                                         const PodNeeds& pod) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Enter({Verb::kCheckCanRun, handler.name}));
  return CheckHandlerSupports(handler, pod);
}

absl::Status FakeOciRuntime::CheckSupported(const RuntimeHandler& handler,
                                            const TaskSpec& spec) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Enter({Verb::kCheckSupported, handler.name}));
  return CheckHandlerSupports(handler, spec);
}

absl::Status FakeOciRuntime::Create(const RuntimeHandler& handler,
                                    const CreateRequest& request) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Enter({Verb::kCreate, handler.name, request.id}));
  if (containers_.count(request.id) != 0) {
    return absl::InternalError(
        absl::StrCat("fake create ", request.id, ": container exists"));
  }
  // Not through sys::Sys: this stands in for the runtime binary, whose
  // own syscalls no Sys of ours sees either.
  char sleep_path[] = "/bin/sleep";
  char infinity[] = "infinity";
  char* argv[] = {sleep_path, infinity, nullptr};
  pid_t pid = 0;
  // The container's streams, as a runtime hands them on.
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  if (request.stdout_fd >= 0) {
    ::posix_spawn_file_actions_adddup2(&actions, request.stdout_fd, 1);
  }
  if (request.stderr_fd >= 0) {
    ::posix_spawn_file_actions_adddup2(&actions, request.stderr_fd, 2);
  }
  int err = ::posix_spawn(&pid, sleep_path, &actions, nullptr, argv, environ);
  ::posix_spawn_file_actions_destroy(&actions);
  if (err != 0) {
    return sys::ErrnoError(err, "fake create %s: spawn %s", request.id,
                           sleep_path);
  }
  Container c;
  c.pid = pid;
  c.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  c.bundle = request.bundle;
  if (!c.pidfd.valid()) {
    int err = errno;
    ::kill(pid, SIGKILL);
    return sys::ErrnoError(err, "fake create %s: pidfd_open", request.id);
  }
  std::ofstream(request.pid_file) << pid;
  containers_.emplace(request.id, std::move(c));
  return absl::OkStatus();
}

absl::Status FakeOciRuntime::Start(const RuntimeHandler& handler,
                                   absl::string_view id) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Enter({Verb::kStart, handler.name, std::string(id)}));
  auto it = containers_.find(std::string(id));
  if (it == containers_.end()) return NoSuchContainer("start", id);
  if (StatusOf(it->second) != "created") {
    return absl::InternalError(
        absl::StrCat("fake start ", id, ": cannot start a container that is ",
                     StatusOf(it->second)));
  }
  it->second.started = true;
  return absl::OkStatus();
}

absl::StatusOr<RuntimeState> FakeOciRuntime::State(
    const RuntimeHandler& handler, absl::string_view id) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Enter({Verb::kState, handler.name, std::string(id)}));
  auto it = containers_.find(std::string(id));
  if (it == containers_.end()) return NoSuchContainer("state", id);
  RuntimeState state;
  state.status = StatusOf(it->second);
  state.pid = state.status == "stopped" ? 0 : it->second.pid;
  state.bundle = it->second.bundle;
  return state;
}

absl::Status FakeOciRuntime::Kill(const RuntimeHandler& handler,
                                  absl::string_view id, int signal) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Enter({Verb::kKill, handler.name, std::string(id), signal}));
  auto it = containers_.find(std::string(id));
  if (it == containers_.end()) return NoSuchContainer("kill", id);
  // As runc: a stopped container cannot be signalled.
  if (StatusOf(it->second) == "stopped") {
    return absl::InternalError(
        absl::StrCat("fake kill ", id, ": container not running"));
  }
  if (::kill(it->second.pid, signal) != 0) {
    return sys::ErrnoError(errno, "fake kill %s", id);
  }
  return absl::OkStatus();
}

absl::Status FakeOciRuntime::Delete(const RuntimeHandler& handler,
                                    absl::string_view id) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Enter({Verb::kDelete, handler.name, std::string(id)}));
  auto it = containers_.find(std::string(id));
  if (it == containers_.end()) return NoSuchContainer("delete", id);
  // delete --force: the process dies; its reaper (the caller's exit
  // watcher) reaps it.
  if (StatusOf(it->second) != "stopped") ::kill(it->second.pid, SIGKILL);
  containers_.erase(it);
  return absl::OkStatus();
}

absl::StatusOr<ExecResult> FakeOciRuntime::Exec(const RuntimeHandler& handler,
                                                const ExecRequest& request) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Enter({Verb::kExec, handler.name, request.id}));
  auto it = containers_.find(request.id);
  if (it == containers_.end()) return NoSuchContainer("exec", request.id);
  if (StatusOf(it->second) != "running") {
    return absl::InternalError(absl::StrCat(
        "fake exec ", request.id, ": cannot exec in a container that is ",
        StatusOf(it->second)));
  }
  return exec_result_;
}

absl::Status FakeOciRuntime::Update(const RuntimeHandler& handler,
                                    absl::string_view id,
                                    const std::string& resources_json) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Enter({Verb::kUpdate, handler.name, std::string(id)}));
  auto it = containers_.find(std::string(id));
  if (it == containers_.end()) return NoSuchContainer("update", id);
  if (StatusOf(it->second) == "stopped") {
    return absl::InternalError(
        absl::StrCat("fake update ", id, ": container not running"));
  }
  it->second.resources = resources_json;
  return absl::OkStatus();
}

}  // namespace podsandbox::oci::testing
