// Status conversion between absl and gRPC at the cri/ boundary.
//
// The two code sets are the same list with the same numbers (both follow
// google.rpc.Code), so codes map one to one in both directions and the
// message passes through unchanged. A value outside 0..16 (which neither
// library produces) becomes UNKNOWN rather than an out-of-range enum.
//
// Thread-safe: pure functions.
#ifndef PODSANDBOX_CRI_GRPC_STATUS_H_
#define PODSANDBOX_CRI_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace podsandbox::cri {

grpc::Status ToGrpcStatus(const absl::Status& status);

absl::Status FromGrpcStatus(const grpc::Status& status);

// "INVALID_ARGUMENT", the name gRPC's documentation and crictl use.
std::string GrpcCodeName(grpc::StatusCode code);

}  // namespace podsandbox::cri

#endif  // PODSANDBOX_CRI_GRPC_STATUS_H_
