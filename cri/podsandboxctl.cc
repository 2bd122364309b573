// podsandboxctl: a small crictl for podsandboxd (or any CRI v1 endpoint),
// for the pod sandbox verbs only.
//
//   podsandboxctl [--endpoint unix:///path] VERB [flags] ARGS
//     version | info
//     runp [--runtime H] POD.json     crictl's pod file: PodSandboxConfig
//                                     as protobuf JSON, original field names,
//                                     enums as names or numbers
//     pods [-q] [--id ID] [--state ready|notready] [--label k=v[,k=v]]
//     inspectp ID                     status and verbose info, as JSON
//     stopp ID... | rmp ID...
//     nsowner NETNS_PATH              the user namespace owning a netns
//                                     (NS_GET_USERNS), as "user:[inode]"
//
// inspectp, stopp and rmp take an id or any prefix of one: podsandboxctl
// lists the sandboxes and substitutes the one full id the prefix matches
// (InvalidArgument when it matches several; passed on unchanged when it
// matches none, so the server answers for an unknown id). pods --id keeps
// the sandboxes whose id starts with the value. Both happen in this client,
// against the server's ListPodSandbox.
//
// Flags: absl flags rather than CLI11 (Debian's libcli11-dev). CLI11
// reports every parse error by throwing CLI::ParseError, which STYLE.md
// forbids us to catch; absl flags is already linked, parses flags before
// and after the verb, and fails with a clear message. Its limitation: all
// verbs share one flag namespace, so a repeated flag keeps its last value
// (--label therefore takes a comma-separated list).
//
// Errors print "podsandboxctl: VERB: CODE: message" (the gRPC code name)
// and exit 1; usage errors exit 2.
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cri/api.grpc.pb.h"
#include "cri/api.pb.h"
#include "cri/grpc_status.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"
#include "sys/status.h"

ABSL_FLAG(std::string, endpoint, "",
          "CRI endpoint (default $PODSANDBOX_ENDPOINT, else "
          "unix:///run/podsandbox/podsandboxd.sock)");
ABSL_FLAG(absl::Duration, timeout, absl::Minutes(4),
          "deadline of each RPC (runp waits for CNI and the runtime)");
ABSL_FLAG(std::string, runtime, "", "runp: the runtime handler to use");
ABSL_FLAG(bool, q, false, "pods: print ids only");
ABSL_FLAG(std::string, id, "", "pods: only the sandbox with this id (prefix)");
ABSL_FLAG(std::string, state, "", "pods: only sandboxes in this state");
ABSL_FLAG(std::vector<std::string>, label, {},
          "pods: only sandboxes with these labels (k=v,k2=v2)");

namespace podsandbox::cri {
namespace {

namespace v1 = ::runtime::v1;

constexpr char kDefaultEndpoint[] = "unix:///run/podsandbox/podsandboxd.sock";

std::string Endpoint() {
  std::string endpoint = absl::GetFlag(FLAGS_endpoint);
  if (endpoint.empty()) {
    const char* env = getenv("PODSANDBOX_ENDPOINT");
    endpoint = env != nullptr && *env != '\0' ? env : kDefaultEndpoint;
  }
  // crictl accepts a bare socket path too.
  if (absl::StartsWith(endpoint, "/"))
    endpoint = absl::StrCat("unix://", endpoint);
  return endpoint;
}

class Client {
 public:
  Client()
      : stub_(v1::RuntimeService::NewStub(grpc::CreateChannel(
            Endpoint(), grpc::InsecureChannelCredentials()))) {}

  // Sets up a context with the --timeout deadline.
  static std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(
        absl::ToChronoTime(absl::Now() + absl::GetFlag(FLAGS_timeout)));
    return context;
  }

  // Calls `method` with the --timeout deadline; its status as an absl one
  // (same code, same message).
  template <typename Request, typename Response>
  absl::Status Call(grpc::Status (v1::RuntimeService::Stub::*method)(
                        grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Response* response) {
    return FromGrpcStatus(
        ((*stub_).*method)(Context().get(), request, response));
  }

 private:
  std::unique_ptr<v1::RuntimeService::Stub> stub_;
};

std::string ToJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  // As crictl prints: zero values too, so SANDBOX_READY and mode POD (both
  // 0) show.
  options.always_print_primitive_fields = true;
  // The printer fails only on messages with unresolvable Any fields, which
  // the CRI has none of.
  if (!google::protobuf::util::MessageToJsonString(message, &out, options)
           .ok()) {
    return "{}";
  }
  return out;
}

// A JSON value from an info entry: parsed when it is JSON, else the string.
nlohmann::json InfoValue(const std::string& text) {
  nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded()) return text;
  return parsed;
}

absl::StatusOr<std::vector<v1::PodSandbox>> List(
    Client& client, const v1::PodSandboxFilter& filter) {
  v1::ListPodSandboxRequest request;
  *request.mutable_filter() = filter;
  v1::ListPodSandboxResponse response;
  RETURN_IF_ERROR(client.Call(&v1::RuntimeService::Stub::ListPodSandbox,
                              request, &response));
  return std::vector<v1::PodSandbox>(response.items().begin(),
                                     response.items().end());
}

// The full id a (possibly abbreviated) id names. An id that matches
// nothing is passed through: the server decides (Stop and Remove of an
// unknown id succeed, Status is NotFound).
absl::StatusOr<std::string> ResolveId(Client& client, const std::string& id) {
  absl::StatusOr<std::vector<v1::PodSandbox>> all = List(client, {});
  if (!all.ok()) return all.status();
  std::string found;
  for (const v1::PodSandbox& pod : *all) {
    if (pod.id() == id) return id;
    if (!absl::StartsWith(pod.id(), id)) continue;
    if (!found.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("id prefix ", id, " is ambiguous"));
    }
    found = pod.id();
  }
  return found.empty() ? id : found;
}

absl::Status Version(Client& client) {
  v1::VersionRequest request;
  request.set_version("v1");
  v1::VersionResponse response;
  RETURN_IF_ERROR(
      client.Call(&v1::RuntimeService::Stub::Version, request, &response));
  printf(
      "Version:  %s\nRuntimeName:  %s\nRuntimeVersion:  %s\n"
      "RuntimeApiVersion:  %s\n",
      response.version().c_str(), response.runtime_name().c_str(),
      response.runtime_version().c_str(),
      response.runtime_api_version().c_str());
  return absl::OkStatus();
}

absl::Status Info(Client& client) {
  v1::StatusRequest request;
  request.set_verbose(true);
  v1::StatusResponse response;
  RETURN_IF_ERROR(
      client.Call(&v1::RuntimeService::Stub::Status, request, &response));
  nlohmann::json out = nlohmann::json::object();
  out["status"] = InfoValue(ToJson(response.status()));
  nlohmann::json handlers = nlohmann::json::array();
  for (const v1::RuntimeHandler& h : response.runtime_handlers()) {
    handlers.push_back(InfoValue(ToJson(h)));
  }
  out["runtimeHandlers"] = handlers;
  for (const auto& [key, value] : response.info()) out[key] = InfoValue(value);
  printf("%s\n", out.dump(2).c_str());
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("open ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status RunPod(Client& client, const std::vector<std::string>& args) {
  if (args.size() != 1) {
    return absl::InvalidArgumentError("usage: runp [--runtime H] POD.json");
  }
  absl::StatusOr<std::string> text = ReadFile(args[0]);
  if (!text.ok()) return text.status();
  v1::RunPodSandboxRequest request;
  auto parsed = google::protobuf::util::JsonStringToMessage(
      *text, request.mutable_config());
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("parse ", args[0], ": ", std::string(parsed.message())));
  }
  request.set_runtime_handler(absl::GetFlag(FLAGS_runtime));
  v1::RunPodSandboxResponse response;
  RETURN_IF_ERROR(client.Call(&v1::RuntimeService::Stub::RunPodSandbox, request,
                              &response));
  printf("%s\n", response.pod_sandbox_id().c_str());
  return absl::OkStatus();
}

absl::StatusOr<v1::PodSandboxState> ParseState(std::string state) {
  absl::AsciiStrToLower(&state);
  if (state == "ready" || state == "sandbox_ready") return v1::SANDBOX_READY;
  if (state == "notready" || state == "sandbox_notready") {
    return v1::SANDBOX_NOTREADY;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--state: \"", state, "\" is not ready or notready"));
}

std::string Ago(int64_t created_at_ns) {
  const absl::Duration age = absl::Now() - absl::FromUnixNanos(created_at_ns);
  if (age < absl::Minutes(1)) {
    return absl::StrCat(absl::ToInt64Seconds(age), " seconds ago");
  }
  if (age < absl::Hours(1)) {
    return absl::StrCat(absl::ToInt64Minutes(age), " minutes ago");
  }
  return absl::StrCat(absl::ToInt64Hours(age), " hours ago");
}

absl::Status Pods(Client& client) {
  v1::PodSandboxFilter filter;
  if (const std::string state = absl::GetFlag(FLAGS_state); !state.empty()) {
    absl::StatusOr<v1::PodSandboxState> parsed = ParseState(state);
    if (!parsed.ok()) return parsed.status();
    filter.mutable_state()->set_state(*parsed);
  }
  for (const std::string& label : absl::GetFlag(FLAGS_label)) {
    std::pair<std::string, std::string> kv = absl::StrSplit(label, '=');
    if (kv.first.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--label: \"", label, "\" is not key=value"));
    }
    (*filter.mutable_label_selector())[kv.first] = kv.second;
  }
  absl::StatusOr<std::vector<v1::PodSandbox>> pods = List(client, filter);
  if (!pods.ok()) return pods.status();
  const std::string id_prefix = absl::GetFlag(FLAGS_id);
  const bool quiet = absl::GetFlag(FLAGS_q);
  if (!quiet) {
    printf("%-13s  %-16s  %-8s  %-24s  %-16s  %-7s  %s\n", "POD ID", "CREATED",
           "STATE", "NAME", "NAMESPACE", "ATTEMPT", "RUNTIME");
  }
  for (const v1::PodSandbox& pod : *pods) {
    if (!absl::StartsWith(pod.id(), id_prefix)) continue;
    if (quiet) {
      printf("%s\n", pod.id().c_str());
      continue;
    }
    printf("%-13s  %-16s  %-8s  %-24s  %-16s  %-7u  %s\n",
           pod.id().substr(0, 13).c_str(), Ago(pod.created_at()).c_str(),
           pod.state() == v1::SANDBOX_READY ? "Ready" : "NotReady",
           pod.metadata().name().c_str(), pod.metadata().namespace_().c_str(),
           pod.metadata().attempt(), pod.runtime_handler().c_str());
  }
  return absl::OkStatus();
}

absl::Status Inspect(Client& client, const std::vector<std::string>& args) {
  if (args.size() != 1) return absl::InvalidArgumentError("usage: inspectp ID");
  absl::StatusOr<std::string> id = ResolveId(client, args[0]);
  if (!id.ok()) return id.status();
  v1::PodSandboxStatusRequest request;
  request.set_pod_sandbox_id(*id);
  request.set_verbose(true);
  v1::PodSandboxStatusResponse response;
  RETURN_IF_ERROR(client.Call(&v1::RuntimeService::Stub::PodSandboxStatus,
                              request, &response));
  // crictl's shape: {"status": <PodSandboxStatus>, "info": <info["info"]>}.
  nlohmann::json out = nlohmann::json::object();
  out["status"] = InfoValue(ToJson(response.status()));
  for (const auto& [key, value] : response.info()) out[key] = InfoValue(value);
  printf("%s\n", out.dump(2).c_str());
  return absl::OkStatus();
}

absl::Status StopOrRemove(Client& client, bool remove,
                          const std::vector<std::string>& args) {
  if (args.empty()) {
    return absl::InvalidArgumentError(remove ? "usage: rmp ID..."
                                             : "usage: stopp ID...");
  }
  for (const std::string& arg : args) {
    absl::StatusOr<std::string> id = ResolveId(client, arg);
    if (!id.ok()) return id.status();
    if (remove) {
      v1::RemovePodSandboxRequest request;
      request.set_pod_sandbox_id(*id);
      v1::RemovePodSandboxResponse response;
      RETURN_IF_ERROR(client.Call(&v1::RuntimeService::Stub::RemovePodSandbox,
                                  request, &response));
      printf("Removed sandbox %s\n", id->c_str());
    } else {
      v1::StopPodSandboxRequest request;
      request.set_pod_sandbox_id(*id);
      v1::StopPodSandboxResponse response;
      RETURN_IF_ERROR(client.Call(&v1::RuntimeService::Stub::StopPodSandbox,
                                  request, &response));
      printf("Stopped sandbox %s\n", id->c_str());
    }
  }
  return absl::OkStatus();
}

// The user namespace owning a network namespace: NS_GET_USERNS gives an fd
// for it, and its /proc/self/fd link names it as "user:[inode]", the same
// text /proc/<pid>/ns/user shows for a process inside it.
absl::Status NsOwner(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    return absl::InvalidArgumentError("usage: nsowner NETNS_PATH");
  }
  const int netns = open(args[0].c_str(), O_RDONLY | O_CLOEXEC);
  if (netns < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("open ", args[0]));
  }
  const int userns = ioctl(netns, NS_GET_USERNS);
  const int err = errno;
  close(netns);
  if (userns < 0) {
    return absl::ErrnoToStatus(err, absl::StrCat("NS_GET_USERNS ", args[0]));
  }
  char link[64];
  const std::string fd_path = absl::StrCat("/proc/self/fd/", userns);
  const ssize_t n = readlink(fd_path.c_str(), link, sizeof(link) - 1);
  close(userns);
  if (n < 0) return absl::ErrnoToStatus(errno, "readlink user ns fd");
  printf("%.*s\n", static_cast<int>(n), link);
  return absl::OkStatus();
}

int Main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "A crictl for pod sandboxes.\n"
      "  podsandboxctl [--endpoint E] version|info|runp|pods|inspectp|stopp|"
      "rmp|nsowner ...");
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  if (positional.size() < 2) {
    fprintf(stderr, "%s\n", std::string(absl::ProgramUsageMessage()).c_str());
    return 2;
  }
  const std::string verb = positional[1];
  const std::vector<std::string> args(positional.begin() + 2, positional.end());
  Client client;
  absl::Status status;
  if (verb == "version") {
    status = Version(client);
  } else if (verb == "info") {
    status = Info(client);
  } else if (verb == "runp") {
    status = RunPod(client, args);
  } else if (verb == "pods") {
    status = Pods(client);
  } else if (verb == "inspectp") {
    status = Inspect(client, args);
  } else if (verb == "stopp") {
    status = StopOrRemove(client, /*remove=*/false, args);
  } else if (verb == "rmp") {
    status = StopOrRemove(client, /*remove=*/true, args);
  } else if (verb == "nsowner") {
    status = NsOwner(args);
  } else {
    fprintf(stderr, "podsandboxctl: unknown verb \"%s\"\n%s\n", verb.c_str(),
            std::string(absl::ProgramUsageMessage()).c_str());
    return 2;
  }
  if (!status.ok()) {
    fprintf(stderr, "podsandboxctl: %s: %s: %s\n", verb.c_str(),
            absl::StatusCodeToString(status.code()).c_str(),
            std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace podsandbox::cri

int main(int argc, char** argv) { return podsandbox::cri::Main(argc, argv); }
