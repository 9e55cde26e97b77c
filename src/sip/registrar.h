// The registrar's binding table (RFC 3261 §10.3): which contacts (phones) are registered for each
// address-of-record (user), until when, and from where, so that calls to a user ring all its
// phones.
//
// Thread rules: no threads, no clock, no I/O. One owner (the SIP thread) calls it; time is passed
// in. The SIP stack parses the REGISTER, authenticates it (digest.h), checks that the
// authenticated user may register the To AOR, then calls handle_register and answers with the
// status it returns. Nothing here is persisted: after a restart phones register again.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/time.h"
#include "sip/sip.h"

namespace tamas::sip {

struct RegistrarConfig {
  uint32_t min_expires = 60;         // shorter (and not 0) gets 423 Interval Too Brief
  uint32_t max_expires = 7200;       // longer is shortened to this
  uint32_t default_expires = 3600;   // when neither the Contact nor the request says
  size_t max_bindings_per_aor = 10;  // more gets 503: bad-input protection, not a licence limit
};

// Limits on the strings kept per binding (bad-input protection): longer gets 400.
inline constexpr size_t kMaxRegistrarField = 1024;

// One Contact of a REGISTER.
struct ContactRequest {
  std::string uri;                  // the URI inside <>, as sent; compared byte for byte
  std::optional<uint32_t> expires;  // the Contact's ;expires= parameter
};

struct RegisterRequest {
  std::string aor;                       // the key, e.g. "1001" or "sip:1001@demo": caller's choice
  std::vector<ContactRequest> contacts;  // none (and no wildcard): a query for the bindings
  bool wildcard = false;                 // "Contact: *" (then contacts must be empty)
  std::optional<uint32_t> expires;       // the Expires header
  std::string call_id;
  uint32_t cseq = 0;
  // Where the REGISTER came from (not what its headers claim): calls to the binding go there,
  // which is what gets through a NAT.
  std::string source_address;
  uint16_t source_port = 0;
  Transport transport = Transport::kUdp;
};

struct Binding {
  std::string aor;
  std::string contact;  // the Contact URI
  std::string source_address;
  uint16_t source_port = 0;
  Transport transport = Transport::kUdp;
  std::string call_id;
  uint32_t cseq = 0;
  TimePoint registered_at;  // when this Call-ID first registered this contact
  TimePoint refreshed_at;   // the last successful REGISTER for it
  TimePoint expires_at;     // live while now < expires_at

  // Whole seconds left at `now`, rounded up (the ;expires= of a 200's Contact), 0 once expired.
  uint32_t expires_in(TimePoint now) const;
};

enum class RemoveReason : uint8_t {
  kUnregistered,  // the phone asked: expires=0, or "*"
  kExpired,       // it was not refreshed in time
};

struct RemovedBinding {
  Binding binding;
  RemoveReason reason;
};

// The answer to a REGISTER. On failure the table is unchanged (a request is applied whole or not
// at all), except that bindings found expired are dropped either way (listed in `removed`).
struct RegisterResult {
  int status = 200;               // 200, 400, 423, 503
  std::string reason = "OK";      // the reason phrase
  std::string detail;             // what was wrong, for the log or a Warning header; empty on 200
  uint32_t min_expires = 0;       // on 423: the Min-Expires header's value
  std::vector<Binding> bindings;  // on 200: every live binding of the AOR, oldest first
  std::vector<RemovedBinding> removed;  // what this request removed, or found expired
  size_t added = 0;                     // on 200: how many bindings are new

  bool ok() const { return status == 200; }
};

class Registrar {
 public:
  explicit Registrar(RegistrarConfig config = {});

  // Applies a REGISTER (RFC 3261 §10.3 steps 5-8), all of it or nothing:
  //  * each contact's expiry is its ;expires=, else the Expires header, else default_expires;
  //    not 0 and below min_expires -> 423 with min_expires; above max_expires -> max_expires;
  //  * "*" needs Expires: 0 and no other contact (else 400) and removes every binding;
  //  * an existing binding with the same Call-ID and a CSeq not lower than the request's aborts the
  //    request (400 "Out of Order CSeq": a late or replayed REGISTER); another Call-ID replaces it
  //    (the phone restarted);
  //  * expires 0 removes that binding (and is no error when there is none);
  //  * more than max_bindings_per_aor live bindings afterwards -> 503;
  //  * an empty AOR or Call-ID, a field longer than kMaxRegistrarField, or a contact listed twice
  //    -> 400.
  RegisterResult handle_register(const RegisterRequest& request, TimePoint now);

  // The live bindings of `aor` at `now` (those not yet expired), oldest first. Empty when none.
  std::vector<Binding> contacts(std::string_view aor, TimePoint now) const;

  // Removes every binding expired at `now` (expires_at <= now) and returns them, soonest first,
  // so that the server can log them or tell the core that an agent's phone is gone.
  std::vector<Binding> expire(TimePoint now);

  // When the next binding expires: call expire() then. std::nullopt when the table is empty.
  std::optional<TimePoint> next_expiry() const;

  size_t size() const { return by_expiry_.size(); }  // bindings, live or not yet swept
  size_t aor_count() const { return by_aor_.size(); }

 private:
  using ExpiryKey = std::tuple<TimePoint, std::string, std::string>;  // expires_at, aor, contact

  // Removes the expired bindings of one AOR's list (and their index entries), appending them to
  // out.
  void sweep(std::vector<Binding>& list, TimePoint now, std::vector<RemovedBinding>& out);
  void index(const std::vector<Binding>& list, bool add);

  RegistrarConfig config_;
  std::unordered_map<std::string, std::vector<Binding>> by_aor_;  // per AOR, oldest first
  std::set<ExpiryKey> by_expiry_;  // exactly one entry per binding in by_aor_
};

}  // namespace tamas::sip
