// The fd keeper's wire format (keeper/server.h, keeper/client.h): one
// request, one reply, each a single SOCK_SEQPACKET message whose bytes are
// a JSON object and whose SCM_RIGHTS carry the descriptors it speaks of.
//
//   {"op":"hold","key":K}  + 1..kMaxFds fds   -> {"ok":true}
//   {"op":"take","key":K}                     -> {"ok":true} + the fds
//                                                 (copies: still held)
//   {"op":"drop","key":K}                     -> {"ok":true} (unknown: too)
//   {"op":"keys","after":A,"limit":N}         -> {"ok":true,"keys":[K...],
//                                                  "more":B}
//     (keys after A in byte order, at most N and what fits a message;
//      both optional; "more": keys remain past the last one)
//   any failure                               -> {"ok":false,"code":C,
//                                                  "error":"<message>"}
// C is an absl::StatusCode name ("NOT_FOUND", "INVALID_ARGUMENT", ...).
//
// SEQPACKET keeps message boundaries, so a message is read whole or
// refused (MSG_TRUNC, MSG_CTRUNC) and fds never arrive split from their
// request. Thread-compatible functions; no state.
#ifndef PODSANDBOX_KEEPER_PROTOCOL_H_
#define PODSANDBOX_KEEPER_PROTOCOL_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "sys/sys.h"
#include "sys/unique_fd.h"

namespace podsandbox::keeper {

// Descriptors one key may hold (a pidfd and a container's two FIFOs need 3).
inline constexpr size_t kMaxFds = 16;
// Longest key (a container id is 64).
inline constexpr size_t kMaxKeyBytes = 256;
// Longest message read (the kernel's default socket send buffer, 212992
// bytes, bounds it anyway); keys replies are paged to stay under it.
inline constexpr size_t kMaxMessageBytes = 192 * 1024;

struct Message {
  nlohmann::json body;
  std::vector<sys::UniqueFd> fds;
};

// Sends `body` with `fds` (borrowed; the kernel passes copies) as one
// message, through `sys`. Never raises SIGPIPE. Unavailable exactly when
// the peer is gone (EPIPE, ECONNRESET, ENOTCONN, ECONNREFUSED): the
// client's cue to reconnect and send again; DeadlineExceeded when the
// socket's send timeout ran out; InvalidArgument for too many fds or too
// long a body; Internal for any other errno.
absl::Status SendMessage(sys::Sys& sys, int socket, const nlohmann::json& body,
                         const std::vector<int>& fds);

// Receives one message (blocking), through `sys`. Unavailable exactly when
// the peer closed the connection or is gone; DeadlineExceeded when the
// socket's receive timeout ran out; InvalidArgument for a truncated
// message or a body that is not a JSON object; ResourceExhausted when fds
// were lost in transit (MSG_CTRUNC: this process at its fd limit, or more
// than kMaxFds sent); any fds that came are then closed; Internal for any
// other errno.
absl::StatusOr<Message> ReceiveMessage(sys::Sys& sys, int socket);

// The reply for `status`: {"ok":true} or the failure form above.
nlohmann::json ReplyFor(const absl::Status& status);
// The Status a reply stands for (its "code" and "error"); Internal for a
// reply that is not of either form.
absl::Status StatusOfReply(const nlohmann::json& reply);

}  // namespace podsandbox::keeper

#endif  // PODSANDBOX_KEEPER_PROTOCOL_H_
