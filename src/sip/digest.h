// Server-side HTTP Digest authentication for SIP (RFC 3261 §22, RFC 2617, RFC 7616, RFC 8760):
// parsing Authorization / Proxy-Authorization values, building WWW-Authenticate /
// Proxy-Authenticate challenges, stateless nonces, and checking a response against a user's
// password or HA1.
//
// Thread rules: no threads, no clock, no I/O. Time is passed in. A DigestAuthenticator is immutable
// after construction, so one instance may be used from any number of threads at once; the free
// functions are pure.
//
// What the caller (the SIP stack) does with it, in order, for a request that needs a user:
//   1. no credentials for our realm            -> 401/407 with challenges(now, false)
//   2. parse_credentials(value) fails          -> 400 Bad Request (the message says what was wrong)
//   3. look the user up by credentials.username (may be absent: pass std::nullopt, never skip 4)
//   4. verify(credentials, method, secret, now):
//        kOk               -> go on (and check that the user may act for the To / From AOR)
//        kWrongCredentials -> 401/407 with challenges(now, false), the same for unknown users
//        kStale            -> 401/407 with challenges(now, true)
//        kMalformed        -> 400 Bad Request
//
// Replay protection: nonces are stateless (timestamp + HMAC), so the nonce count (nc) is NOT
// tracked and a captured request can be replayed until its nonce expires (nonce_lifetime, 5
// minutes by default). For REGISTER the registrar's Call-ID/CSeq rule rejects such a replay; for
// other methods use TLS or a short lifetime. See docs/registrar.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace tamas::sip {

enum class DigestAlgorithm : uint8_t { kMd5, kSha256 };

// "MD5" / "SHA-256", as written in the algorithm= parameter.
std::string_view algorithm_name(DigestAlgorithm algorithm);

// The hash of `data` in lowercase hex (32 characters for MD5, 64 for SHA-256).
std::string digest_hex(DigestAlgorithm algorithm, std::string_view data);

// HA1 = H(username ":" realm ":" password) in lowercase hex: what a user store keeps instead of
// the password (one per algorithm, since the realm and the hash are part of it).
std::string digest_ha1(DigestAlgorithm algorithm, std::string_view username, std::string_view realm,
                       std::string_view password);

// The parsed value of an Authorization or Proxy-Authorization header using the Digest scheme.
// Every string holds the parameter's value unquoted and unescaped.
struct DigestCredentials {
  std::string username;
  std::string realm;
  std::string nonce;
  std::string uri;       // digest-uri; the caller may compare it with the Request-URI
  std::string response;  // lowercase hex, 32 (MD5) or 64 (SHA-256) characters
  DigestAlgorithm algorithm = DigestAlgorithm::kMd5;  // MD5 when the parameter is absent
  bool has_qop = false;  // qop=auth; false for the RFC 2069 form (no qop, cnonce or nc)
  std::string cnonce;    // set when has_qop
  std::string nc;        // 8 hex digits as sent, set when has_qop
  std::string opaque;    // as sent (Tamas sends none; kept for the caller's logs)
};

// Limits on what parse_credentials accepts (bad-input protection, not protocol rules).
inline constexpr size_t kMaxCredentialsLength = 4096;  // the whole header value
inline constexpr size_t kMaxDigestParamLength = 1024;  // one parameter's value

// Parses a header value such as
//   Digest username="1001", realm="demo", nonce="...", uri="sip:demo", response="...",
//          algorithm=SHA-256, qop=auth, nc=00000001, cnonce="x"
// The scheme and parameter names are case-insensitive, whitespace (including folded lines) around
// '=' and ',' is allowed, values are tokens or quoted strings with backslash escapes, unknown
// parameters are ignored. Fails, with a message naming the parameter, when: the scheme is not
// Digest; a quote is unterminated; a parameter appears twice; username, realm, nonce, uri or
// response is missing; qop is not "auth" (auth-int is not supported) or comes without cnonce/nc;
// nc is not 8 hex digits; the algorithm is not MD5 or SHA-256 (the -sess variants are not
// supported); the response is not hex of the algorithm's length; userhash=true is asked; the value
// or a parameter is longer than the limits above; or a value holds a control character.
Result<DigestCredentials> parse_credentials(std::string_view header_value);

// What the server knows about a user: the plain password, or the stored HA1 of each algorithm
// (lowercase hex; an empty HA1 means that algorithm cannot be verified for this user).
struct DigestSecret {
  static DigestSecret from_password(std::string password);
  static DigestSecret from_ha1(std::string ha1_md5, std::string ha1_sha256);

  std::optional<std::string> password;
  std::string ha1_md5;
  std::string ha1_sha256;
};

enum class DigestVerdict : uint8_t {
  kOk,                // the response is right and the nonce is ours and fresh
  kWrongCredentials,  // unknown user, wrong password, other realm, nonce not ours and response
                      // wrong
  kStale,             // the response is right for the nonce it carries, but that nonce expired or
                      // is not one we can vouch for: challenge again with stale=true
  kMalformed,         // the credentials are not internally consistent (see parse_credentials)
};

std::string_view verdict_name(DigestVerdict verdict);

struct DigestConfig {
  std::string realm;   // e.g. the tenant's SIP domain; shown to users by their phones
  std::string secret;  // at least kMinSecretLength bytes of randomness, kept by the server; a new
                       // secret (e.g. after a restart) makes earlier nonces stale, nothing worse
  Duration nonce_lifetime = std::chrono::minutes(5);
  // How far in the future a nonce's timestamp may be (several nodes sharing a secret whose clocks
  // differ a little). Later than that, the nonce is treated as not ours.
  Duration clock_skew = std::chrono::seconds(5);
  // Offered in this order (RFC 8760: the preferred first); credentials in another are refused.
  // Some older phones read only the first challenge and know only MD5: {kMd5} serves them.
  std::vector<DigestAlgorithm> algorithms = {DigestAlgorithm::kSha256, DigestAlgorithm::kMd5};
};

inline constexpr size_t kMinSecretLength = 16;

class DigestAuthenticator {
 public:
  // Fails when the realm is empty or holds a control character, the secret is shorter than
  // kMinSecretLength, or the lifetime is not positive.
  static Result<DigestAuthenticator> create(DigestConfig config);

  const std::string& realm() const { return config_.realm; }

  // The values of the WWW-Authenticate (401) or Proxy-Authenticate (407) headers to send, one
  // header each, in this order: SHA-256 first, then MD5 (RFC 8760 §2.4: the preferred one first).
  // Both carry realm, a fresh nonce, algorithm and qop="auth", and stale=true when `stale`. The
  // result depends only on the realm, the secret and `now`, never on who asked.
  std::vector<std::string> challenges(TimePoint now, bool stale = false) const;
  std::string challenge(DigestAlgorithm algorithm, TimePoint now, bool stale = false) const;

  // A nonce issued at `now`: 16 hex digits of the time in milliseconds, then 32 hex digits of an
  // HMAC-SHA-256 over that time and the realm, keyed with the secret.
  std::string make_nonce(TimePoint now) const;

  enum class NonceState : uint8_t { kFresh, kExpired, kNotOurs };
  // kNotOurs: not our format, a wrong HMAC (tampered, another secret or realm), or a time too far
  // in the future. kExpired: ours, but issued more than nonce_lifetime before `now`.
  NonceState check_nonce(std::string_view nonce, TimePoint now) const;

  // Checks the credentials for a request of `method` ("REGISTER", "INVITE", ...). `secret` is
  // std::nullopt for an unknown user: the same hashing is done with a dummy password and the
  // answer is kWrongCredentials, as for a wrong password, so the reply and its timing do not tell
  // whether the user exists. The response is compared in constant time. Never fails otherwise.
  DigestVerdict verify(const DigestCredentials& credentials, std::string_view method,
                       const std::optional<DigestSecret>& secret, TimePoint now) const;

 private:
  explicit DigestAuthenticator(DigestConfig config) : config_(std::move(config)) {}
  std::string nonce_mac(uint64_t millis) const;

  DigestConfig config_;
};

// The response a client computes (RFC 7616 §3.4.1; RFC 2069 when !credentials.has_qop), from HA1.
// Exposed for tests and for a future client side (outbound registration to a trunk).
std::string digest_response(const DigestCredentials& credentials, std::string_view method,
                            std::string_view ha1);

}  // namespace tamas::sip
