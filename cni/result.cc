#include "cni/result.h"

#include <arpa/inet.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cni/version.h"
#include "sys/json_fields.h"
#include "sys/status.h"

namespace podsandbox::cni {
namespace {

using json = nlohmann::json;

// The address family of "addr/len", or AF_UNSPEC when it is not a CIDR.
int CidrFamily(absl::string_view cidr) {
  std::pair<std::string, std::string> parts = absl::StrSplit(cidr, '/');
  int len;
  if (!absl::SimpleAtoi(parts.second, &len) || len < 0) return AF_UNSPEC;
  unsigned char buf[sizeof(struct in6_addr)];
  if (len <= 32 && ::inet_pton(AF_INET, parts.first.c_str(), buf) == 1) {
    return AF_INET;
  }
  if (len <= 128 && ::inet_pton(AF_INET6, parts.first.c_str(), buf) == 1) {
    return AF_INET6;
  }
  return AF_UNSPEC;
}

const json* Array(const json& obj, const char* key, absl::Status* status) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  if (!it->is_array()) {
    *status = absl::InvalidArgumentError(
        absl::StrCat("result.", key, ": must be an array"));
    return nullptr;
  }
  return &*it;
}

// Calls fn(element, "result.<key>[i]") for each element of obj[key], which
// must be an array of objects when present.
template <typename Fn>
absl::Status ForEachObject(const json& obj, const char* key, Fn fn) {
  absl::Status status;
  const json* array = Array(obj, key, &status);
  RETURN_IF_ERROR(status);
  if (array == nullptr) return absl::OkStatus();
  for (size_t i = 0; i < array->size(); ++i) {
    std::string where = absl::StrCat("result.", key, "[", i, "]");
    if (!(*array)[i].is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": must be an object"));
    }
    RETURN_IF_ERROR(fn((*array)[i], where));
  }
  return absl::OkStatus();
}

absl::Status ParseDns(const json& obj, Dns* dns) {
  auto it = obj.find("dns");
  if (it == obj.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_object()) {
    return absl::InvalidArgumentError("result.dns: must be an object");
  }
  RETURN_IF_ERROR(sys::OptionalStrings(*it, "nameservers", "result.dns",
                                       &dns->nameservers));
  RETURN_IF_ERROR(
      sys::OptionalString(*it, "domain", "result.dns", &dns->domain));
  RETURN_IF_ERROR(
      sys::OptionalStrings(*it, "search", "result.dns", &dns->search));
  return sys::OptionalStrings(*it, "options", "result.dns", &dns->options);
}

}  // namespace

std::vector<std::string> Result::PodIps() const {
  std::vector<std::string> v4;
  std::vector<std::string> v6;
  for (const IpConfig& ip : ips) {
    std::string addr(
        absl::string_view(ip.address).substr(0, ip.address.find('/')));
    (CidrFamily(ip.address) == AF_INET6 ? v6 : v4).push_back(std::move(addr));
  }
  v4.insert(v4.end(), v6.begin(), v6.end());
  return v4;
}

absl::StatusOr<Result> ParseResult(absl::string_view json_text,
                                   absl::string_view default_version) {
  ASSIGN_OR_RETURN(json obj, sys::ParseJsonObject(json_text));
  Result result;
  result.cni_version = std::string(default_version);
  RETURN_IF_ERROR(
      sys::OptionalString(obj, "cniVersion", "result", &result.cni_version));
  if (!IsSupportedVersion(result.cni_version)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "result.cniVersion \"", result.cni_version, "\": not supported"));
  }
  RETURN_IF_ERROR(ForEachObject(
      obj, "interfaces", [&](const json& e, const std::string& where) {
        Interface& i = result.interfaces.emplace_back();
        RETURN_IF_ERROR(sys::OptionalString(e, "name", where, &i.name));
        RETURN_IF_ERROR(sys::OptionalString(e, "mac", where, &i.mac));
        return sys::OptionalString(e, "sandbox", where, &i.sandbox);
      }));
  RETURN_IF_ERROR(
      ForEachObject(obj, "ips", [&](const json& e, const std::string& where) {
        IpConfig& ip = result.ips.emplace_back();
        RETURN_IF_ERROR(sys::OptionalString(e, "address", where, &ip.address));
        RETURN_IF_ERROR(sys::OptionalString(e, "gateway", where, &ip.gateway));
        RETURN_IF_ERROR(sys::OptionalInt(e, "interface", where, &ip.interface));
        if (CidrFamily(ip.address) == AF_UNSPEC) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ".address \"", ip.address, "\": not a CIDR"));
        }
        if (ip.interface < -1 ||
            ip.interface >= static_cast<int>(result.interfaces.size())) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ".interface: no interface ", ip.interface));
        }
        return absl::OkStatus();
      }));
  RETURN_IF_ERROR(ForEachObject(
      obj, "routes", [&](const json& e, const std::string& where) {
        Route& r = result.routes.emplace_back();
        RETURN_IF_ERROR(sys::OptionalString(e, "dst", where, &r.dst));
        return sys::OptionalString(e, "gw", where, &r.gw);
      }));
  RETURN_IF_ERROR(ParseDns(obj, &result.dns));
  result.raw_json = std::string(json_text);
  return result;
}

}  // namespace podsandbox::cni
