#include "keeper/server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "sys/log.h"
#include "sys/status.h"

namespace podsandbox::keeper {
namespace {

using json = nlohmann::json;

// A client that stops reading its replies must not stall every other one.
constexpr struct timeval kSendTimeout = {1, 0};

// Fds the keeper needs besides those it holds and its clients: stdin,
// stdout, stderr, the lock, the listener, one connection being accepted,
// and one request's fds in flight. A hold that would eat into them is
// refused, so the next request (a take, a drop) still arrives whole.
constexpr size_t kSpareFds = 6 + kMaxFds;

// Keys in one keys reply, at most (a page; the client asks again).
constexpr size_t kMaxKeysPage = 1024;
// Bytes of keys in one reply, at most: half a message leaves room for the
// JSON around them.
constexpr size_t kKeysPageBytes = kMaxMessageBytes / 2;

// RLIMIT_NOFILE's soft limit: what this process may have open.
size_t FdLimit() {
  struct rlimit files;
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0 ||
      files.rlim_cur == RLIM_INFINITY) {
    return SIZE_MAX;
  }
  return static_cast<size_t>(files.rlim_cur);
}

absl::StatusOr<std::string> KeyOf(const json& body) {
  auto key = body.find("key");
  if (key == body.end() || !key->is_string() ||
      key->get_ref<const std::string&>().empty() ||
      key->get_ref<const std::string&>().size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("key: must be a string of 1 to ", kMaxKeyBytes, " bytes"));
  }
  return key->get<std::string>();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Listen(
    sys::Sys& sys, const std::string& socket_path,
    absl::Duration first_client_wait) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("socket path: longer than ",
                                                   sizeof(addr.sun_path) - 1,
                                                   " bytes: ", socket_path));
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  std::string lock_path = absl::StrCat(socket_path, ".lock");
  sys::SysResult lock_fd =
      sys.Open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (!lock_fd.ok()) return sys::ErrnoError(lock_fd.err, "open %s", lock_path);
  sys::UniqueFd lock(static_cast<int>(lock_fd.value));
  if (sys::SysResult r = sys.Flock(lock.get(), LOCK_EX | LOCK_NB); !r.ok()) {
    if (r.err == EWOULDBLOCK) {
      return absl::AlreadyExistsError(
          absl::StrCat("keeper: another keeper serves ", socket_path));
    }
    return sys::ErrnoError(r.err, "flock %s", lock_path);
  }
  // Ours now: a socket file left here is a dead keeper's.
  if (sys::SysResult r = sys.Unlink(socket_path.c_str());
      !r.ok() && r.err != ENOENT) {
    return sys::ErrnoError(r.err, "unlink %s", socket_path);
  }
  // socket, bind, listen (and accept4, getsockopt, poll in Run) stay raw
  // calls, not sys_: they run only in the keeper's own process, where a
  // failure has nothing to roll back but its lock fd; Listen failing makes
  // the binary exit 1 before it forks, which its starter sees as a failed
  // start, the client's "no keeper" path that keeper_test covers with
  // FaultySys on the daemon's side. Messages do go through sys_
  // (protocol.h): that code is the client's too.
  sys::UniqueFd listener(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (listener.get() < 0) return sys::ErrnoError(errno, "socket");
  // 0600 from the start: no moment where another user could connect.
  mode_t old_mask = ::umask(0177);
  int bound = ::bind(listener.get(), reinterpret_cast<struct sockaddr*>(&addr),
                     sizeof(addr));
  int bind_errno = errno;
  ::umask(old_mask);
  if (bound != 0) return sys::ErrnoError(bind_errno, "bind %s", socket_path);
  if (::listen(listener.get(), 16) != 0) {
    return sys::ErrnoError(errno, "listen %s", socket_path);
  }
  return std::unique_ptr<Server>(
      new Server(sys, std::move(lock), std::move(listener), first_client_wait));
}

absl::Status Server::Run() {
  const absl::Time first_deadline = absl::Now() + first_client_wait_;
  for (;;) {
    if (clients_.empty() && held_.empty() &&
        (had_client_ || absl::Now() >= first_deadline)) {
      return absl::OkStatus();
    }
    std::vector<struct pollfd> fds;
    fds.push_back({listener_.get(), POLLIN, 0});
    for (const sys::UniqueFd& c : clients_) fds.push_back({c.get(), POLLIN, 0});
    int timeout = -1;
    if (!had_client_) {
      timeout = static_cast<int>(std::max<int64_t>(
          0, absl::ToInt64Milliseconds(first_deadline - absl::Now()) + 1));
    }
    int n = ::poll(fds.data(), fds.size(), timeout);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys::ErrnoError(errno, "poll");
    }
    std::vector<int> gone;
    for (size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      if (!Serve(fds[i].fd)) gone.push_back(fds[i].fd);
    }
    clients_.erase(std::remove_if(clients_.begin(), clients_.end(),
                                  [&gone](const sys::UniqueFd& c) {
                                    return std::find(gone.begin(), gone.end(),
                                                     c.get()) != gone.end();
                                  }),
                   clients_.end());
    if (fds[0].revents != 0) Accept();
  }
}

void Server::Accept() {
  sys::UniqueFd client(
      ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (client.get() < 0) return;  // the client gave up meanwhile
  struct ucred cred = {};
  socklen_t len = sizeof(cred);
  if (::getsockopt(client.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
      cred.uid != ::geteuid()) {
    PSB_LOG(kWarning, "keeper: refused a client of uid %d", cred.uid);
    return;
  }
  (void)::setsockopt(client.get(), SOL_SOCKET, SO_SNDTIMEO, &kSendTimeout,
                     sizeof(kSendTimeout));  // best effort: see kSendTimeout
  had_client_ = true;
  clients_.push_back(std::move(client));
}

bool Server::Serve(int client) {
  absl::StatusOr<Message> request = ReceiveMessage(sys_, client);
  if (absl::IsUnavailable(request.status())) return false;
  std::vector<int> reply_fds;
  absl::StatusOr<json> reply =
      request.ok() ? Handle(*request, &reply_fds) : request.status();
  if (absl::IsResourceExhausted(request.status())) {
    // The kernel dropped the request's fds (MSG_CTRUNC): we are at our fd
    // limit (or the client sent more than kMaxFds). Say which.
    reply = FdsExhausted(request.status().message());
  }
  absl::Status sent = SendMessage(
      sys_, client, reply.ok() ? *reply : ReplyFor(reply.status()), reply_fds);
  // A client that cannot take its reply is dropped; what it handed over
  // stays held.
  return sent.ok();
}

absl::StatusOr<json> Server::Handle(Message& request,
                                    std::vector<int>* reply_fds) {
  auto op_it = request.body.find("op");
  if (op_it == request.body.end() || !op_it->is_string()) {
    return absl::InvalidArgumentError("op: must be a string");
  }
  const std::string op = op_it->get<std::string>();
  if (op == "keys") return KeysPage(request.body);
  if (op != "hold" && op != "take" && op != "drop") {
    return absl::InvalidArgumentError(
        absl::StrCat("op: unknown \"", op, "\" (hold, take, drop, keys)"));
  }
  ASSIGN_OR_RETURN(std::string key, KeyOf(request.body));
  if (op == "hold") {
    if (request.fds.empty()) {
      return absl::InvalidArgumentError("hold: no fds attached");
    }
    auto old = held_.find(key);
    const size_t replaced = old == held_.end() ? 0 : old->second.size();
    if (held_fds_ - replaced + request.fds.size() + clients_.size() +
            kSpareFds >
        FdLimit()) {
      return FdsExhausted("");  // request.fds are closed with the request
    }
    held_fds_ = held_fds_ - replaced + request.fds.size();
    held_[key] = std::move(request.fds);  // replaces (closes) older ones
    return ReplyFor(absl::OkStatus());
  }
  if (!request.fds.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": takes no fds"));
  }
  auto it = held_.find(key);
  if (op == "drop") {
    if (it != held_.end()) {
      held_fds_ -= it->second.size();
      held_.erase(it);
    }
    return ReplyFor(absl::OkStatus());
  }
  if (it == held_.end()) {
    return absl::NotFoundError(absl::StrCat("keeper holds no ", key));
  }
  for (const sys::UniqueFd& fd : it->second) reply_fds->push_back(fd.get());
  return ReplyFor(absl::OkStatus());
}

absl::Status Server::FdsExhausted(absl::string_view detail) const {
  const size_t limit = FdLimit();
  return absl::ResourceExhaustedError(absl::StrCat(
      "keeper: ", held_fds_, " fds held, limit ",
      limit == SIZE_MAX ? std::string("none") : absl::StrCat(limit),
      detail.empty() ? "" : " (", detail, detail.empty() ? "" : ")"));
}

absl::StatusOr<json> Server::KeysPage(const json& body) const {
  std::string after;
  if (auto a = body.find("after"); a != body.end()) {
    if (!a->is_string()) {
      return absl::InvalidArgumentError("after: must be a string");
    }
    after = a->get<std::string>();
  }
  size_t limit = kMaxKeysPage;
  if (auto l = body.find("limit"); l != body.end()) {
    if (!l->is_number_unsigned() || l->get<uint64_t>() == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("limit: must be 1 to ", kMaxKeysPage));
    }
    limit = std::min<uint64_t>(l->get<uint64_t>(), kMaxKeysPage);
  }
  json keys = json::array();
  size_t bytes = 0;
  auto it = held_.upper_bound(after);
  for (; it != held_.end() && keys.size() < limit; ++it) {
    // As dumped (escapes included) plus its comma. A key is at most
    // kMaxKeyBytes, so the first always fits.
    bytes += json(it->first).dump().size() + 1;
    if (bytes > kKeysPageBytes && !keys.empty()) break;
    keys.push_back(it->first);
  }
  return json{{"ok", true}, {"keys", keys}, {"more", it != held_.end()}};
}

}  // namespace podsandbox::keeper
