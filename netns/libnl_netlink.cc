#include "netns/libnl_netlink.h"

#include <net/if.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

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
using CachePtr = std::unique_ptr<nl_cache, Deleter<nl_cache_free>>;

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

// A socket connected to rtnetlink in the calling thread's network
// namespace (the socket binds to it here, and stays bound).
absl::StatusOr<SocketPtr> ConnectRoute() {
  SocketPtr sock(nl_socket_alloc());
  if (sock == nullptr) return absl::ResourceExhaustedError("nl_socket_alloc");
  if (int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0) {
    return NetlinkError(err, "connect rtnetlink");
  }
  return sock;
}

}  // namespace

absl::StatusOr<std::vector<LinkStats>> LibnlNetlink::ListLinks() {
  absl::StatusOr<SocketPtr> sock = ConnectRoute();
  if (!sock.ok()) return sock.status();
  nl_cache* raw = nullptr;
  if (int err = rtnl_link_alloc_cache(sock->get(), AF_UNSPEC, &raw); err < 0) {
    return NetlinkError(err, "dump links");
  }
  CachePtr cache(raw);
  std::vector<LinkStats> out;
  for (nl_object* o = nl_cache_get_first(cache.get()); o != nullptr;
       o = nl_cache_get_next(o)) {
    // Borrowed from the cache, which keeps the reference.
    rtnl_link* link = reinterpret_cast<rtnl_link*>(o);
    LinkStats stats;
    const char* name = rtnl_link_get_name(link);
    stats.name = name == nullptr ? "" : name;
    stats.index = rtnl_link_get_ifindex(link);
    stats.loopback = (rtnl_link_get_flags(link) & IFF_LOOPBACK) != 0;
    stats.rx_bytes = rtnl_link_get_stat(link, RTNL_LINK_RX_BYTES);
    stats.rx_errors = rtnl_link_get_stat(link, RTNL_LINK_RX_ERRORS);
    stats.tx_bytes = rtnl_link_get_stat(link, RTNL_LINK_TX_BYTES);
    stats.tx_errors = rtnl_link_get_stat(link, RTNL_LINK_TX_ERRORS);
    out.push_back(std::move(stats));
  }
  return out;
}

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
