// The registrar's binding table: add, refresh, remove, expire; several phones per user; "*";
// Call-ID/CSeq ordering; Min-Expires; the per-user cap; and that a failed REGISTER changes nothing.
#include "sip/registrar.h"

#include <gtest/gtest.h>

namespace tamas::sip {
namespace {

using namespace std::chrono_literals;

const TimePoint kT0 = kEpoch + 1'700'000'000'000ms;

RegisterRequest reg(std::string aor, std::string contact, std::string call_id, uint32_t cseq,
                    std::optional<uint32_t> expires = std::nullopt) {
  RegisterRequest r;
  r.aor = std::move(aor);
  r.contacts.push_back({std::move(contact), std::nullopt});
  r.expires = expires;
  r.call_id = std::move(call_id);
  r.cseq = cseq;
  r.source_address = "192.0.2.10";
  r.source_port = 5060;
  r.transport = Transport::kUdp;
  return r;
}

RegisterRequest unregister_all(std::string aor, std::string call_id, uint32_t cseq) {
  RegisterRequest r;
  r.aor = std::move(aor);
  r.wildcard = true;
  r.expires = 0;
  r.call_id = std::move(call_id);
  r.cseq = cseq;
  return r;
}

std::vector<std::string> uris(const std::vector<Binding>& bindings) {
  std::vector<std::string> out;
  for (const auto& b : bindings) out.push_back(b.contact);
  return out;
}

TEST(Registrar, AddsABindingWithTheDefaultExpiry) {
  Registrar r;
  auto res = r.handle_register(reg("1001", "sip:1001@10.0.0.5:5060", "cid-a", 1), kT0);
  ASSERT_TRUE(res.ok()) << res.detail;
  EXPECT_EQ(res.added, 1u);
  ASSERT_EQ(res.bindings.size(), 1u);
  const Binding& b = res.bindings[0];
  EXPECT_EQ(b.aor, "1001");
  EXPECT_EQ(b.contact, "sip:1001@10.0.0.5:5060");
  EXPECT_EQ(b.source_address, "192.0.2.10");
  EXPECT_EQ(b.source_port, 5060);
  EXPECT_EQ(b.call_id, "cid-a");
  EXPECT_EQ(b.cseq, 1u);
  EXPECT_EQ(b.registered_at, kT0);
  EXPECT_EQ(b.expires_at, kT0 + 3600s);
  EXPECT_EQ(b.expires_in(kT0), 3600u);
  EXPECT_EQ(b.expires_in(kT0 + 1ms), 3600u);  // rounded up
  EXPECT_EQ(b.expires_in(kT0 + 3600s), 0u);
  EXPECT_EQ(uris(r.contacts("1001", kT0)), std::vector<std::string>{"sip:1001@10.0.0.5:5060"});
  EXPECT_TRUE(r.contacts("1002", kT0).empty());
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(r.aor_count(), 1u);
  EXPECT_EQ(r.next_expiry(), kT0 + 3600s);
}

TEST(Registrar, RefreshKeepsOneBindingAndMovesItsExpiry) {
  Registrar r;
  ASSERT_TRUE(r.handle_register(reg("1001", "sip:a", "cid", 1, 600), kT0).ok());
  auto req = reg("1001", "sip:a", "cid", 2, 600);
  req.source_address = "198.51.100.7";  // the NAT gave a new public port/address
  req.source_port = 40000;
  req.transport = Transport::kTcp;
  auto res = r.handle_register(req, kT0 + 300s);
  ASSERT_TRUE(res.ok()) << res.detail;
  EXPECT_EQ(res.added, 0u);
  ASSERT_EQ(res.bindings.size(), 1u);
  EXPECT_EQ(res.bindings[0].registered_at, kT0);
  EXPECT_EQ(res.bindings[0].refreshed_at, kT0 + 300s);
  EXPECT_EQ(res.bindings[0].expires_at, kT0 + 900s);
  EXPECT_EQ(res.bindings[0].source_address, "198.51.100.7");
  EXPECT_EQ(res.bindings[0].source_port, 40000);
  EXPECT_EQ(res.bindings[0].transport, Transport::kTcp);
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(r.next_expiry(), kT0 + 900s);  // the old index entry is gone
  // The binding outlives its first expiry.
  EXPECT_TRUE(r.expire(kT0 + 600s).empty());
  EXPECT_EQ(r.contacts("1001", kT0 + 899s).size(), 1u);
}

TEST(Registrar, ContactExpiresParameterWinsOverTheExpiresHeader) {
  Registrar r;
  RegisterRequest req = reg("1001", "sip:a", "cid", 1, 300);
  req.contacts.push_back({"sip:b", 120});
  auto res = r.handle_register(req, kT0);
  ASSERT_TRUE(res.ok()) << res.detail;
  ASSERT_EQ(res.bindings.size(), 2u);
  EXPECT_EQ(res.bindings[0].expires_in(kT0), 300u);
  EXPECT_EQ(res.bindings[1].expires_in(kT0), 120u);
}

TEST(Registrar, ExpiresZeroRemovesTheBinding) {
  Registrar r;
  ASSERT_TRUE(r.handle_register(reg("1001", "sip:a", "cid", 1), kT0).ok());
  auto res = r.handle_register(reg("1001", "sip:a", "cid", 2, 0), kT0 + 10s);
  ASSERT_TRUE(res.ok()) << res.detail;
  EXPECT_TRUE(res.bindings.empty());
  ASSERT_EQ(res.removed.size(), 1u);
  EXPECT_EQ(res.removed[0].binding.contact, "sip:a");
  EXPECT_EQ(res.removed[0].reason, RemoveReason::kUnregistered);
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.aor_count(), 0u);
  EXPECT_EQ(r.next_expiry(), std::nullopt);
  // Removing what is not there is fine too.
  auto again = r.handle_register(reg("1001", "sip:a", "cid", 3, 0), kT0 + 20s);
  EXPECT_TRUE(again.ok());
  EXPECT_TRUE(again.removed.empty());
  EXPECT_EQ(r.aor_count(), 0u);
}

TEST(Registrar, SeveralPhonesPerUserAreAllKept) {
  Registrar r;
  ASSERT_TRUE(r.handle_register(reg("1001", "sip:desk", "cid-desk", 1), kT0).ok());
  ASSERT_TRUE(r.handle_register(reg("1001", "sip:soft", "cid-soft", 1), kT0 + 1s).ok());
  ASSERT_TRUE(r.handle_register(reg("1002", "sip:other", "cid-o", 1), kT0 + 2s).ok());
  auto res = r.handle_register(reg("1001", "sip:mobile", "cid-mobile", 7), kT0 + 3s);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(uris(res.bindings), (std::vector<std::string>{"sip:desk", "sip:soft", "sip:mobile"}));
  EXPECT_EQ(uris(r.contacts("1001", kT0 + 3s)), uris(res.bindings));
  EXPECT_EQ(r.size(), 4u);
  EXPECT_EQ(r.aor_count(), 2u);
  // One phone leaving does not touch the others.
  ASSERT_TRUE(r.handle_register(reg("1001", "sip:soft", "cid-soft", 2, 0), kT0 + 4s).ok());
  EXPECT_EQ(uris(r.contacts("1001", kT0 + 4s)),
            (std::vector<std::string>{"sip:desk", "sip:mobile"}));
}

TEST(Registrar, QueryWithoutContactsListsTheBindings) {
  Registrar r;
  ASSERT_TRUE(r.handle_register(reg("1001", "sip:a", "cid", 1), kT0).ok());
  RegisterRequest q = reg("1001", "sip:x", "cid-q", 1);
  q.contacts.clear();
  auto res = r.handle_register(q, kT0 + 1s);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(uris(res.bindings), std::vector<std::string>{"sip:a"});
  EXPECT_EQ(res.added, 0u);
  EXPECT_EQ(r.size(), 1u);
}

TEST(Registrar, WildcardWithExpiresZeroRemovesEverything) {
  Registrar r;
  ASSERT_TRUE(r.handle_register(reg("1001", "sip:a", "cid-a", 1), kT0).ok());
  ASSERT_TRUE(r.handle_register(reg("1001", "sip:b", "cid-b", 1), kT0).ok());
  ASSERT_TRUE(r.handle_register(reg("1002", "sip:c", "cid-c", 1), kT0).ok());
  auto res = r.handle_register(unregister_all("1001", "cid-x", 1), kT0 + 1s);
  ASSERT_TRUE(res.ok()) << res.detail;
  EXPECT_EQ(res.removed.size(), 2u);
  for (const auto& rb : res.removed) EXPECT_EQ(rb.reason, RemoveReason::kUnregistered);
  EXPECT_TRUE(r.contacts("1001", kT0 + 1s).empty());
  EXPECT_EQ(r.contacts("1002", kT0 + 1s).size(), 1u);
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(r.aor_count(), 1u);
}

TEST(Registrar, WildcardNeedsExpiresZeroAndNoOtherContact) {
  Registrar r;
  ASSERT_TRUE(r.handle_register(reg("1001", "sip:a", "cid-a", 1), kT0).ok());
  auto no_expires = unregister_all("1001", "cid-x", 1);
  no_expires.expires = std::nullopt;
  auto res = r.handle_register(no_expires, kT0);
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.detail.find("Expires: 0"), std::string::npos) << res.detail;
  auto nonzero = unregister_all("1001", "cid-x", 1);
  nonzero.expires = 60;
  EXPECT_EQ(r.handle_register(nonzero, kT0).status, 400);
  auto with_contact = unregister_all("1001", "cid-x", 1);
  with_contact.contacts.push_back({"sip:b", 0});
  res = r.handle_register(with_contact, kT0);
  EXPECT_EQ(res.status, 400);
  EXPECT_NE(res.detail.find("other contacts"), std::string::npos) << res.detail;
  EXPECT_EQ(r.size(), 1u);
}

TEST(Registrar, OutOfOrderCSeqInTheSameCallIdIsRejectedAndChangesNothing) {
  Registrar r;
  ASSERT_TRUE(r.handle_register(reg("1001", "sip:a", "cid", 5, 600), kT0).ok());
  for (uint32_t cseq : {5u, 4u, 0u}) {
    auto res = r.handle_register(reg("1001", "sip:a", "cid", cseq, 0), kT0 + 1s);
    EXPECT_EQ(res.status, 400) << cseq;
    EXPECT_EQ(res.reason, "Out of Order CSeq");
    EXPECT_NE(res.detail.find("after CSeq 5"), std::string::npos) << res.detail;
    EXPECT_TRUE(res.bindings.empty());
  }
  auto stale_star = r.handle_register(unregister_all("1001", "cid", 3), kT0 + 1s);
  EXPECT_EQ(stale_star.status, 400);
  ASSERT_EQ(r.contacts("1001", kT0 + 1s).size(), 1u);
  EXPECT_EQ(r.contacts("1001", kT0 + 1s)[0].expires_at, kT0 + 600s);
  // A new Call-ID (the phone restarted) may use any CSeq, and restarts the registration.
  auto restarted = r.handle_register(reg("1001", "sip:a", "cid-after-reboot", 1, 600), kT0 + 2s);
  ASSERT_TRUE(restarted.ok()) << restarted.detail;
  EXPECT_EQ(restarted.bindings[0].registered_at, kT0 + 2s);
  EXPECT_EQ(restarted.bindings[0].call_id, "cid-after-reboot");
}

TEST(Registrar, ARequestIsAppliedWholeOrNotAtAll) {
  Registrar r;
  ASSERT_TRUE(r.handle_register(reg("1001", "sip:a", "cid", 5), kT0).ok());
  // New contact b first, then an out-of-order update of a: b must not be added.
  RegisterRequest req = reg("1001", "sip:b", "cid", 4);
  req.contacts.push_back({"sip:a", std::nullopt});
  EXPECT_EQ(r.handle_register(req, kT0 + 1s).status, 400);
  EXPECT_EQ(uris(r.contacts("1001", kT0 + 1s)), std::vector<std::string>{"sip:a"});
  EXPECT_EQ(r.size(), 1u);
}

TEST(Registrar, MinAndMaxExpires) {
  Registrar r({.min_expires = 60, .max_expires = 7200, .default_expires = 3600});
  auto brief = r.handle_register(reg("1001", "sip:a", "cid", 1, 30), kT0);
  EXPECT_EQ(brief.status, 423);
  EXPECT_EQ(brief.reason, "Interval Too Brief");
  EXPECT_EQ(brief.min_expires, 60u);
  EXPECT_EQ(r.size(), 0u);
  // One brief contact among good ones refuses the whole request.
  RegisterRequest mixed = reg("1001", "sip:a", "cid", 2, 600);
  mixed.contacts.push_back({"sip:b", 59});
  EXPECT_EQ(r.handle_register(mixed, kT0).status, 423);
  EXPECT_EQ(r.size(), 0u);
  // The minimum itself is fine; longer than the maximum is shortened.
  auto at_min = r.handle_register(reg("1001", "sip:a", "cid", 3, 60), kT0);
  ASSERT_TRUE(at_min.ok());
  EXPECT_EQ(at_min.bindings[0].expires_in(kT0), 60u);
  auto long_one = r.handle_register(reg("1001", "sip:a", "cid", 4, 4'000'000'000u), kT0);
  ASSERT_TRUE(long_one.ok());
  EXPECT_EQ(long_one.bindings[0].expires_in(kT0), 7200u);
}

TEST(Registrar, CapsTheBindingsPerUser) {
  Registrar r({.max_bindings_per_aor = 3});
  for (int i = 0; i < 3; ++i) {
    auto res = r.handle_register(
        reg("1001", "sip:p" + std::to_string(i), "cid" + std::to_string(i), 1, 60 + i * 60), kT0);
    ASSERT_TRUE(res.ok()) << res.detail;
  }
  auto over = r.handle_register(reg("1001", "sip:p3", "cid3", 1), kT0 + 1s);
  EXPECT_EQ(over.status, 503);
  EXPECT_NE(over.detail.find("at most 3"), std::string::npos) << over.detail;
  EXPECT_EQ(r.contacts("1001", kT0 + 1s).size(), 3u);
  // Refreshing one that is there is still fine at the cap; other users are not affected.
  EXPECT_TRUE(r.handle_register(reg("1001", "sip:p2", "cid2", 2), kT0 + 1s).ok());
  EXPECT_TRUE(r.handle_register(reg("1002", "sip:q", "cidq", 1), kT0 + 1s).ok());
  // Once the first phone's binding has expired there is room again; its expiry is reported.
  auto later = r.handle_register(reg("1001", "sip:p3", "cid3", 2), kT0 + 61s);
  ASSERT_TRUE(later.ok()) << later.detail;
  ASSERT_EQ(later.removed.size(), 1u);
  EXPECT_EQ(later.removed[0].binding.contact, "sip:p0");
  EXPECT_EQ(later.removed[0].reason, RemoveReason::kExpired);
  EXPECT_EQ(uris(later.bindings), (std::vector<std::string>{"sip:p1", "sip:p2", "sip:p3"}));
  // A single request listing more contacts than the cap.
  RegisterRequest many = reg("1003", "sip:m0", "cidm", 1);
  for (int i = 1; i < 4; ++i) many.contacts.push_back({"sip:m" + std::to_string(i), std::nullopt});
  EXPECT_EQ(r.handle_register(many, kT0).status, 503);
  EXPECT_TRUE(r.contacts("1003", kT0).empty());
}

TEST(Registrar, ExpireRemovesStaleBindingsAndReportsThem) {
  Registrar r;
  ASSERT_TRUE(r.handle_register(reg("1001", "sip:a", "cid-a", 1, 60), kT0).ok());
  ASSERT_TRUE(r.handle_register(reg("1001", "sip:b", "cid-b", 1, 120), kT0).ok());
  ASSERT_TRUE(r.handle_register(reg("1002", "sip:c", "cid-c", 1, 90), kT0).ok());
  EXPECT_EQ(r.next_expiry(), kT0 + 60s);
  EXPECT_TRUE(r.expire(kT0 + 59s).empty());
  // Past its expiry but not yet swept: no longer a contact to ring.
  EXPECT_EQ(uris(r.contacts("1001", kT0 + 60s)), std::vector<std::string>{"sip:b"});
  auto gone = r.expire(kT0 + 100s);
  EXPECT_EQ(uris(gone), (std::vector<std::string>{"sip:a", "sip:c"}));  // soonest first
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(r.aor_count(), 1u);
  EXPECT_EQ(r.next_expiry(), kT0 + 120s);
  EXPECT_EQ(uris(r.expire(kT0 + 1h)), std::vector<std::string>{"sip:b"});
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.aor_count(), 0u);
  EXPECT_EQ(r.next_expiry(), std::nullopt);
}

TEST(Registrar, ReRegisteringAnExpiredContactIsANewBinding) {
  Registrar r;
  ASSERT_TRUE(r.handle_register(reg("1001", "sip:a", "cid", 9, 60), kT0).ok());
  // Same Call-ID, lower CSeq, but the old binding is gone by now: nothing to be out of order with.
  auto res = r.handle_register(reg("1001", "sip:a", "cid", 3, 60), kT0 + 61s);
  ASSERT_TRUE(res.ok()) << res.detail;
  EXPECT_EQ(res.added, 1u);
  ASSERT_EQ(res.removed.size(), 1u);
  EXPECT_EQ(res.removed[0].reason, RemoveReason::kExpired);
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(r.next_expiry(), kT0 + 121s);
}

TEST(Registrar, RefusesBadInput) {
  Registrar r;
  struct Case {
    const char* name;
    RegisterRequest request;
  };
  RegisterRequest empty_aor = reg("", "sip:a", "cid", 1);
  RegisterRequest empty_call_id = reg("1001", "sip:a", "", 1);
  RegisterRequest empty_contact = reg("1001", "", "cid", 1);
  RegisterRequest huge_contact = reg("1001", "sip:" + std::string(2000, 'a'), "cid", 1);
  RegisterRequest huge_aor = reg(std::string(2000, 'a'), "sip:a", "cid", 1);
  RegisterRequest huge_call_id = reg("1001", "sip:a", std::string(2000, 'c'), 1);
  RegisterRequest twice = reg("1001", "sip:a", "cid", 1);
  twice.contacts.push_back({"sip:a", 60});
  for (const Case& k : {Case{"empty AOR", empty_aor}, Case{"empty Call-ID", empty_call_id},
                        Case{"empty contact", empty_contact}, Case{"huge contact", huge_contact},
                        Case{"huge AOR", huge_aor}, Case{"huge Call-ID", huge_call_id},
                        Case{"contact twice", twice}}) {
    auto res = r.handle_register(k.request, kT0);
    EXPECT_EQ(res.status, 400) << k.name;
    EXPECT_FALSE(res.detail.empty()) << k.name;
    EXPECT_LT(res.detail.size(), 300u) << k.name << ": " << res.detail;
  }
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.aor_count(), 0u);
}

}  // namespace
}  // namespace tamas::sip
