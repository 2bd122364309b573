// The keeper's server and client over a real unix socket (no root needed),
// and the real binary started by ConnectOrSpawn and exiting when idle.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "keeper/client.h"
#include "keeper/protocol.h"
#include "keeper/server.h"
#include "nlohmann/json.hpp"
#include "sys/real_sys.h"
#include "sys/testing/status_matchers.h"
#include "sys/testing/temp_dir.h"
#include "sys/unique_fd.h"

namespace podsandbox::keeper {
namespace {

using ::podsandbox::sys::testing::IsOk;
using ::podsandbox::sys::testing::IsOkAndHolds;
using ::podsandbox::sys::testing::StatusIs;
using ::podsandbox::sys::TempDir;
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

class KeeperTest : public ::testing::Test {
 protected:
  std::string Socket() const { return tmp_.Sub("keeper.sock"); }
  sys::RealSys sys_;
  // Under /tmp: Bazel's test tmpdir is longer than sockaddr_un allows.
  TempDir tmp_{"/tmp"};
};

TEST_F(KeeperTest, HoldsTakesAndDropsAndExitsWhenIdle) {
  RunningServer server(sys_, Socket());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client,
                       Client::Connect(Socket()));
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
                         Client::Connect(Socket()));
    ASSERT_THAT(first->Hold("c1", {read_end.get(), write_end.get()}), IsOk());
  }
  read_end.reset();
  // The first client is gone; the keeper still holds, so it still serves.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> second,
                       Client::Connect(Socket()));
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
                       Client::Connect(Socket()));
  EXPECT_THAT(client->Keys(), IsOkAndHolds(IsEmpty()));
  client.reset();
  EXPECT_THAT(server.Wait(), IsOk());
}

TEST_F(KeeperTest, BadRequestsAreRefusedAndTheConnectionLives) {
  RunningServer server(sys_, Socket());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> client,
                       Client::Connect(Socket()));
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
    ASSERT_OK_AND_ASSIGN(Message reply, ReceiveMessage(raw.get()));
    EXPECT_THAT(StatusOfReply(reply.body),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << text;
  }
  // take with fds attached is refused, and the fds are not kept.
  auto [read_end, write_end] = Pipe();
  ASSERT_THAT(SendMessage(raw.get(), json{{"op", "take"}, {"key", "k"}},
                          {read_end.get()}),
              IsOk());
  ASSERT_OK_AND_ASSIGN(Message reply, ReceiveMessage(raw.get()));
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
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
  const std::string binary = std::string(cwd) + "/keeper/podsandbox-keeper";
  const std::string log = tmp_.Sub("keeper.log");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> first,
                       Client::ConnectOrSpawn(sys_, Socket(), binary, log));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Client> second,
                       Client::ConnectOrSpawn(sys_, Socket(), binary, log));
  auto [read_end, write_end] = Pipe();
  ASSERT_THAT(first->Hold("x", {read_end.get()}), IsOk());
  EXPECT_THAT(second->Keys(), IsOkAndHolds(ElementsAre("x")));
  ASSERT_THAT(second->Drop("x"), IsOk());
  first.reset();
  second.reset();
  sys::UniqueFd lock(::open((Socket() + ".lock").c_str(), O_RDWR | O_CLOEXEC));
  ASSERT_GE(lock.get(), 0);
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  bool free = false;
  while (!(free = ::flock(lock.get(), LOCK_EX | LOCK_NB) == 0) &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(free) << "the keeper did not exit when idle";
}

TEST_F(KeeperTest, NoKeeperIsUnavailable) {
  EXPECT_THAT(Client::Connect(Socket()),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(Client::ConnectOrSpawn(sys_, Socket(), "/nonexistent/keeper",
                                     tmp_.Sub("log")),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace podsandbox::keeper
