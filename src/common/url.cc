#include "common/url.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace tamas {
namespace {

constexpr size_t kMaxUrl = 2048;

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) { return lower(c); });
  return out;
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (lower(s[i]) != prefix[i]) return false;
  }
  return true;
}

// A DNS name: labels of letters, digits and '-' (not at either end), 1..63 characters each, at
// most 253 in all; one trailing dot (the root) is allowed.
bool is_dns_name(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || host.size() > 253) return false;
  size_t start = 0;
  while (true) {
    const size_t dot = host.find('.', start);
    const std::string_view label = host.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!is_alpha(c) && !is_digit(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// Printable ASCII without space; '%' only in a %XX escape; no '#'.
Status check_target(std::string_view target) {
  for (size_t i = 0; i < target.size(); ++i) {
    const char c = target[i];
    if (c == '#') return Status::error("a fragment ('#...') is not sent to servers; remove it");
    if (c <= ' ' || c >= 0x7f) {
      return Status::error(
          "the path and query may hold only printable ASCII without spaces (percent-encode the "
          "others, e.g. %20)");
    }
    if (c == '%' && (i + 2 >= target.size() || !is_hex(target[i + 1]) || !is_hex(target[i + 2]))) {
      return Status::error("'%' must start an escape of two hex digits such as %20");
    }
  }
  return Status::ok();
}

}  // namespace

std::string HttpUrl::host_header() const {
  std::string h = ipv6 ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80)) h += ":" + std::to_string(port);
  return h;
}

std::string HttpUrl::without_query() const {
  return std::string(scheme()) + "://" + host_header() + target.substr(0, target.find('?'));
}

Result<HttpUrl> parse_http_url(std::string_view url) {
  // Shown without its query, which often carries a token (and messages end up in logs).
  const std::string_view no_query = url.substr(0, std::min(url.find('?'), size_t{200}));
  const std::string shown =
      "invalid URL '" + std::string(no_query) + (no_query.size() < url.size() ? "...'" : "'");
  auto bad = [&](std::string why) { return Status::error(shown + ": " + why); };
  if (url.empty()) return Status::error("invalid URL: it is empty");
  if (url.size() > kMaxUrl) return bad("longer than " + std::to_string(kMaxUrl) + " bytes");

  HttpUrl u;
  std::string_view rest;
  if (iequals_prefix(url, "https://")) {
    u.tls = true;
    u.port = 443;
    rest = url.substr(8);
  } else if (iequals_prefix(url, "http://")) {
    rest = url.substr(7);
  } else {
    return bad("expected http://host/path or https://host/path");
  }

  const size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  const std::string_view target =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return bad("credentials in the URL (user@host) are not supported; the secret signs requests");
  }
  if (authority.empty()) return bad("the host is missing");

  std::string_view port;
  bool has_port = false;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("an IPv6 address needs a closing ']'");
    const std::string host(authority.substr(1, close - 1));
    if (host.find('%') != std::string::npos) return bad("IPv6 zone ids are not supported");
    std::array<unsigned char, 16> bytes{};
    if (inet_pton(AF_INET6, host.c_str(), bytes.data()) != 1) {
      return bad("'" + host + "' is not an IPv6 address");
    }
    u.host = lower(host);
    u.ipv6 = true;
    u.ip_literal = true;
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("expected ':port' after the IPv6 address");
      port = after.substr(1);
      has_port = true;
    }
  } else {
    const size_t colon = authority.find(':');
    const std::string_view host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) return bad("the host is missing");
    const bool numeric =
        std::all_of(host.begin(), host.end(), [](char c) { return is_digit(c) || c == '.'; });
    if (numeric) {
      // All digits and dots: it must be a whole IPv4 address, not a name that looks like one.
      std::array<unsigned char, 4> bytes{};
      if (inet_pton(AF_INET, std::string(host).c_str(), bytes.data()) != 1) {
        return bad("'" + std::string(host) + "' is not an IPv4 address");
      }
      u.ip_literal = true;
    } else if (!is_dns_name(host)) {
      return bad("'" + std::string(host) +
                 "' is not a host name (letters, digits, '-' and '.'), an IPv4 address or an "
                 "IPv6 address in brackets");
    }
    u.host = lower(host);
  }
  if (has_port) {
    unsigned p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || !std::all_of(port.begin(), port.end(), is_digit) || ec != std::errc() ||
        ptr != port.data() + port.size() || p == 0 || p > 65535) {
      return bad("the port must be a number from 1 to 65535");
    }
    u.port = static_cast<uint16_t>(p);
  }

  if (Status s = check_target(target); !s) return bad(s.message());
  if (target.empty()) {
    u.target = "/";
  } else if (target.front() == '?') {
    u.target = "/" + std::string(target);
  } else {
    u.target = std::string(target);
  }
  return u;
}

}  // namespace tamas
