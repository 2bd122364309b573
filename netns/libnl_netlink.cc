#include "netns/libnl_netlink.h"

#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"

namespace podsandbox::netns {
namespace {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using SocketPtr = std::unique_ptr<nl_sock, Deleter<nl_socket_free>>;
using LinkPtr = std::unique_ptr<rtnl_link, Deleter<rtnl_link_put>>;

absl::Status NetlinkError(int err, absl::string_view operation) {
  std::string message = absl::StrCat(operation, ": ", nl_geterror(err));
  // libnl error codes are negative and its own.
  switch (-err) {
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV:
      return absl::NotFoundError(message);
    case NLE_PERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace

absl::Status LibnlNetlink::SetLinkUp(absl::string_view ifname) {
  std::string name(ifname);
  // The socket binds to the calling thread's network namespace here.
  SocketPtr sock(nl_socket_alloc());
  if (sock == nullptr) return absl::ResourceExhaustedError("nl_socket_alloc");
  if (int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0) {
    return NetlinkError(err, "connect rtnetlink");
  }
  rtnl_link* raw = nullptr;
  if (int err = rtnl_link_get_kernel(sock.get(), 0, name.c_str(), &raw);
      err < 0) {
    return NetlinkError(err, absl::StrCat("get link ", name));
  }
  LinkPtr link(raw);
  LinkPtr change(rtnl_link_alloc());
  if (change == nullptr) return absl::ResourceExhaustedError("rtnl_link_alloc");
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (int err = rtnl_link_change(sock.get(), link.get(), change.get(), 0);
      err < 0) {
    return NetlinkError(err, absl::StrCat("set link ", name, " up"));
  }
  return absl::OkStatus();
}

}  // namespace podsandbox::netns
