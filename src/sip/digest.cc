// Server-side Digest authentication (see digest.h). Thread rules as there: no state but the
// immutable configuration, no clock, no I/O. Pure functions over strings; the hashes, the
// HMAC and the constant-time comparison come from OpenSSL's libcrypto, the one place in Tamas that
// includes it. libcrypto is a well-kept library and already loaded into the process by sofia-sip
// (built with TLS), so it costs a link line, not a new runtime dependency.
#include "sip/digest.h"

#include <algorithm>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cassert>
#include <cstring>

namespace tamas::sip {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string to_hex(const unsigned char* data, size_t size) {
  std::string out(size * 2, '\0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 0x0f];
  }
  return out;
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool all_hex(std::string_view s) {
  for (char c : s) {
    if (!is_hex(c)) return false;
  }
  return true;
}

// Constant time in the contents (the lengths are public: they follow from the algorithm).
bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

size_t hex_length(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::kMd5 ? 32 : 64;
}

const EVP_MD* evp(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::kMd5 ? EVP_md5() : EVP_sha256();
}

// What a header may show of a bad value in an error message: short, printable.
std::string excerpt(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out;
  for (char c : s.substr(0, kMax)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  if (s.size() > kMax) out += "...";
  return out;
}

// ---- the header parser ----

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::strchr("-.!%*_+`'~", c) != nullptr && c != '\0';
}

bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}

// One pass over the value; every failure says what and where.
class CredentialsParser {
 public:
  explicit CredentialsParser(std::string_view text) : s_(text) {}

  Result<DigestCredentials> parse() {
    if (s_.size() > kMaxCredentialsLength) {
      return fail("is " + std::to_string(s_.size()) + " bytes long, more than the " +
                  std::to_string(kMaxCredentialsLength) + " accepted");
    }
    skip_space();
    const size_t scheme_start = i_;
    while (i_ < s_.size() && is_token_char(s_[i_])) ++i_;
    const std::string_view scheme = s_.substr(scheme_start, i_ - scheme_start);
    if (scheme.empty()) return fail("is empty or does not start with a scheme");
    if (!iequals(scheme, "Digest")) {
      return fail("uses the scheme '" + excerpt(scheme) + "', not Digest");
    }
    if (i_ < s_.size() && !is_space(s_[i_])) {
      return fail("has no space after the Digest scheme");
    }

    Seen seen;
    DigestCredentials c;
    std::string algorithm, qop, userhash;
    bool any = false;
    while (true) {
      skip_space();
      if (i_ >= s_.size()) break;
      if (s_[i_] == ',') {  // empty list elements are allowed (RFC 7230 §7)
        ++i_;
        continue;
      }
      std::string name, value;
      if (Status st = param(name, value); !st) return st;
      any = true;
      std::string* slot = nullptr;
      int bit = -1;
      if (name == "username")
        slot = &c.username, bit = 0;
      else if (name == "realm")
        slot = &c.realm, bit = 1;
      else if (name == "nonce")
        slot = &c.nonce, bit = 2;
      else if (name == "uri")
        slot = &c.uri, bit = 3;
      else if (name == "response")
        slot = &c.response, bit = 4;
      else if (name == "algorithm")
        slot = &algorithm, bit = 5;
      else if (name == "cnonce")
        slot = &c.cnonce, bit = 6;
      else if (name == "nc")
        slot = &c.nc, bit = 7;
      else if (name == "qop")
        slot = &qop, bit = 8;
      else if (name == "opaque")
        slot = &c.opaque, bit = 9;
      else if (name == "userhash")
        slot = &userhash, bit = 10;
      if (slot != nullptr) {
        if (seen.test(bit)) return fail("has the parameter '" + name + "' twice");
        seen.set(bit);
        *slot = std::move(value);
      }
      skip_space();
      if (i_ >= s_.size()) break;
      if (s_[i_] != ',') {
        return fail("has '" + excerpt(s_.substr(i_)) + "' after the parameter '" + name +
                    "' where a comma or the end was expected");
      }
      ++i_;
    }
    if (!any) return fail("has no parameters after Digest");

    for (auto [bit, field] :
         {std::pair{0, "username"}, {1, "realm"}, {2, "nonce"}, {3, "uri"}, {4, "response"}}) {
      if (!seen.test(bit)) return fail(std::string("lacks the parameter '") + field + "'");
    }
    if (!algorithm.empty() || seen.test(5)) {
      if (iequals(algorithm, "MD5")) {
        c.algorithm = DigestAlgorithm::kMd5;
      } else if (iequals(algorithm, "SHA-256")) {
        c.algorithm = DigestAlgorithm::kSha256;
      } else {
        return fail("asks for algorithm=" + excerpt(algorithm) +
                    "; only MD5 and SHA-256 are supported");
      }
    }
    if (seen.test(8)) {
      if (!iequals(qop, "auth")) {
        return fail("asks for qop=" + excerpt(qop) + "; only qop=auth is supported");
      }
      c.has_qop = true;
    }
    if (seen.test(10) && !iequals(userhash, "false")) {
      return fail("asks for userhash=" + excerpt(userhash) + ", which is not supported");
    }
    c.response = lowercase(c.response);
    c.nc = lowercase(c.nc);
    return check(std::move(c));
  }

 private:
  struct Seen {
    uint32_t bits = 0;
    bool test(int b) const { return (bits >> b) & 1u; }
    void set(int b) { bits |= 1u << b; }
  };

  Status fail(const std::string& what) const { return Status::error("Digest credentials " + what); }

  void skip_space() {
    while (i_ < s_.size() && is_space(s_[i_])) ++i_;
  }

  // name EQUAL (token | quoted-string); the name lowercased, the value unquoted.
  Status param(std::string& name, std::string& value) {
    const size_t start = i_;
    while (i_ < s_.size() && is_token_char(s_[i_])) ++i_;
    if (i_ == start) {
      return fail("has '" + excerpt(s_.substr(i_)) + "' where a parameter name was expected");
    }
    name = lowercase(s_.substr(start, i_ - start));
    skip_space();
    if (i_ >= s_.size() || s_[i_] != '=') return fail("has no '=' after '" + excerpt(name) + "'");
    ++i_;
    skip_space();
    if (i_ < s_.size() && s_[i_] == '"') {
      ++i_;
      while (true) {
        if (i_ >= s_.size()) return fail("has an unterminated quote in '" + excerpt(name) + "'");
        char c = s_[i_++];
        if (c == '"') break;
        if (c == '\\') {
          if (i_ >= s_.size()) return fail("has an unterminated quote in '" + excerpt(name) + "'");
          c = s_[i_++];
        }
        if (is_control(c)) return fail("has a control character in '" + excerpt(name) + "'");
        value += c;
      }
    } else {
      // A token by the grammar; tolerated: any printable run up to a comma or a space, since some
      // phones leave values such as the algorithm or a base64 nonce unquoted.
      const size_t vstart = i_;
      while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '"' && !is_space(s_[i_])) {
        if (is_control(s_[i_])) return fail("has a control character in '" + excerpt(name) + "'");
        ++i_;
      }
      if (i_ == vstart) return fail("has no value for '" + excerpt(name) + "'");
      value.assign(s_.substr(vstart, i_ - vstart));
    }
    if (value.size() > kMaxDigestParamLength) {
      return fail("has a value of " + std::to_string(value.size()) + " bytes for '" +
                  excerpt(name) + "', more than the " + std::to_string(kMaxDigestParamLength) +
                  " accepted");
    }
    return Status::ok();
  }

  Result<DigestCredentials> check(DigestCredentials c) const {
    for (auto [v, field] : {std::pair{&c.username, "username"},
                            {&c.realm, "realm"},
                            {&c.nonce, "nonce"},
                            {&c.uri, "uri"}}) {
      if (v->empty()) return fail(std::string("have an empty '") + field + "'");
    }
    if (c.response.size() != hex_length(c.algorithm) || !all_hex(c.response)) {
      return fail("have a response that is not " + std::to_string(hex_length(c.algorithm)) +
                  " hex digits, as " + std::string(algorithm_name(c.algorithm)) + " needs");
    }
    if (c.has_qop) {
      if (c.cnonce.empty()) return fail("have qop=auth but no cnonce");
      if (c.nc.size() != 8 || !all_hex(c.nc))
        return fail("have qop=auth but nc is not 8 hex digits");
    } else if (!c.cnonce.empty() || !c.nc.empty()) {
      return fail("have cnonce or nc without qop");
    }
    return c;
  }

  std::string_view s_;
  size_t i_ = 0;
};

// Escapes a value for a quoted-string.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

constexpr std::string_view kDummyPassword = "tamas: no such user; this only keeps timing even";

}  // namespace

std::string_view algorithm_name(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::kMd5 ? "MD5" : "SHA-256";
}

std::string_view verdict_name(DigestVerdict verdict) {
  switch (verdict) {
    case DigestVerdict::kOk:
      return "ok";
    case DigestVerdict::kWrongCredentials:
      return "wrong credentials";
    case DigestVerdict::kStale:
      return "stale nonce";
    case DigestVerdict::kMalformed:
      return "malformed credentials";
  }
  return "?";
}

std::string digest_hex(DigestAlgorithm algorithm, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int size = 0;
  const int rc = EVP_Digest(data.data(), data.size(), md.data(), &size, evp(algorithm), nullptr);
  // Only fails on allocation failure or when the provider lacks the algorithm (MD5 under a
  // FIPS-only configuration): nothing a caller could handle, and an empty hash never matches.
  if (rc != 1) return std::string();
  return to_hex(md.data(), size);
}

std::string digest_ha1(DigestAlgorithm algorithm, std::string_view username, std::string_view realm,
                       std::string_view password) {
  std::string a1;
  a1.reserve(username.size() + realm.size() + password.size() + 2);
  a1.append(username).append(":").append(realm).append(":").append(password);
  return digest_hex(algorithm, a1);
}

std::string digest_response(const DigestCredentials& c, std::string_view method,
                            std::string_view ha1) {
  std::string a2;
  a2.append(method).append(":").append(c.uri);
  const std::string ha2 = digest_hex(c.algorithm, a2);
  std::string kd;
  kd.append(ha1).append(":").append(c.nonce).append(":");
  if (c.has_qop) kd.append(c.nc).append(":").append(c.cnonce).append(":auth:");
  kd.append(ha2);
  return digest_hex(c.algorithm, kd);
}

Result<DigestCredentials> parse_credentials(std::string_view header_value) {
  return CredentialsParser(header_value).parse();
}

DigestSecret DigestSecret::from_password(std::string password) {
  DigestSecret s;
  s.password = std::move(password);
  return s;
}

DigestSecret DigestSecret::from_ha1(std::string ha1_md5, std::string ha1_sha256) {
  DigestSecret s;
  s.ha1_md5 = lowercase(ha1_md5);
  s.ha1_sha256 = lowercase(ha1_sha256);
  return s;
}

Result<DigestAuthenticator> DigestAuthenticator::create(DigestConfig config) {
  if (config.realm.empty()) return Status::error("digest: the realm is empty");
  for (char c : config.realm) {
    if (is_control(c)) return Status::error("digest: the realm holds a control character");
  }
  if (config.secret.size() < kMinSecretLength) {
    return Status::error("digest: the nonce secret has " + std::to_string(config.secret.size()) +
                         " bytes; give at least " + std::to_string(kMinSecretLength));
  }
  if (config.nonce_lifetime <= Duration::zero()) {
    return Status::error("digest: the nonce lifetime must be positive");
  }
  if (config.clock_skew < Duration::zero()) {
    return Status::error("digest: the clock skew must not be negative");
  }
  return DigestAuthenticator(std::move(config));
}

std::string DigestAuthenticator::nonce_mac(uint64_t millis) const {
  std::string msg;
  for (int shift = 60; shift >= 0; shift -= 4) msg += kHex[(millis >> shift) & 0xf];
  msg.append(":").append(config_.realm);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int size = 0;
  const unsigned char* rc =
      HMAC(EVP_sha256(), config_.secret.data(), static_cast<int>(config_.secret.size()),
           reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac.data(), &size);
  if (rc == nullptr || size < 16) return std::string();  // never matches a nonce's 32 digits
  return to_hex(mac.data(), 16);  // 128 bits: forging one is as hard as guessing it
}

std::string DigestAuthenticator::make_nonce(TimePoint now) const {
  const auto millis = static_cast<uint64_t>(now.time_since_epoch().count());
  std::string nonce;
  for (int shift = 60; shift >= 0; shift -= 4) nonce += kHex[(millis >> shift) & 0xf];
  return nonce + nonce_mac(millis);
}

DigestAuthenticator::NonceState DigestAuthenticator::check_nonce(std::string_view nonce,
                                                                 TimePoint now) const {
  if (nonce.size() != 48) return NonceState::kNotOurs;
  uint64_t millis = 0;
  for (size_t i = 0; i < 48; ++i) {
    const char c = nonce[i];
    const bool digit = c >= '0' && c <= '9';
    if (!digit && !(c >= 'a' && c <= 'f')) return NonceState::kNotOurs;  // ours is lowercase
    if (i < 16) millis = (millis << 4) | static_cast<uint64_t>(digit ? c - '0' : c - 'a' + 10);
  }
  if (!constant_time_equal(nonce.substr(16), nonce_mac(millis))) return NonceState::kNotOurs;
  const TimePoint issued{Duration(static_cast<int64_t>(millis))};
  if (issued > now + config_.clock_skew) return NonceState::kNotOurs;
  if (now - issued > config_.nonce_lifetime) return NonceState::kExpired;
  return NonceState::kFresh;
}

std::string DigestAuthenticator::challenge(DigestAlgorithm algorithm, TimePoint now,
                                           bool stale) const {
  std::string out = "Digest realm=" + quote(config_.realm) + ", nonce=\"" + make_nonce(now) +
                    "\", algorithm=" + std::string(algorithm_name(algorithm)) + ", qop=\"auth\"";
  if (stale) out += ", stale=true";
  return out;
}

std::vector<std::string> DigestAuthenticator::challenges(TimePoint now, bool stale) const {
  std::vector<std::string> out;
  for (DigestAlgorithm a : config_.algorithms) out.push_back(challenge(a, now, stale));
  return out;
}

DigestVerdict DigestAuthenticator::verify(const DigestCredentials& credentials,
                                          std::string_view method,
                                          const std::optional<DigestSecret>& secret,
                                          TimePoint now) const {
  const DigestCredentials& c = credentials;
  // The same checks parse_credentials makes, for credentials built some other way.
  if (c.username.empty() || c.realm.empty() || c.nonce.empty() || c.uri.empty() ||
      c.response.size() != hex_length(c.algorithm) || !all_hex(c.response) ||
      (c.has_qop && (c.cnonce.empty() || c.nc.size() != 8 || !all_hex(c.nc))) ||
      (!c.has_qop && (!c.cnonce.empty() || !c.nc.empty())) || method.empty()) {
    return DigestVerdict::kMalformed;
  }

  // Always hash, with a dummy password when the user is unknown or has no HA1 for this algorithm,
  // so that the work done (and so the time taken) does not depend on the user.
  bool usable = false;
  std::string ha1;
  if (secret && secret->password) {
    usable = true;
    ha1 = digest_ha1(c.algorithm, c.username, config_.realm, *secret->password);
  } else if (secret) {
    const std::string& stored =
        c.algorithm == DigestAlgorithm::kMd5 ? secret->ha1_md5 : secret->ha1_sha256;
    if (stored.size() == hex_length(c.algorithm) && all_hex(stored)) {
      usable = true;
      ha1 = lowercase(stored);
    }
  }
  if (!usable) ha1 = digest_ha1(c.algorithm, c.username, config_.realm, kDummyPassword);
  const std::string expected = digest_response(c, method, ha1);
  const bool match = constant_time_equal(expected, lowercase(c.response));
  // The realm is compared after hashing for the same reason; it is public anyway.
  const bool offered = std::find(config_.algorithms.begin(), config_.algorithms.end(),
                                 c.algorithm) != config_.algorithms.end();
  if (!usable || !match || !offered || c.realm != config_.realm) {
    return DigestVerdict::kWrongCredentials;
  }
  return check_nonce(c.nonce, now) == NonceState::kFresh ? DigestVerdict::kOk
                                                         : DigestVerdict::kStale;
}

}  // namespace tamas::sip
