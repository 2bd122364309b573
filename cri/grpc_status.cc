#include "cri/grpc_status.h"

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace podsandbox::cri {
namespace {

// The last code both libraries define (UNAUTHENTICATED).
constexpr int kMaxCode = 16;

static_assert(static_cast<int>(absl::StatusCode::kUnauthenticated) ==
                  static_cast<int>(grpc::StatusCode::UNAUTHENTICATED),
              "absl and gRPC status codes must share their numbering");
static_assert(static_cast<int>(absl::StatusCode::kDataLoss) ==
                  static_cast<int>(grpc::StatusCode::DATA_LOSS),
              "absl and gRPC status codes must share their numbering");

bool InRange(int code) { return code >= 0 && code <= kMaxCode; }

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const int code = static_cast<int>(status.code());
  return grpc::Status(InRange(code) ? static_cast<grpc::StatusCode>(code)
                                    : grpc::StatusCode::UNKNOWN,
                      std::string(status.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  const int code = static_cast<int>(status.error_code());
  return absl::Status(InRange(code) ? static_cast<absl::StatusCode>(code)
                                    : absl::StatusCode::kUnknown,
                      status.error_message());
}

std::string GrpcCodeName(grpc::StatusCode code) {
  const int value = static_cast<int>(code);
  // absl's names are gRPC's canonical ones ("DEADLINE_EXCEEDED").
  return InRange(value)
             ? absl::StatusCodeToString(static_cast<absl::StatusCode>(value))
             : "UNKNOWN";
}

}  // namespace podsandbox::cri
