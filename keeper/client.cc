#include "keeper/client.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sys/log.h"
#include "sys/status.h"
#include "sys/subprocess.h"

namespace podsandbox::keeper {
namespace {

using json = nlohmann::json;

// Replies are immediate (the keeper only moves fds); a keeper that hangs
// must not hold up a container's create or exit for long.
constexpr struct timeval kReplyTimeout = {5, 0};

}  // namespace

absl::StatusOr<sys::UniqueFd> Client::Dial(sys::Sys& sys,
                                           const std::string& socket_path) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("keeper socket path too long: ", socket_path));
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  sys::SysResult socket = sys.Socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (!socket.ok()) return sys::ErrnoError(socket.err, "socket");
  sys::UniqueFd fd(static_cast<int>(socket.value));
  if (sys::SysResult r = sys.Connect(
          fd.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr));
      !r.ok()) {
    if (r.err == ENOENT || r.err == ECONNREFUSED) {
      return absl::UnavailableError(
          absl::StrCat("no keeper listens on ", socket_path));
    }
    return sys::ErrnoError(r.err, "connect %s", socket_path);
  }
  for (int option : {SO_RCVTIMEO, SO_SNDTIMEO}) {
    if (sys::SysResult r =
            sys.Setsockopt(fd.get(), SOL_SOCKET, option, &kReplyTimeout,
                           sizeof(kReplyTimeout));
        !r.ok()) {
      return sys::ErrnoError(r.err, "setsockopt timeout");
    }
  }
  return fd;
}

absl::StatusOr<sys::UniqueFd> Client::DialOrSpawn(
    sys::Sys& sys, const std::string& socket_path, const std::string& binary,
    const std::string& log_file) {
  absl::StatusOr<sys::UniqueFd> fd = Dial(sys, socket_path);
  if (binary.empty()) return fd;
  // Twice: a keeper that was just exiting (idle, its last client gone)
  // still holds the lock when our start runs, so that start steps aside
  // and the connect after it finds nobody; the second start gets the lock.
  for (int attempt = 0; attempt < 2 && absl::IsUnavailable(fd.status());
       ++attempt) {
    sys::Command command;
    command.path = binary;
    command.args = {binary, "--socket", socket_path};
    command.output_file = log_file;
    command.timeout = absl::Seconds(10);
    ASSIGN_OR_RETURN(sys::SubprocessResult started,
                     sys::RunSubprocess(sys, command));
    if (!started.success()) {
      return absl::UnavailableError(absl::StrCat("start keeper ", binary, ": ",
                                                 sys::DescribeExit(started)));
    }
    // It exits once its child listens (or when another keeper holds the
    // lock): a connect now finds one, unless that other one was exiting.
    fd = Dial(sys, socket_path);
  }
  return fd;
}

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(
    sys::Sys& sys, const std::string& socket_path) {
  ASSIGN_OR_RETURN(sys::UniqueFd fd, Dial(sys, socket_path));
  return std::unique_ptr<Client>(
      new Client(sys, socket_path, "", "", std::move(fd)));
}

absl::StatusOr<std::unique_ptr<Client>> Client::ConnectOrSpawn(
    sys::Sys& sys, const std::string& socket_path, const std::string& binary,
    const std::string& log_file) {
  ASSIGN_OR_RETURN(sys::UniqueFd fd,
                   DialOrSpawn(sys, socket_path, binary, log_file));
  return std::unique_ptr<Client>(
      new Client(sys, socket_path, binary, log_file, std::move(fd)));
}

absl::StatusOr<Message> Client::Call(const json& request,
                                     const std::vector<int>& fds) {
  absl::MutexLock lock(&mu_);
  absl::Status lost;  // why the connection this call found was gone
  absl::StatusOr<Message> reply = absl::UnavailableError("not connected");
  // At most two exchanges: the second only after the first found the
  // keeper gone (Unavailable is exactly that: protocol.h), on a new
  // connection. A reply timeout is not retried: a hung keeper would only
  // cost the caller a second timeout.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (socket_.get() < 0) {
      absl::StatusOr<sys::UniqueFd> fd =
          DialOrSpawn(sys_, socket_path_, binary_, log_file_);
      if (!fd.ok()) {
        reply = sys::Annotate(fd.status(), "keeper reconnect");
        break;
      }
      socket_ = std::move(*fd);
      if (!lost.ok()) {
        // Swallowed (the call goes on), so said here: if the keeper died,
        // what it held died with it.
        PSB_LOG(kWarning,
                "keeper: reconnected to %s after losing it (%s); what a dead "
                "keeper held is no longer kept",
                socket_path_, lost.message());
      }
    }
    absl::Status sent = SendMessage(sys_, socket_.get(), request, fds);
    reply = sent.ok() ? ReceiveMessage(sys_, socket_.get()) : sent;
    if (reply.ok()) break;
    // A lost or timed-out exchange leaves the stream out of step: close it
    // (the next call, or the retry below, connects anew).
    socket_.reset();
    if (!absl::IsUnavailable(reply.status())) break;
    lost = reply.status();
  }
  if (!reply.ok()) {
    return absl::UnavailableError(reply.status().message());
  }
  RETURN_IF_ERROR(StatusOfReply(reply->body));
  return reply;
}

absl::Status Client::Hold(absl::string_view key, const std::vector<int>& fds) {
  if (fds.empty() || fds.size() > kMaxFds) {
    return absl::InvalidArgumentError(
        absl::StrCat("keeper hold: 1 to ", kMaxFds, " fds"));
  }
  return Call(json{{"op", "hold"}, {"key", std::string(key)}}, fds).status();
}

absl::StatusOr<std::vector<sys::UniqueFd>> Client::Take(absl::string_view key) {
  ASSIGN_OR_RETURN(Message reply,
                   Call(json{{"op", "take"}, {"key", std::string(key)}}, {}));
  return std::move(reply.fds);
}

absl::Status Client::Drop(absl::string_view key) {
  return Call(json{{"op", "drop"}, {"key", std::string(key)}}, {}).status();
}

absl::StatusOr<std::vector<std::string>> Client::Keys(size_t page) {
  std::vector<std::string> keys;
  // Page by page, in key order: one reply of every key would outgrow a
  // message past a few thousand containers. A key held throughout is
  // listed exactly once even if others come and go meanwhile.
  for (;;) {
    json request = {{"op", "keys"}, {"limit", page}};
    if (!keys.empty()) request["after"] = keys.back();
    ASSIGN_OR_RETURN(Message reply, Call(request, {}));
    auto it = reply.body.find("keys");
    if (it == reply.body.end() || !it->is_array()) {
      return absl::InternalError("keeper keys: no \"keys\" array");
    }
    const size_t before = keys.size();
    for (const json& key : *it) {
      if (key.is_string()) keys.push_back(key.get<std::string>());
    }
    // A keeper of before paging sends no "more": every key at once.
    auto more = reply.body.find("more");
    if (more == reply.body.end() || !more->is_boolean() || !more->get<bool>()) {
      return keys;
    }
    if (keys.size() == before) {
      return absl::InternalError("keeper keys: \"more\" with an empty page");
    }
  }
}

}  // namespace podsandbox::keeper
