// Container stdout and stderr to CRI log files, without a monitor process
// per container: one thread of the daemon relays every container's output.
//
// Each container's stdout and stderr is a named FIFO in its state dir. The
// container's end is opened O_RDWR (OpenContainerEnd) and handed to the
// runtime's create as the process's fd 1 or 2: a FIFO with a reader
// open never fails a write, and the container is its own reader, so when
// the daemon is down (killed, restarting) its writes do not get EPIPE or
// SIGPIPE; they block once the pipe buffer (grown to 1 MiB) is full, and
// resume when the relay reads again. The relay opens each FIFO by path, so
// a restarted daemon reopens them and carries on where the old one
// stopped: nothing the container wrote is lost while it runs.
//
// Lines are written in the kubelet's CRI log format,
//   <RFC3339Nano UTC> <stdout|stderr> <F|P> <text>\n
// F ends a line; P is a piece of a longer one, which the kubelet joins
// with what follows. Data is never held back across reads: a read that
// ends mid-line writes that piece as P at once, so the only output a
// daemon kill can lose is one read's worth between read(2) and the log
// write; a line longer than kMaxLogLineBytes is cut into P pieces.
//
// Bytes a container wrote just before exiting while the daemon was down
// would die with the pipe's last holder, the container, but the manager
// hands an fd of each FIFO to podsandbox-keeper (keeper/server.h), which
// holds it until the exit is recorded: the restarted relay reads them. With
// no keeper, they are lost.
//
// Thread-safe. Add, Reopen, Flush and Remove may be called from any
// thread; log writes happen on the relay thread and in Flush/Remove.
#ifndef PODSANDBOX_CONTAINER_LOG_RELAY_H_
#define PODSANDBOX_CONTAINER_LOG_RELAY_H_

#include <cstddef>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sys/sys.h"
#include "sys/unique_fd.h"
#include "sys/wakeable_epoll.h"

namespace podsandbox::container {

// containerd's default max_container_log_line_size.
inline constexpr size_t kMaxLogLineBytes = 16 * 1024;

// Appends `data`, read from `stream` ("stdout" or "stderr") at `now`, to
// `out` as CRI log lines (see above). Exposed for tests.
void AppendLogLines(absl::Time now, absl::string_view stream,
                    absl::string_view data, std::string* out);

// Makes a FIFO at `path` (0600); one already there is kept if it is a FIFO.
absl::Status MakeFifo(sys::Sys& sys, const std::string& path);

// Opens the container's end of the FIFO at `path`: O_RDWR, so its writes
// never see a reader-less pipe (see above), with the pipe buffer grown.
// The caller passes it to the runtime and closes its copy.
absl::StatusOr<sys::UniqueFd> OpenContainerEnd(sys::Sys& sys,
                                               const std::string& path);

struct LogStreams {
  std::string stdout_fifo;
  std::string stderr_fifo;
  // The CRI log file (absolute); empty: output is read and dropped.
  std::string log_path;
};

class LogRelay {
 public:
  explicit LogRelay(sys::Sys& sys);
  ~LogRelay();  // stops the thread; FIFOs and log files are closed
  LogRelay(const LogRelay&) = delete;
  LogRelay& operator=(const LogRelay&) = delete;

  // Starts the relay thread. Internal if epoll or eventfd fail.
  absl::Status Start() ABSL_LOCKS_EXCLUDED(mu_);

  // Starts relaying container `id`'s FIFOs to its log file (created if
  // missing, appended to). AlreadyExists when `id` is relayed; the open
  // errors (NotFound for a missing FIFO) otherwise, with nothing kept. A
  // log file that cannot be opened is not an error: output is dropped
  // until a Reopen succeeds, as the container must not block on it.
  absl::Status Add(absl::string_view id, const LogStreams& streams)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Closes and reopens `id`'s log file at the same path (after the kubelet
  // renamed it for rotation). NotFound when `id` is not relayed; the open's
  // error otherwise (output is then dropped until the next Reopen).
  absl::Status Reopen(absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);

  // Relays whatever `id`'s FIFOs hold right now; returns when it is in the
  // log file. Call after the container exited, before reporting the exit,
  // so its last lines are in the file when the kubelet looks. No-op for an
  // unknown id.
  void Flush(absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);

  // Flushes, then stops relaying `id` and closes its FIFOs and log file.
  // No-op for an unknown id.
  void Remove(absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);

  bool IsRelaying(absl::string_view id) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Stream {
    const char* name = "";  // "stdout" / "stderr"
    sys::UniqueFd fd;
  };
  struct Container {
    std::string id;
    std::string log_path;
    absl::Mutex mu;
    sys::UniqueFd log ABSL_GUARDED_BY(mu);
    bool closed ABSL_GUARDED_BY(mu) = false;
    Stream streams[2];
  };

  void Run();
  // Reads what `stream` holds (at most `max_reads` reads) and writes it to
  // the log.
  void Drain(Container& c, Stream& stream, int max_reads)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(c.mu);
  absl::StatusOr<sys::UniqueFd> OpenLog(const std::string& path);

  sys::Sys& sys_;
  sys::WakeableEpoll epoll_;  // woken to stop
  std::unique_ptr<std::thread> thread_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_map<std::string, std::shared_ptr<Container>> by_id_
      ABSL_GUARDED_BY(mu_);
  // FIFO fd -> its container, for the relay thread's lookups.
  absl::flat_hash_map<int, std::shared_ptr<Container>> by_fd_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace podsandbox::container

#endif  // PODSANDBOX_CONTAINER_LOG_RELAY_H_
