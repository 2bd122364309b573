#include "container/log_relay.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sys/file.h"
#include "sys/log.h"
#include "sys/status.h"

namespace podsandbox::container {
namespace {

constexpr size_t kReadBytes = 64 * 1024;
// A container writing nonstop gets this many reads per wakeup, so one
// chatty container cannot starve the others (epoll is level-triggered:
// the rest is read on the next round).
constexpr int kReadsPerWakeup = 4;
// Flush and Remove read until the FIFO is empty, but a leftover process
// writing nonstop must not keep them forever: 16 MiB at most.
constexpr int kReadsPerFlush = 256;
// Enough to ride out a daemon restart for most writers (pipe-max-size's
// default; root may set it whatever that is).
constexpr int kPipeBytes = 1 << 20;

void AppendLine(absl::string_view stamp, absl::string_view stream, char tag,
                absl::string_view text, std::string* out) {
  absl::StrAppend(out, stamp, " ", stream, " ", absl::string_view(&tag, 1), " ",
                  text, "\n");
}

}  // namespace

void AppendLogLines(absl::Time now, absl::string_view stream,
                    absl::string_view data, std::string* out) {
  // Fixed nine digits: Go's RFC3339Nano parser (the kubelet's) takes any
  // number, and fixed width keeps lines sortable as text.
  std::string stamp =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E9SZ", now, absl::UTCTimeZone());
  while (!data.empty()) {
    size_t newline = data.find('\n');
    bool full = newline != absl::string_view::npos;
    absl::string_view line = full ? data.substr(0, newline) : data;
    data.remove_prefix(full ? newline + 1 : data.size());
    while (line.size() > kMaxLogLineBytes) {
      AppendLine(stamp, stream, 'P', line.substr(0, kMaxLogLineBytes), out);
      line.remove_prefix(kMaxLogLineBytes);
    }
    if (full) {
      AppendLine(stamp, stream, 'F', line, out);
    } else if (!line.empty()) {
      AppendLine(stamp, stream, 'P', line, out);
    }
  }
}

absl::Status MakeFifo(sys::Sys& sys, const std::string& path) {
  sys::SysResult r = sys.Mknodat(AT_FDCWD, path.c_str(), S_IFIFO | 0600, 0);
  if (r.ok()) return absl::OkStatus();
  if (r.err == EEXIST) {
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode)) {
      return absl::OkStatus();
    }
  }
  return sys::ErrnoError(r.err, "mkfifo %s", path);
}

absl::StatusOr<sys::UniqueFd> OpenContainerEnd(sys::Sys& sys,
                                               const std::string& path) {
  ASSIGN_OR_RETURN(sys::UniqueFd fd,
                   sys::OpenFile(sys, path, O_RDWR | O_NOFOLLOW));
  // Best effort: a smaller buffer only shortens how long a writer can go
  // on while the daemon is down. (Not a side effect outside this pipe.)
  (void)::fcntl(fd.get(), F_SETPIPE_SZ, kPipeBytes);
  return fd;
}

LogRelay::LogRelay(sys::Sys& sys) : sys_(sys) {}

LogRelay::~LogRelay() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_ != nullptr) {
    epoll_.Wake();
    thread_->join();
  }
}

absl::Status LogRelay::Start() {
  RETURN_IF_ERROR(epoll_.Init());
  thread_ = std::make_unique<std::thread>([this] { Run(); });
  return absl::OkStatus();
}

absl::StatusOr<sys::UniqueFd> LogRelay::OpenLog(const std::string& path) {
  // The kubelet makes <pod log dir>/<container>/ itself, but other clients
  // (crictl, critest) may not; the parent is the daemon's own (root's), on
  // the host, so making it hides nothing from anyone.
  if (size_t slash = path.rfind('/'); slash != std::string::npos && slash > 0) {
    RETURN_IF_ERROR(sys::MakeDirs(sys_, path.substr(0, slash), 0755));
  }
  return sys::OpenFile(sys_, path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW,
                       0640);
}

absl::Status LogRelay::Add(absl::string_view id, const LogStreams& streams) {
  auto c = std::make_shared<Container>();
  c->id = std::string(id);
  c->log_path = streams.log_path;
  const char* names[2] = {"stdout", "stderr"};
  const std::string* paths[2] = {&streams.stdout_fifo, &streams.stderr_fifo};
  for (int i = 0; i < 2; ++i) {
    // O_RDWR: with only readers, a FIFO whose writers all closed would
    // report EPOLLHUP forever; and the open never waits for a writer.
    ASSIGN_OR_RETURN(
        sys::UniqueFd fd,
        sys::OpenFile(sys_, *paths[i], O_RDWR | O_NONBLOCK | O_NOFOLLOW));
    c->streams[i].name = names[i];
    c->streams[i].fd = std::move(fd);
  }
  if (!c->log_path.empty()) {
    absl::StatusOr<sys::UniqueFd> log = OpenLog(c->log_path);
    absl::MutexLock lock(&c->mu);
    if (log.ok()) c->log = *std::move(log);
  }

  absl::MutexLock lock(&mu_);
  if (by_id_.contains(c->id)) {
    return absl::AlreadyExistsError(absl::StrCat("log relay of ", id));
  }
  for (Stream& stream : c->streams) {
    struct epoll_event ev = {};
    ev.events = EPOLLIN;
    ev.data.fd = stream.fd.get();
    if (::epoll_ctl(epoll_.fd(), EPOLL_CTL_ADD, stream.fd.get(), &ev) != 0) {
      int err = errno;
      for (Stream& added : c->streams) {
        (void)::epoll_ctl(epoll_.fd(), EPOLL_CTL_DEL, added.fd.get(), nullptr);
      }
      return sys::ErrnoError(err, "epoll_ctl add %s of %s", stream.name, id);
    }
    by_fd_[stream.fd.get()] = c;
  }
  by_id_[c->id] = std::move(c);
  return absl::OkStatus();
}

absl::Status LogRelay::Reopen(absl::string_view id) {
  std::shared_ptr<Container> c;
  {
    absl::MutexLock lock(&mu_);
    auto it = by_id_.find(id);
    if (it == by_id_.end()) {
      return absl::NotFoundError(absl::StrCat("log relay of ", id));
    }
    c = it->second;
  }
  absl::MutexLock lock(&c->mu);
  // Closed first: the old file may be gone (renamed and deleted), and
  // nothing may land in it after Reopen returns.
  c->log.reset();
  if (c->log_path.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(c->log, OpenLog(c->log_path));
  return absl::OkStatus();
}

void LogRelay::Drain(Container& c, Stream& stream, int max_reads) {
  char buf[kReadBytes];
  for (int n = 0; n < max_reads; ++n) {
    sys::SysResult r = sys_.Read(stream.fd.get(), buf, sizeof(buf));
    if (!r.ok()) {
      if (r.err == EINTR) continue;
      // EAGAIN: empty for now. Anything else cannot happen on a FIFO we
      // hold open read-write; the fd stays watched either way.
      return;
    }
    if (r.value == 0) return;
    std::string lines;
    AppendLogLines(absl::Now(), stream.name,
                   absl::string_view(buf, static_cast<size_t>(r.value)),
                   &lines);
    if (!c.log.valid()) continue;  // dropped: no log file (see Add)
    if (absl::Status s = sys::WriteAll(sys_, c.log.get(), lines); !s.ok()) {
      // The container must not block on a full disk: drop and say so.
      PSB_LOG(kWarning, "container %s: log write to %s failed: %s", c.id,
              c.log_path, s.ToString());
    }
  }
}

void LogRelay::Flush(absl::string_view id) {
  std::shared_ptr<Container> c;
  {
    absl::MutexLock lock(&mu_);
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return;
    c = it->second;
  }
  absl::MutexLock lock(&c->mu);
  if (c->closed) return;
  for (Stream& stream : c->streams) Drain(*c, stream, kReadsPerFlush);
}

void LogRelay::Remove(absl::string_view id) {
  std::shared_ptr<Container> c;
  {
    absl::MutexLock lock(&mu_);
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return;
    c = std::move(it->second);
    by_id_.erase(it);
    for (Stream& stream : c->streams) {
      (void)::epoll_ctl(epoll_.fd(), EPOLL_CTL_DEL, stream.fd.get(), nullptr);
      by_fd_.erase(stream.fd.get());
    }
  }
  absl::MutexLock lock(&c->mu);
  for (Stream& stream : c->streams) Drain(*c, stream, kReadsPerFlush);
  c->closed = true;
  for (Stream& stream : c->streams) stream.fd.reset();
  c->log.reset();
}

bool LogRelay::IsRelaying(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  return by_id_.contains(id);
}

void LogRelay::Run() {
  constexpr int kMaxEvents = 32;
  struct epoll_event events[kMaxEvents];
  while (true) {
    int n = ::epoll_wait(epoll_.fd(), events, kMaxEvents, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      PSB_LOG(kError, "log relay: epoll_wait: %s", strerror(errno));
      return;
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (epoll_.IsWakeup(fd)) {
        absl::MutexLock lock(&mu_);
        if (stopping_) return;
        continue;
      }
      std::shared_ptr<Container> c;
      {
        absl::MutexLock lock(&mu_);
        auto it = by_fd_.find(fd);
        if (it == by_fd_.end()) continue;  // removed meanwhile
        c = it->second;
      }
      absl::MutexLock lock(&c->mu);
      if (c->closed) continue;
      for (Stream& stream : c->streams) {
        if (stream.fd.get() == fd) Drain(*c, stream, kReadsPerWakeup);
      }
    }
  }
}

}  // namespace podsandbox::container
