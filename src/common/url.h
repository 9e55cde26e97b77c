// Absolute http:// and https:// URLs of outside services (the tenants' webhooks), parsed strictly.
//
// Here rather than in api/ so that config loading can refuse a bad URL at load time without
// depending on the HTTP client. Pure: no IO, no name resolution, any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tamas {

struct HttpUrl {
  bool tls = false;          // https
  std::string host;          // lower-case name, IPv4 literal, or IPv6 literal without brackets
  bool ipv6 = false;         // host is an IPv6 literal
  bool ip_literal = false;   // host is an IPv4 or IPv6 literal (no name to resolve or verify)
  uint16_t port = 80;        // the given port, else 80 (http) or 443 (https)
  std::string target = "/";  // path and query as given ("/" when the URL has no path)

  std::string_view scheme() const { return tls ? "https" : "http"; }
  // The Host header: the host (IPv6 in brackets), with ":port" when not the scheme's default.
  std::string host_header() const;
  // The URL without its query, for logs: a query often carries a token.
  std::string without_query() const;
};

// Accepts "http[s]://host[:port][/path][?query]" with the scheme in any case; the host is a DNS
// name (letters, digits, '-' and '.', labels of 1..63 characters), a dotted IPv4 address or an
// IPv6 address in brackets; the port is 1..65535. The path and query are printable ASCII without
// spaces, with well-formed %XX escapes. Refused, with a message that says why: other schemes,
// credentials ("user:pass@"), a fragment ('#'), an empty host or port, IPv6 zone ids, URLs longer
// than 2048 bytes. The message shows the URL up to its query (then "...") and never the query.
Result<HttpUrl> parse_http_url(std::string_view url);

}  // namespace tamas
