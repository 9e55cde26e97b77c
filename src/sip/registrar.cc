// The registrar's binding table (see registrar.h). Thread rules as there: one owner, no clock
// (time passed in), no I/O.
#include "sip/registrar.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace tamas::sip {
namespace {

RegisterResult fail(int status, std::string reason, std::string detail) {
  RegisterResult r;
  r.status = status;
  r.reason = std::move(reason);
  r.detail = std::move(detail);
  return r;
}

// What a log line may show of a field: short, without control characters.
std::string excerpt(std::string_view s) {
  constexpr size_t kMax = 60;
  std::string out;
  for (char c : s.substr(0, kMax)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  if (s.size() > kMax) out += "...";
  return out;
}

}  // namespace

uint32_t Binding::expires_in(TimePoint now) const {
  if (expires_at <= now) return 0;
  const auto ms = (expires_at - now).count();
  return static_cast<uint32_t>((ms + 999) / 1000);
}

Registrar::Registrar(RegistrarConfig config) : config_(config) {
  // A configuration that contradicts itself is a programming error in the caller (the config
  // loader validates what users write).
  assert(config_.min_expires <= config_.max_expires);
  assert(config_.default_expires >= config_.min_expires);
  assert(config_.default_expires <= config_.max_expires);
  assert(config_.max_bindings_per_aor > 0);
}

void Registrar::index(const std::vector<Binding>& list, bool add) {
  for (const Binding& b : list) {
    ExpiryKey key{b.expires_at, b.aor, b.contact};
    if (add) {
      by_expiry_.insert(std::move(key));
    } else {
      by_expiry_.erase(key);
    }
  }
}

void Registrar::sweep(std::vector<Binding>& list, TimePoint now, std::vector<RemovedBinding>& out) {
  auto live_end = std::stable_partition(list.begin(), list.end(),
                                        [now](const Binding& b) { return b.expires_at > now; });
  for (auto it = live_end; it != list.end(); ++it) {
    by_expiry_.erase(ExpiryKey{it->expires_at, it->aor, it->contact});
    out.push_back({std::move(*it), RemoveReason::kExpired});
  }
  list.erase(live_end, list.end());
}

RegisterResult Registrar::handle_register(const RegisterRequest& req, TimePoint now) {
  // ---- checks that need no state ----
  if (req.aor.empty()) return fail(400, "Bad Request", "REGISTER with an empty AOR");
  if (req.call_id.empty()) return fail(400, "Bad Request", "REGISTER without a Call-ID");
  for (auto [value, field] : {std::pair{&req.aor, "AOR"},
                              {&req.call_id, "Call-ID"},
                              {&req.source_address, "source address"}}) {
    if (value->size() > kMaxRegistrarField) {
      return fail(400, "Bad Request",
                  std::string("REGISTER with a ") + field + " longer than " +
                      std::to_string(kMaxRegistrarField) + " bytes");
    }
  }
  if (req.contacts.size() > config_.max_bindings_per_aor) {
    return fail(503, "Too Many Registered Contacts",
                "REGISTER for " + excerpt(req.aor) + " lists " +
                    std::to_string(req.contacts.size()) + " contacts; at most " +
                    std::to_string(config_.max_bindings_per_aor) + " are kept");
  }
  for (size_t i = 0; i < req.contacts.size(); ++i) {
    const std::string& uri = req.contacts[i].uri;
    if (uri.empty() || uri.size() > kMaxRegistrarField) {
      return fail(400, "Bad Request",
                  "REGISTER for " + excerpt(req.aor) +
                      " with a Contact URI that is empty or longer than " +
                      std::to_string(kMaxRegistrarField) + " bytes");
    }
    for (size_t j = 0; j < i; ++j) {
      if (req.contacts[j].uri == uri) {
        return fail(
            400, "Bad Request",
            "REGISTER for " + excerpt(req.aor) + " lists the Contact " + excerpt(uri) + " twice");
      }
    }
  }
  if (req.wildcard) {
    if (!req.contacts.empty()) {
      return fail(400, "Bad Request", "REGISTER with Contact: * and other contacts");
    }
    if (req.expires != 0u) {
      return fail(400, "Bad Request", "REGISTER with Contact: * needs Expires: 0");
    }
  }

  // Expiry of each contact (RFC 3261 §10.3 step 5).
  std::vector<uint32_t> expires(req.contacts.size());
  for (size_t i = 0; i < req.contacts.size(); ++i) {
    uint32_t e = req.contacts[i].expires.value_or(req.expires.value_or(config_.default_expires));
    if (e != 0 && e < config_.min_expires) {
      RegisterResult r =
          fail(423, "Interval Too Brief",
               "REGISTER for " + excerpt(req.aor) + " asks for " + std::to_string(e) +
                   " s; the minimum is " + std::to_string(config_.min_expires) + " s");
      r.min_expires = config_.min_expires;
      return r;
    }
    expires[i] = std::min(e, config_.max_expires);
  }

  // ---- against the table ----
  // Bindings found expired go whatever the outcome; the rest is applied to a copy, committed at
  // the end, so a failed request leaves the table as it was.
  std::vector<RemovedBinding> expired;
  auto found = by_aor_.find(req.aor);
  if (found != by_aor_.end()) {
    sweep(found->second, now, expired);
    if (found->second.empty()) {
      by_aor_.erase(found);
      found = by_aor_.end();
    }
  }
  auto failed = [&](RegisterResult r) {
    r.removed = std::move(expired);
    return r;
  };

  RegisterResult result;
  std::vector<Binding> list;
  if (found != by_aor_.end()) list = found->second;

  // Call-ID / CSeq ordering (step 6): a late or replayed request must not undo a newer one.
  auto out_of_order = [&](const Binding& b) {
    return b.call_id == req.call_id && req.cseq <= b.cseq;
  };
  auto out_of_order_result = [&](const Binding& b) {
    return failed(fail(400, "Out of Order CSeq",
                       "REGISTER for " + excerpt(req.aor) + " with CSeq " +
                           std::to_string(req.cseq) + " after CSeq " + std::to_string(b.cseq) +
                           " in the same Call-ID, for " + excerpt(b.contact)));
  };

  if (req.wildcard) {
    for (const Binding& b : list) {
      if (out_of_order(b)) return out_of_order_result(b);
    }
    for (Binding& b : list) result.removed.push_back({std::move(b), RemoveReason::kUnregistered});
    list.clear();
  } else {
    for (size_t i = 0; i < req.contacts.size(); ++i) {
      const ContactRequest& c = req.contacts[i];
      auto it = std::find_if(list.begin(), list.end(),
                             [&](const Binding& b) { return b.contact == c.uri; });
      if (it != list.end() && out_of_order(*it)) return out_of_order_result(*it);
      if (expires[i] == 0) {
        if (it != list.end()) {
          result.removed.push_back({std::move(*it), RemoveReason::kUnregistered});
          list.erase(it);
        }
        continue;
      }
      if (it == list.end()) {
        Binding b;
        b.aor = req.aor;
        b.contact = c.uri;
        b.registered_at = now;
        list.push_back(std::move(b));
        it = std::prev(list.end());
        ++result.added;
      } else if (it->call_id != req.call_id) {
        it->registered_at = now;  // the phone restarted: a new registration of the same contact
      }
      it->source_address = req.source_address;
      it->source_port = req.source_port;
      it->transport = req.transport;
      it->call_id = req.call_id;
      it->cseq = req.cseq;
      it->refreshed_at = now;
      it->expires_at = now + std::chrono::seconds(expires[i]);
    }
  }

  if (list.size() > config_.max_bindings_per_aor) {
    return failed(fail(503, "Too Many Registered Contacts",
                       "REGISTER for " + excerpt(req.aor) + " would make " +
                           std::to_string(list.size()) + " bindings; at most " +
                           std::to_string(config_.max_bindings_per_aor) + " are kept"));
  }
  for (RemovedBinding& r : expired) result.removed.push_back(std::move(r));

  // ---- commit ----
  if (found != by_aor_.end()) index(found->second, false);
  if (list.empty()) {
    if (found != by_aor_.end()) by_aor_.erase(found);
  } else {
    index(list, true);
    if (found != by_aor_.end()) {
      found->second = std::move(list);
    } else {
      found = by_aor_.emplace(req.aor, std::move(list)).first;
    }
    result.bindings = found->second;
  }
  return result;
}

std::vector<Binding> Registrar::contacts(std::string_view aor, TimePoint now) const {
  std::vector<Binding> out;
  auto found = by_aor_.find(std::string(aor));
  if (found == by_aor_.end()) return out;
  for (const Binding& b : found->second) {
    if (b.expires_at > now) out.push_back(b);
  }
  return out;
}

std::vector<Binding> Registrar::expire(TimePoint now) {
  std::vector<Binding> out;
  while (!by_expiry_.empty() && std::get<0>(*by_expiry_.begin()) <= now) {
    auto node = by_expiry_.extract(by_expiry_.begin());
    const auto& [when, aor, contact] = node.value();
    auto found = by_aor_.find(aor);
    assert(found != by_aor_.end());
    std::vector<Binding>& list = found->second;
    auto it = std::find_if(list.begin(), list.end(),
                           [&](const Binding& b) { return b.contact == contact; });
    assert(it != list.end() && it->expires_at == when);
    out.push_back(std::move(*it));
    list.erase(it);
    if (list.empty()) by_aor_.erase(found);
  }
  return out;
}

std::optional<TimePoint> Registrar::next_expiry() const {
  if (by_expiry_.empty()) return std::nullopt;
  return std::get<0>(*by_expiry_.begin());
}

}  // namespace tamas::sip
