// The keeper's server and client over a real unix socket (no root needed),
// and the real binary started by ConnectOrSpawn and exiting when idle; the
// client replacing a keeper that died, and surviving each of its syscalls
// failing (FaultySys).
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keeper/client.h"
#include "keeper/protocol.h"
#include "keeper/server.h"
#include "nlohmann/json.hpp"
#include "sys/real_sys.h"
#include "sys/testing/capture_stderr.h"
#include "sys/testing/faulty_sys.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"
#include "sys/unique_fd.h"

namespace podsandbox::keeper {
namespace {

using ::podsandbox::sys::TempDir;
using ::podsandbox::sys::testing::CaptureStderr;
using ::podsandbox::sys::testing::IsOk;
using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using json = nlohmann::json;

// A server running on its own thread until it is idle.
class RunningServer {
 public:
  RunningServer(sys::Sys& sys, const std::string& path) {
    absl::StatusOr<std::unique_ptr<Server>> server =
        Server::Listen(sys, path, absl::Minutes(5));
    EXPECT_THAT(server.status(), IsOk());
    if (!server.ok()) return;
    server_ = std::move(*server);
    thread_ = std::thread([this] { result_ = server_->Run(); });
  }
  // Joins: the server must have become idle.
  absl::Status Wait() {
    if (thread_.joinable()) thread_.join();
    return result_;
  }
  ~RunningServer() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::unique_ptr<Server> server_;
  std::thread thread_;
  absl::Status result_ = absl::InternalError("not run");
};

std::pair<sys::UniqueFd, sys::UniqueFd> Pipe() {
  int p[2];
  EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
  return {sys::UniqueFd(p[0]), sys::UniqueFd(p[1])};
}

// Descriptors this process has open.
int OpenFds() {
  int n = 0;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir("/proc/self/fd"),
                                          ::closedir);
  while (struct dirent* e = ::readdir(dir.get())) {
    if (e->d_name[0] != '.') ++n;
  }
  return n;
}

class KeeperTest : public ::testing::Test {
 protected:
  std::string Socket() const { return tmp_.Sub("keeper.sock"); }
  std::string Log() const { return tmp_.Sub("keeper.log"); }

  // The keeper binary, as podsandboxd finds it in its runfiles.
  static std::string Binary() {
    char cwd[4096];
    EXPECT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
    return std::string(cwd) + "/keeper/podsandbox-keeper";
  }

  // The pid of the keeper serving Socket(), or 0.
  pid_t KeeperPid() const {
    const std::string want = "--socket" + std::string(1, '\0') + Socket();
    std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
    while (struct dirent* e = ::readdir(proc.get())) {
      pid_t pid = 0;
      if (!absl::SimpleAtoi(e->d_name, &pid)) continue;
      std::string cmdline;
      sys::UniqueFd fd(::open(absl::StrCat("/proc/", pid, "/cmdline").c_str(),
                              O_RDONLY | O_CLOEXEC));
      char buf[4096];
      ssize_t n = fd.get() < 0 ? 0 : ::read(fd.get(), buf, sizeof(buf));
      if (n > 0) cmdline.assign(buf, static_cast<size_t>(n));
      if (absl::StrContains(cmdline, want)) return pid;
    }
    return 0;
  }

  // SIGKILLs the keeper serving Socket() and waits until it is gone.
  void KillKeeper() {
    const pid_t pid = KeeperPid();
    ASSERT_GT(pid, 0);
    sys::UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    ASSERT_GE(pidfd.get(), 0);
    ASSERT_EQ(
        ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0), 0);
    struct pollfd p = {pidfd.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 30000), 1);
  }

  // Waits until no keeper serves Socket() (its lock came free). A keeper
  // no client ever reached would wait kFirstClientWait: a connection that
  // comes and goes tells it to leave once idle.
  bool NoKeeperLeft() {
    sys::UniqueFd lock(::open((Socket() + ".lock").c_str(),
                              O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    EXPECT_GE(lock.get(), 0);
    absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
      if (absl::Now() >= deadline) return false;
      // A nudge: a keeper that is leaving already refuses it, which is fine.
      Client::Connect(sys_, Socket()).status().IgnoreError();
      absl::SleepFor(absl::Milliseconds(10));
    }
    return true;
  }

  sys::RealSys sys_;
  // Under /tmp: Bazel's test tmpdir is longer than sockaddr_un allows.
  TempDir tmp_{"/tmp"};
};

TEST_F(KeeperTest, HoldsTakesAndDropsAndExitsWhenIdle) {
  RunningServer server(sys_, Socket());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client,
                       Client::Connect(sys_, Socket()));
  auto [read_end, write_end] = Pipe();
  ASSERT_THAT(client->Hold("a", {read_end.get()}), IsOk());
  read_end.reset();  // the keeper's copy keeps the pipe's data alive
  ASSERT_EQ(::write(write_end.get(), "x", 1), 1);
  write_end.reset();
  EXPECT_THAT(client->Keys(), IsOkAndHolds(ElementsAre("a")));
  {
    ASSERT_OK_AND_ASSIGN(std::vector<sys::UniqueFd> fds, client->Take("a"));
    ASSERT_THAT(fds, SizeIs(1));
    char c = 0;
    ASSERT_EQ(::read(fds[0].get(), &c, 1), 1);
    EXPECT_EQ(c, 'x');
  }
  // Take hands copies: it still holds "a".
  EXPECT_THAT(client->Keys(), IsOkAndHolds(ElementsAre("a")));
  ASSERT_THAT(client->Drop("a"), IsOk());
  ASSERT_THAT(client->Drop("a"), IsOk());  // idempotent
  EXPECT_THAT(client->Take("a"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(client->Keys(), IsOkAndHolds(IsEmpty()));
  client.reset();
  EXPECT_THAT(server.Wait(), IsOk());  // nothing held, nobody connected
}

TEST_F(KeeperTest, HeldFdsOutliveTheClientThatHandedThem) {
  RunningServer server(sys_, Socket());
  auto [read_end, write_end] = Pipe();
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> first,
                         Client::Connect(sys_, Socket()));
    ASSERT_THAT(first->Hold("c1", {read_end.get(), write_end.get()}), IsOk());
  }
  read_end.reset();
  // The first client is gone; the keeper still holds, so it still serves.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> second,
                       Client::Connect(sys_, Socket()));
  ASSERT_OK_AND_ASSIGN(std::vector<sys::UniqueFd> fds, second->Take("c1"));
  ASSERT_THAT(fds, SizeIs(2));
  ASSERT_EQ(::write(write_end.get(), "y", 1), 1);
  char c = 0;
  ASSERT_EQ(::read(fds[0].get(), &c, 1), 1);
  EXPECT_EQ(c, 'y');
  ASSERT_THAT(second->Drop("c1"), IsOk());
  second.reset();
  EXPECT_THAT(server.Wait(), IsOk());
}

TEST_F(KeeperTest, OneKeeperPerSocket) {
  RunningServer server(sys_, Socket());
  EXPECT_THAT(Server::Listen(sys_, Socket(), absl::Minutes(5)),
              StatusIs(absl::StatusCode::kAlreadyExists));
  // The first still answers (its socket was not replaced).
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client,
                       Client::Connect(sys_, Socket()));
  EXPECT_THAT(client->Keys(), IsOkAndHolds(IsEmpty()));
  client.reset();
  EXPECT_THAT(server.Wait(), IsOk());
}

TEST_F(KeeperTest, BadRequestsAreRefusedAndTheConnectionLives) {
  RunningServer server(sys_, Socket());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client,
                       Client::Connect(sys_, Socket()));
  EXPECT_THAT(client->Hold("k", {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(client->Take(std::string(kMaxKeyBytes + 1, 'k')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("key")));
  EXPECT_THAT(client->Take(""), StatusIs(absl::StatusCode::kInvalidArgument));
  // Raw messages the client would never send.
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, Socket().c_str());
  sys::UniqueFd raw(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::connect(raw.get(), reinterpret_cast<struct sockaddr*>(&addr),
                      sizeof(addr)),
            0);
  for (const char* text : {"not json", "[1]", R"({"op":"nope"})",
                           R"({"op":"hold","key":"k"})", R"({"op":7})"}) {
    ASSERT_EQ(::send(raw.get(), text, std::strlen(text), 0),
              static_cast<ssize_t>(std::strlen(text)));
    ASSERT_OK_AND_ASSIGN(Message reply, ReceiveMessage(sys_, raw.get()));
    EXPECT_THAT(StatusOfReply(reply.body),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << text;
  }
  // take with fds attached is refused, and the fds are not kept.
  auto [read_end, write_end] = Pipe();
  ASSERT_THAT(SendMessage(sys_, raw.get(), json{{"op", "take"}, {"key", "k"}},
                          {read_end.get()}),
              IsOk());
  ASSERT_OK_AND_ASSIGN(Message reply, ReceiveMessage(sys_, raw.get()));
  EXPECT_THAT(StatusOfReply(reply.body),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(client->Keys(), IsOkAndHolds(IsEmpty()));
  raw.reset();
  client.reset();
  EXPECT_THAT(server.Wait(), IsOk());
}

// The binary as podsandboxd starts it: ConnectOrSpawn returns a connected
// client; a second ConnectOrSpawn reaches the same keeper; once nothing is
// held and both are gone, the keeper exits (its lock comes free).
TEST_F(KeeperTest, SpawnedKeeperServesAndExitsWhenIdle) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> first,
                       Client::ConnectOrSpawn(sys_, Socket(), Binary(), Log()));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> second,
                       Client::ConnectOrSpawn(sys_, Socket(), Binary(), Log()));
  auto [read_end, write_end] = Pipe();
  ASSERT_THAT(first->Hold("x", {read_end.get()}), IsOk());
  EXPECT_THAT(second->Keys(), IsOkAndHolds(ElementsAre("x")));
  ASSERT_THAT(second->Drop("x"), IsOk());
  first.reset();
  second.reset();
  EXPECT_TRUE(NoKeeperLeft()) << "the keeper did not exit when idle";
}

// Started with a low soft fd limit (a shell's 1024 would refuse holds past
// ~340 containers), the keeper raises it to the hard limit.
TEST_F(KeeperTest, SpawnedKeeperTakesTheHardFdLimit) {
  struct rlimit saved;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_GT(saved.rlim_max, 256u) << "no room to lower the soft limit";
  struct rlimit low = {256, saved.rlim_max};
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  absl::StatusOr<std::unique_ptr<Client>> client =
      Client::ConnectOrSpawn(sys_, Socket(), Binary(), Log());
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_THAT(client.status(), IsOk());
  const pid_t pid = KeeperPid();
  ASSERT_GT(pid, 0);
  struct rlimit keeper;
  ASSERT_EQ(::prlimit(pid, RLIMIT_NOFILE, nullptr, &keeper), 0);
  EXPECT_EQ(keeper.rlim_cur, saved.rlim_max);
  client->reset();
  EXPECT_TRUE(NoKeeperLeft()) << "the keeper did not exit when idle";
}

// At its fd limit (here soft=hard=64, set by a wrapper around the start)
// the keeper refuses a hold with ResourceExhausted naming what it holds
// and its limit, rather than a truncated message, and still serves take,
// drop and keys; a freed slot is usable again.
TEST_F(KeeperTest, HoldPastTheFdLimitIsResourceExhaustedAndServingGoesOn) {
  const std::string wrapper = tmp_.Sub("keeper-64");
  {
    sys::UniqueFd file(
        ::open(wrapper.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755));
    ASSERT_GE(file.get(), 0);
    const std::string script = absl::StrCat(
        "#!/bin/sh\nulimit -n 64 || exit 3\nexec '", Binary(), "' \"$@\"\n");
    ASSERT_EQ(::write(file.get(), script.data(), script.size()),
              static_cast<ssize_t>(script.size()));
  }
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client,
                       Client::ConnectOrSpawn(sys_, Socket(), wrapper, Log()));
  const pid_t pid = KeeperPid();
  ASSERT_GT(pid, 0);
  struct rlimit limit;
  ASSERT_EQ(::prlimit(pid, RLIMIT_NOFILE, nullptr, &limit), 0);
  ASSERT_EQ(limit.rlim_cur, 64u);
  auto [read_end, write_end] = Pipe();
  const std::vector<int> three = {read_end.get(), write_end.get(),
                                  read_end.get()};
  int held = 0;
  absl::Status refused;
  for (; held < 64; ++held) {
    refused = client->Hold(absl::StrCat("c", held), three);
    if (!refused.ok()) break;
  }
  ASSERT_GT(held, 0);
  ASSERT_LT(held, 64) << "never refused";
  EXPECT_THAT(refused,
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr(absl::StrCat("keeper: ", 3 * held,
                                              " fds held, limit 64"))));
  // Still served, on the same connection.
  ASSERT_OK_AND_ASSIGN(std::vector<sys::UniqueFd> fds, client->Take("c0"));
  EXPECT_THAT(fds, SizeIs(3));
  fds.clear();
  EXPECT_THAT(client->Keys(), IsOkAndHolds(SizeIs(held)));
  ASSERT_THAT(client->Drop("c0"), IsOk());
  EXPECT_THAT(client->Hold("again", three), IsOk());
  ASSERT_THAT(client->Drop("again"), IsOk());
  for (int i = 1; i < held; ++i) {
    ASSERT_THAT(client->Drop(absl::StrCat("c", i)), IsOk());
  }
  client.reset();
  EXPECT_TRUE(NoKeeperLeft()) << "the keeper did not exit when idle";
}

// Fds the kernel could not pass (MSG_CTRUNC: here more than kMaxFds, as at
// the fd limit) are a ResourceExhausted request: the keeper answers with
// what it holds and its limit, keeps none of them, and serves on.
TEST_F(KeeperTest, FdsLostInTransitAreResourceExhausted) {
  RunningServer server(sys_, Socket());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client,
                       Client::Connect(sys_, Socket()));
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, Socket().c_str());
  sys::UniqueFd raw(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::connect(raw.get(), reinterpret_cast<struct sockaddr*>(&addr),
                      sizeof(addr)),
            0);
  auto [read_end, write_end] = Pipe();
  // Both connections accepted (a round trip each) before counting fds.
  ASSERT_THAT(client->Keys(), IsOkAndHolds(IsEmpty()));
  ASSERT_THAT(SendMessage(sys_, raw.get(), json{{"op", "keys"}}, {}), IsOk());
  ASSERT_THAT(ReceiveMessage(sys_, raw.get()).status(), IsOk());
  const int fds_before = OpenFds();
  // SendMessage refuses more than kMaxFds: a raw sendmsg does not.
  const std::string text = json{{"op", "hold"}, {"key", "k"}}.dump();
  std::vector<int> many(kMaxFds + 1, read_end.get());
  struct iovec iov = {const_cast<char*>(text.data()), text.size()};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * (kMaxFds + 1))];
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int) * many.size());
  std::memcpy(CMSG_DATA(cmsg), many.data(), sizeof(int) * many.size());
  ASSERT_EQ(::sendmsg(raw.get(), &msg, 0), static_cast<ssize_t>(text.size()));
  ASSERT_OK_AND_ASSIGN(Message reply, ReceiveMessage(sys_, raw.get()));
  EXPECT_THAT(StatusOfReply(reply.body),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("keeper: 0 fds held, limit ")));
  EXPECT_THAT(client->Keys(), IsOkAndHolds(IsEmpty()));
  EXPECT_EQ(OpenFds(), fds_before) << "the keeper kept fds it refused";
  raw.reset();
  client.reset();
  EXPECT_THAT(server.Wait(), IsOk());
}

// More keys than one reply can carry (1000 of 250 bytes: ~250 KB, past
// kMaxMessageBytes): the keeper answers a page at a time with "more", and
// Keys() gathers every key once, in order, whatever the page size.
TEST_F(KeeperTest, KeysArePagedPastOneMessage) {
  RunningServer server(sys_, Socket());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client,
                       Client::Connect(sys_, Socket()));
  auto [read_end, write_end] = Pipe();
  std::vector<std::string> want;
  for (int i = 0; i < 1000; ++i) {
    std::string key = absl::StrCat(i);
    key = std::string(4 - key.size(), '0') + key + std::string(246, 'k');
    ASSERT_THAT(client->Hold(key, {read_end.get()}), IsOk());
    want.push_back(key);
  }
  ASSERT_GT(want.size() * want.front().size(), kMaxMessageBytes);
  EXPECT_THAT(client->Keys(), IsOkAndHolds(want));
  EXPECT_THAT(client->Keys(7), IsOkAndHolds(want));  // 143 pages
  // One raw request: a page short of every key, and it says more follow.
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, Socket().c_str());
  sys::UniqueFd raw(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::connect(raw.get(), reinterpret_cast<struct sockaddr*>(&addr),
                      sizeof(addr)),
            0);
  ASSERT_THAT(SendMessage(sys_, raw.get(), json{{"op", "keys"}}, {}), IsOk());
  ASSERT_OK_AND_ASSIGN(Message reply, ReceiveMessage(sys_, raw.get()));
  EXPECT_GT(reply.body["keys"].size(), 0u);
  EXPECT_LT(reply.body["keys"].size(), want.size());
  EXPECT_EQ(reply.body["more"], true);
  ASSERT_THAT(SendMessage(sys_, raw.get(),
                          json{{"op", "keys"}, {"after", want[997]}}, {}),
              IsOk());
  ASSERT_OK_AND_ASSIGN(reply, ReceiveMessage(sys_, raw.get()));
  EXPECT_EQ(reply.body["keys"], json({want[998], want[999]}));
  EXPECT_EQ(reply.body["more"], false);
  raw.reset();
  for (const std::string& key : want) ASSERT_THAT(client->Drop(key), IsOk());
  client.reset();
  EXPECT_THAT(server.Wait(), IsOk());
}

// The keeper killed under a connected client: the next call finds the
// connection gone, starts a new keeper, says so, and is served; what the
// old one held is gone, what is handed over now is held.
TEST_F(KeeperTest, KilledKeeperIsReplacedByTheNextCall) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client,
                       Client::ConnectOrSpawn(sys_, Socket(), Binary(), Log()));
  std::pair<sys::UniqueFd, sys::UniqueFd> pipe = Pipe();
  ASSERT_THAT(client->Hold("old", {pipe.first.get()}), IsOk());
  const pid_t old_keeper = KeeperPid();
  ASSERT_NO_FATAL_FAILURE(KillKeeper());
  absl::Status held;
  std::string log =
      CaptureStderr([&] { held = client->Hold("new", {pipe.second.get()}); });
  ASSERT_THAT(held, IsOk());
  EXPECT_THAT(log, HasSubstr("keeper: reconnected"));
  EXPECT_NE(KeeperPid(), old_keeper);
  EXPECT_THAT(client->Keys(), IsOkAndHolds(ElementsAre("new")));
  ASSERT_THAT(client->Drop("new"), IsOk());
  client.reset();
  EXPECT_TRUE(NoKeeperLeft());
}

// The keeper killed and no new one can be started (its binary gone): each
// call says Unavailable (callers log it and go on without a keeper), and
// once a keeper can be started again the next call has one.
TEST_F(KeeperTest, NoKeeperStartableIsUnavailableUntilOneIs) {
  const std::string binary = tmp_.Sub("podsandbox-keeper");
  ASSERT_EQ(::symlink(Binary().c_str(), binary.c_str()), 0);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client,
                       Client::ConnectOrSpawn(sys_, Socket(), binary, Log()));
  auto [read_end, write_end] = Pipe();
  ASSERT_THAT(client->Hold("a", {read_end.get()}), IsOk());
  ASSERT_NO_FATAL_FAILURE(KillKeeper());
  ASSERT_EQ(::unlink(binary.c_str()), 0);
  EXPECT_THAT(client->Hold("b", {read_end.get()}),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(client->Keys(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(client->Drop("a"), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_EQ(::symlink(Binary().c_str(), binary.c_str()), 0);
  EXPECT_THAT(client->Keys(), IsOkAndHolds(IsEmpty()));
  ASSERT_THAT(client->Hold("b", {read_end.get()}), IsOk());
  EXPECT_THAT(client->Keys(), IsOkAndHolds(ElementsAre("b")));
  ASSERT_THAT(client->Drop("b"), IsOk());
  client.reset();
  EXPECT_TRUE(NoKeeperLeft());
}

// Every syscall the daemon's side makes (connect or start at daemon
// start, a create's hold, a restart's take and keys, an exit's drop)
// failing in turn, with a hard error and with a lost peer: a failed start
// leaves the daemon without a keeper; a failed call is Unavailable (the
// manager logs it and goes on) and the next one is served again; a lost
// peer on send or receive is retried and the call succeeds. No fd leaks,
// and each fault fired.
TEST_F(KeeperTest, EachClientSyscallFailingLeavesTheNextCallServed) {
  sys::FaultySys faulty(sys_);
  struct Step {
    absl::Status status;
    bool fault_fired = false;
  };
  struct Run {
    std::vector<Step> steps;  // those that ran
    std::array<int, sys::kSysCallCount> counts;
    int fired = 0;
  };
  // One daemon's use of the keeper with `c` the call being failed (for
  // fired()); then, the fault dropped, whether the client is served.
  auto run = [&](sys::SysCall c) {
    Run out;
    auto step = [&](auto&& f) {
      int before = faulty.fired(c);
      absl::Status s = f();
      out.steps.push_back({s, faulty.fired(c) != before});
    };
    std::unique_ptr<Client> client;
    step([&] {
      absl::StatusOr<std::unique_ptr<Client>> made =
          Client::ConnectOrSpawn(faulty, Socket(), Binary(), Log());
      if (made.ok()) client = std::move(*made);
      return made.status();
    });
    // Another client keeps the keeper from leaving idle when ours drops
    // its connection (the retry would race its exit).
    absl::StatusOr<std::unique_ptr<Client>> anchor =
        absl::UnavailableError("no keeper");
    std::pair<sys::UniqueFd, sys::UniqueFd> pipe = Pipe();
    if (client != nullptr) {
      anchor = Client::Connect(sys_, Socket());
      EXPECT_THAT(anchor.status(), IsOk());
      step([&] { return client->Hold("c", {pipe.first.get()}); });
      step([&] { return client->Take("c").status(); });
      step([&] { return client->Keys().status(); });
      step([&] { return client->Drop("c"); });
    }
    for (int i = 0; i < sys::kSysCallCount; ++i) {
      out.counts[i] = faulty.count(static_cast<sys::SysCall>(i));
    }
    out.fired = faulty.fired(c);
    faulty.Reset();
    if (client != nullptr) {
      // Whatever failed, the next call is served.
      EXPECT_THAT(client->Keys(), IsOk());
      EXPECT_THAT(client->Drop("c"), IsOk());
    }
    return out;
  };

  ASSERT_TRUE(NoKeeperLeft());
  faulty.Reset();
  Run probe = run(sys::SysCall::kOpen);
  ASSERT_EQ(probe.steps.size(), 5u);
  for (const Step& s : probe.steps) ASSERT_THAT(s.status, IsOk());
  ASSERT_TRUE(NoKeeperLeft());
  for (sys::SysCall c : {sys::SysCall::kSocket, sys::SysCall::kConnect,
                         sys::SysCall::kSetsockopt, sys::SysCall::kSendmsg,
                         sys::SysCall::kRecvmsg}) {
    ASSERT_GT(probe.counts[static_cast<int>(c)], 0) << sys::SysCallName(c);
  }
  int faults = 0;
  for (int i = 0; i < sys::kSysCallCount; ++i) {
    const sys::SysCall c = static_cast<sys::SysCall>(i);
    for (int n = 1; n <= probe.counts[i]; ++n) {
      for (int err : {EIO, ECONNRESET}) {
        SCOPED_TRACE(absl::StrCat(sys::SysCallName(c), " #", n, ": ",
                                  std::strerror(err)));
        const int fds = OpenFds();
        faulty.FailNth(c, n, err);
        Run result = run(c);
        EXPECT_EQ(result.fired, 1);
        const bool lost_peer =
            err == ECONNRESET &&
            (c == sys::SysCall::kSendmsg || c == sys::SysCall::kRecvmsg);
        for (size_t k = 0; k < result.steps.size(); ++k) {
          SCOPED_TRACE(absl::StrCat("step ", k));
          const Step& s = result.steps[k];
          if (k == 0) {
            // Start: no keeper for this daemon (podsandboxd logs it).
            if (!s.status.ok()) EXPECT_TRUE(s.fault_fired);
          } else if (s.fault_fired && lost_peer) {
            EXPECT_THAT(s.status, IsOk());  // reconnected and sent again
          } else if (s.fault_fired) {
            EXPECT_THAT(s.status, StatusIs(absl::StatusCode::kUnavailable));
          } else if (k == 2 && !result.steps[1].status.ok()) {
            // The hold's reply was lost: it may or may not have arrived.
            EXPECT_THAT(s.status.code(), AnyOf(absl::StatusCode::kOk,
                                               absl::StatusCode::kNotFound));
          } else {
            EXPECT_THAT(s.status, IsOk());
          }
        }
        EXPECT_TRUE(NoKeeperLeft());
        EXPECT_EQ(OpenFds(), fds) << "fds leaked";
        ++faults;
      }
    }
  }
  EXPECT_GT(faults, 0);
  std::string calls;
  for (int i = 0; i < sys::kSysCallCount; ++i) {
    if (probe.counts[i] == 0) continue;
    absl::StrAppend(&calls, sys::SysCallName(static_cast<sys::SysCall>(i)), "=",
                    probe.counts[i], " ");
  }
  RecordProperty("faults", faults);
  RecordProperty("calls", calls);
}

TEST_F(KeeperTest, NoKeeperIsUnavailable) {
  EXPECT_THAT(Client::Connect(sys_, Socket()),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(
      Client::ConnectOrSpawn(sys_, Socket(), "/nonexistent/keeper", Log()),
      StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace podsandbox::keeper
