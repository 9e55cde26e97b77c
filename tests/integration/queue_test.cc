// The routing engine seen from the wire: `tamas serve` (tests/data/serve/queues.yaml) with agents'
// phones and callers speaking raw SIP on 127.0.0.1. What the router decides (who rings, when a ring
// gives up, who is skipped) is asserted through the INVITEs, CANCELs and BYEs the phones get and
// through the stored records. Every wait is on an event with a bound; an absence is asserted with
// a bounded receive that expects nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/agent_phone.h"
#include "support/caller.h"
#include "support/serve_process.h"

namespace tamas {
namespace {

using namespace std::chrono_literals;
using test::AgentPhone;
using test::Caller;
using test::is_request;

const std::string kConfig = std::string(TAMAS_SOURCE_DIR) + "/tests/data/serve/queues.yaml";

// The record's timeline as "event detail" lines ("offered 1001", "no-answer 1001").
std::vector<std::string> timeline(const nlohmann::json& record) {
  std::vector<std::string> out;
  for (const auto& e : record.value("timeline", nlohmann::json::array())) {
    std::string line = e["event"].get<std::string>();
    const std::string detail = e["detail"].get<std::string>();
    if (!detail.empty()) line += " " + detail;
    out.push_back(line);
  }
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

class QueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists("/usr/bin/espeak-ng")) GTEST_SKIP() << "espeak-ng is missing";
    ASSERT_TRUE(server_.ready()) << server_.log();
  }

  // A phone registered as `user` of the tenant with `realm`, logged in with *11.
  std::unique_ptr<AgentPhone> logged_in(const std::string& user, const std::string& password,
                                        const std::string& realm = "acme.test") {
    auto phone = std::make_unique<AgentPhone>(server_.port(), realm);
    EXPECT_EQ(phone->register_as(user, password), 200) << server_.log();
    EXPECT_EQ(phone->dial("*11"), 200) << server_.log();
    return phone;
  }

  // The only record stored (waiting for it); an empty object, and a failure, when there is not
  // exactly one.
  nlohmann::json only_record() {
    auto records = server_.wait_records(1);
    EXPECT_EQ(records.size(), 1u) << server_.log();
    return records.size() == 1 ? records[0] : nlohmann::json::object();
  }

  // The caller dials `number`; `phone` is offered the call and answers. The offer (the server's
  // INVITE), or nullopt when the call or the offer did not come.
  std::optional<std::string> answered_call(Caller& caller, const std::string& number,
                                           const std::string& call_id, AgentPhone& phone) {
    if (caller.call(server_.port(), number, call_id) != 200) return std::nullopt;
    auto offer = phone.await_invite(5s);
    if (offer) phone.answer(*offer);
    return offer;
  }

  // The caller hangs up the conversation; the agent's phone gets the BYE.
  void caller_ends(Caller& caller, const std::string& number, AgentPhone& agent) {
    EXPECT_EQ(caller.hang_up(server_.port(), number), 200);
    auto bye = agent.await_hangup(5s);
    ASSERT_TRUE(bye.has_value()) << server_.log();
    EXPECT_TRUE(is_request(*bye, "BYE")) << *bye;
  }

  // The caller talks (a tone) for a moment; returns how loud it is at the agent's phone (RMS):
  // loud only when the bridge connects the two.
  static double caller_heard_by(Caller& caller, AgentPhone& agent) {
    std::thread talk([&] { caller.rtp.send_tone(600ms); });
    const double rms = agent.rtp().listen(500ms).first;
    talk.join();
    return rms;
  }

  test::ServeProcess server_{kConfig};
};

// Linear queue, 1001 first: 1001's phone rings and is left ringing; after the ring timeout (2 s)
// it is cancelled and 1002's phone rings, and 1002 takes the call.
TEST_F(QueueTest, UnansweredRingMovesOnToTheNextAgent) {
  auto sara = logged_in("1001", "acme1001");
  auto reza = logged_in("1002", "acme1002");
  Caller caller;
  ASSERT_EQ(caller.call(server_.port(), "100", "no-answer-1"), 200);

  auto first = sara->await_invite(5s);
  ASSERT_TRUE(first.has_value()) << server_.log();
  const auto rang = std::chrono::steady_clock::now();
  EXPECT_EQ(test::header_of(*first, "X-Tamas-Queue"), "linear");
  auto second = reza->await_invite(6s);  // Sara lets it ring
  ASSERT_TRUE(second.has_value()) << server_.log();
  const double moved_after = seconds_since(rang);
  EXPECT_GT(moved_after, 1.7) << "1002 is offered only when 1001's ring times out (2 s)";
  EXPECT_LT(moved_after, 3.5);
  auto cancel = sara->await_hangup(2s);
  ASSERT_TRUE(cancel.has_value()) << server_.log();
  EXPECT_TRUE(is_request(*cancel, "CANCEL")) << *cancel;

  reza->answer(*second);
  EXPECT_GT(caller_heard_by(caller, *reza), 800.0) << "the caller is bridged to 1002";
  caller_ends(caller, "100", *reza);
  EXPECT_FALSE(sara->await_invite(0ms).has_value()) << "1001 is not offered the call again";

  auto r = only_record();
  EXPECT_EQ(r["result"], "answered");
  EXPECT_EQ(r["queue"], "linear");
  EXPECT_EQ(r["agent"], "1002");
  EXPECT_EQ(timeline(r), (std::vector<std::string>{
                             "queued linear", "offered 1001", "no-answer 1001", "offered 1002",
                             "connected 1002", "completed hung up by caller"}));
  EXPECT_GT(r["wait_seconds"].get<double>(), 1.9) << "the caller waited through the missed ring";
  EXPECT_LT(r["ring_seconds"].get<double>(), 1.5) << "the ring of the phone that answered";
}

// 1001 declines (486 Busy Here): 1002 is offered at once, not after the ring timeout.
TEST_F(QueueTest, DeclinedOfferGoesToTheNextAgentAtOnce) {
  auto sara = logged_in("1001", "acme1001");
  auto reza = logged_in("1002", "acme1002");
  Caller caller;
  ASSERT_EQ(caller.call(server_.port(), "100", "decline-1"), 200);

  auto first = sara->await_invite(5s);
  ASSERT_TRUE(first.has_value()) << server_.log();
  sara->decline(*first, 486);
  const auto declined = std::chrono::steady_clock::now();
  auto second = reza->await_invite(5s);
  ASSERT_TRUE(second.has_value()) << server_.log();
  EXPECT_LT(seconds_since(declined), 1.0) << "at once: the ring timeout is 2 s";
  reza->answer(*second);
  caller_ends(caller, "100", *reza);

  auto r = only_record();
  EXPECT_EQ(r["agent"], "1002");
  EXPECT_EQ(timeline(r),
            (std::vector<std::string>{"queued linear", "offered 1001", "busy 1001 486", "offered 1002",
                                      "connected 1002", "completed hung up by caller"}));
}

// An agent on a break (*13) is not offered the waiting caller; back (*14), the phone rings.
TEST_F(QueueTest, PausedAgentIsNotOfferedUntilResumed) {
  auto sara = logged_in("1001", "acme1001");
  ASSERT_EQ(sara->dial("*13"), 200) << server_.log();
  EXPECT_NE(server_.wait_log({"agent status", "agent=1001", "code=*13", "status=break"}), "");
  Caller caller;
  ASSERT_EQ(caller.call(server_.port(), "100", "pause-1"), 200);
  ASSERT_NE(server_.wait_log({"queued", "queue=linear"}), "") << server_.log();

  EXPECT_FALSE(sara->await_invite(3s).has_value()) << "no offer while on break\n" << server_.log();
  ASSERT_EQ(sara->dial("*14"), 200) << server_.log();
  auto offer = sara->await_invite(5s);
  ASSERT_TRUE(offer.has_value()) << "offered once back\n" << server_.log();
  sara->answer(*offer);
  caller_ends(caller, "100", *sara);

  auto r = only_record();
  EXPECT_EQ(r["agent"], "1001");
  EXPECT_GT(r["wait_seconds"].get<double>(), 2.9) << "the caller waited out the break";
  EXPECT_EQ(timeline(r),
            (std::vector<std::string>{"queued linear", "offered 1001", "connected 1001",
                                      "completed hung up by caller"}));
}

// Ring-all: both agents' phones ring; the first to answer (1002) gets the caller, the other phone
// is cancelled.
TEST_F(QueueTest, RingAllRingsEveryAgentAndCancelsTheOthers) {
  auto sara = logged_in("1001", "acme1001");
  auto reza = logged_in("1002", "acme1002");
  Caller caller;
  ASSERT_EQ(caller.call(server_.port(), "101", "ring-all-1"), 200);

  auto at_sara = sara->await_invite(5s);
  auto at_reza = reza->await_invite(5s);
  ASSERT_TRUE(at_sara.has_value()) << server_.log();
  ASSERT_TRUE(at_reza.has_value()) << server_.log();
  EXPECT_EQ(test::header_of(*at_sara, "X-Tamas-Queue"), "ringall");
  EXPECT_EQ(test::header_of(*at_reza, "X-Tamas-Queue"), "ringall");
  reza->answer(*at_reza);
  auto cancel = sara->await_hangup(3s);  // well before the ring timeout (5 s)
  ASSERT_TRUE(cancel.has_value()) << server_.log();
  EXPECT_TRUE(is_request(*cancel, "CANCEL")) << *cancel;

  EXPECT_GT(caller_heard_by(caller, *reza), 800.0) << "the caller is bridged to 1002, who answered";
  caller_ends(caller, "101", *reza);

  auto r = only_record();
  EXPECT_EQ(r["agent"], "1002");
  const auto events = timeline(r);
  ASSERT_EQ(events.size(), 5u) << r.dump(2);
  EXPECT_EQ(events[0], "queued ringall");
  std::vector<std::string> offers = {events[1], events[2]};  // at the same time, either order
  std::sort(offers.begin(), offers.end());
  EXPECT_EQ(offers, (std::vector<std::string>{"offered 1001", "offered 1002"}));
  EXPECT_EQ(events[3], "connected 1002");
  EXPECT_EQ(events[4], "completed hung up by caller");
}

// max_no_answer 2 (ring timeout 1 s, no retry pause): two offers left ringing put the agent on a
// break ("no answer"), so the caller is not offered a third time until the agent resumes (*14).
TEST_F(QueueTest, MissedOffersPutTheAgentOnBreak) {
  auto sara = logged_in("1001", "acme1001");
  Caller caller;
  ASSERT_EQ(caller.call(server_.port(), "102", "max-no-answer-1"), 200);
  for (int i = 1; i <= 2; ++i) {
    auto offer = sara->await_invite(5s);
    ASSERT_TRUE(offer.has_value()) << "offer " << i << "\n" << server_.log();
    auto cancel = sara->await_hangup(3s);
    ASSERT_TRUE(cancel.has_value()) << "offer " << i << "\n" << server_.log();
    EXPECT_TRUE(is_request(*cancel, "CANCEL")) << *cancel;
  }
  EXPECT_NE(server_.wait_log({" info agent tenant=acme agent=1001 status=break"}, 3s), "")
      << server_.log();
  EXPECT_FALSE(sara->await_invite(2500ms).has_value()) << "on break: no third offer";

  ASSERT_EQ(sara->dial("*14"), 200) << server_.log();
  auto offer = sara->await_invite(5s);
  ASSERT_TRUE(offer.has_value()) << "the caller still waits and is offered again\n"
                                 << server_.log();
  sara->answer(*offer);
  caller_ends(caller, "102", *sara);

  auto r = only_record();
  EXPECT_EQ(r["agent"], "1001");
  EXPECT_EQ(timeline(r),
            (std::vector<std::string>{"queued strict", "offered 1001", "no-answer 1001",
                                      "offered 1001", "no-answer 1001", "offered 1001",
                                      "connected 1001", "completed hung up by caller"}));
}

// The caller hangs up while the agent's phone rings: the phone gets a CANCEL (not a ring
// timeout's), the record says abandoned with the ring in its timeline, and the agent is free for
// the next caller at once.
TEST_F(QueueTest, CallerHangingUpWhileThePhoneRingsCancelsIt) {
  auto sara = logged_in("1001", "acme1001");
  Caller caller;
  ASSERT_EQ(caller.call(server_.port(), "100", "abandon-1"), 200);
  auto offer = sara->await_invite(5s);
  ASSERT_TRUE(offer.has_value()) << server_.log();

  EXPECT_EQ(caller.hang_up(server_.port(), "100"), 200);
  const auto hung_up = std::chrono::steady_clock::now();
  auto cancel = sara->await_hangup(3s);
  ASSERT_TRUE(cancel.has_value()) << server_.log();
  EXPECT_TRUE(is_request(*cancel, "CANCEL")) << *cancel;
  EXPECT_LT(seconds_since(hung_up), 1.0) << "cancelled by the hang-up, not the ring timeout (2 s)";

  auto r = only_record();
  EXPECT_EQ(r["result"], "abandoned_in_queue");
  EXPECT_EQ(r["ended_by"], "caller");
  EXPECT_EQ(r["queue"], "linear");
  EXPECT_EQ(r["agent"], "");
  // (Not checked above 0: records keep whole milliseconds, and here the phone may ring for less
  // than one before the caller's BYE arrives over the loopback.)
  EXPECT_LE(r["ring_seconds"].get<double>(), r["wait_seconds"].get<double>());
  const auto events = timeline(r);
  ASSERT_EQ(events.size(), 3u) << r.dump(2);
  EXPECT_EQ(events[0], "queued linear");
  EXPECT_EQ(events[1], "offered 1001");
  EXPECT_EQ(events[2].rfind("abandoned while an agent's phone rang", 0), 0u) << events[2];

  Caller next;
  ASSERT_EQ(next.call(server_.port(), "100", "abandon-2"), 200);
  auto again = sara->await_invite(5s);
  ASSERT_TRUE(again.has_value()) << "the agent is free again\n" << server_.log();
  EXPECT_EQ(next.hang_up(server_.port(), "100"), 200);
  EXPECT_TRUE(sara->await_hangup(3s).has_value());
}

// wrap_up 2 s: after a conversation the agent is not offered the next waiting caller until the
// wrap-up is over.
TEST_F(QueueTest, WrapUpDelaysTheNextOffer) {
  auto sara = logged_in("1001", "acme1001");
  Caller first, second;
  ASSERT_EQ(first.call(server_.port(), "100", "wrap-1"), 200);
  auto offer = sara->await_invite(5s);
  ASSERT_TRUE(offer.has_value()) << server_.log();
  sara->answer(*offer);
  ASSERT_EQ(second.call(server_.port(), "100", "wrap-2"), 200);
  ASSERT_NE(server_.wait_log({" info queued ", "queue=linear"}, 5s, 2), "")
      << "both callers queued";
  EXPECT_EQ(sara->hang_up(*offer), 200) << "the agent ends the first call";
  const auto ended = std::chrono::steady_clock::now();
  auto next = sara->await_invite(5s);
  ASSERT_TRUE(next.has_value()) << server_.log();
  EXPECT_GT(seconds_since(ended), 1.8) << "not before the 2 s wrap-up";
  EXPECT_LT(seconds_since(ended), 3.5);
  sara->answer(*next);
  caller_ends(second, "100", *sara);
  auto records = server_.wait_records(2);
  ASSERT_EQ(records.size(), 2u) << server_.log();
  std::multiset<std::string> ended_by;
  for (const auto& r : records) {
    EXPECT_EQ(r["agent"], "1001");
    ended_by.insert(r["ended_by"].get<std::string>());
  }
  EXPECT_EQ(ended_by, (std::multiset<std::string>{"agent", "caller"}));
}

// Two tenants on one server, each with an agent 1001: each tenant's caller rings only its own
// tenant's phone, records are listed per tenant, and one tenant's password does not register a
// phone in the other's realm.
TEST_F(QueueTest, TenantsShareTheServerButNotTheirAgents) {
  auto acme = logged_in("1001", "acme1001", "acme.test");
  auto beta = logged_in("1001", "beta1001", "beta.test");
  AgentPhone stray(server_.port(), "beta.test");
  EXPECT_EQ(stray.register_as("1001", "acme1001"), 401) << "acme's password in beta's realm";
  EXPECT_NE(server_.wait_log({"register refused", "tenant=beta", "wrong credentials"}), "");

  // A caller of `number` rings `phone` (queue `queue`) and never the other tenant's idle 1001.
  auto call_reaches = [&](const std::string& number, AgentPhone& phone, AgentPhone& other,
                          const std::string& queue) {
    Caller caller;
    ASSERT_EQ(caller.call(server_.port(), number, "tenant-" + queue), 200);
    auto offer = phone.await_invite(5s);
    ASSERT_TRUE(offer.has_value()) << server_.log();
    EXPECT_EQ(test::header_of(*offer, "X-Tamas-Queue"), queue);
    EXPECT_FALSE(other.await_invite(1s).has_value()) << "the other tenant's 1001 is idle too";
    EXPECT_FALSE(stray.await_invite(0ms).has_value());
    phone.answer(*offer);
    caller_ends(caller, number, phone);
  };
  call_reaches("200", *beta, *acme, "desk");
  call_reaches("100", *acme, *beta, "linear");

  ASSERT_EQ(server_.wait_records(2).size(), 2u) << server_.log();
  for (const std::string tenant : {"acme", "beta"}) {
    const auto records = server_.records("interactions", tenant);
    ASSERT_EQ(records.size(), 1u) << tenant << ": " << records.dump(2);
    EXPECT_EQ(records[0]["tenant"], tenant);
    EXPECT_EQ(records[0]["called"], tenant == "acme" ? "100" : "200");
    EXPECT_EQ(records[0]["agent"], "1001");
    EXPECT_EQ(records[0]["result"], "answered");
  }
}

// The phone's 200 crosses the server's CANCEL at the ring timeout: the late answer is not
// connected (the caller goes to 1002) and the phone's call is hung up (BYE), not left open.
TEST_F(QueueTest, AnswerCrossingTheRingTimeoutIsHungUp) {
  auto sara = logged_in("1001", "acme1001");
  auto reza = logged_in("1002", "acme1002");
  Caller caller;
  ASSERT_EQ(caller.call(server_.port(), "100", "crossing-1"), 200);
  auto late = sara->await_invite(5s);
  ASSERT_TRUE(late.has_value()) << server_.log();
  auto second = reza->await_invite(6s);  // sent with the CANCEL to 1001, at the ring timeout
  ASSERT_TRUE(second.has_value()) << server_.log();
  sara->answer(*late);  // the CANCEL is already on its way
  auto cancel = sara->await_hangup(2s);
  ASSERT_TRUE(cancel.has_value()) << server_.log();
  EXPECT_TRUE(is_request(*cancel, "CANCEL")) << *cancel;
  auto bye = sara->await_hangup(5s);
  ASSERT_TRUE(bye.has_value()) << "the late answer is hung up\n" << server_.log();
  EXPECT_TRUE(is_request(*bye, "BYE")) << *bye;

  reza->answer(*second);
  caller_ends(caller, "100", *reza);
  auto r = only_record();
  EXPECT_EQ(r["agent"], "1002");
  EXPECT_EQ(timeline(r), (std::vector<std::string>{
                             "queued linear", "offered 1001", "no-answer 1001", "offered 1002",
                             "connected 1002", "completed hung up by caller"}));
}

// Ring-all, both phones answer at once: exactly one agent is connected; the other phone's answer
// is hung up (a CANCEL crossing its 200, then a BYE).
TEST_F(QueueTest, RingAllSimultaneousAnswersConnectOnlyOne) {
  auto sara = logged_in("1001", "acme1001");
  auto reza = logged_in("1002", "acme1002");
  Caller caller;
  ASSERT_EQ(caller.call(server_.port(), "101", "both-answer-1"), 200);
  auto at_sara = sara->await_invite(5s);
  auto at_reza = reza->await_invite(5s);
  ASSERT_TRUE(at_sara.has_value() && at_reza.has_value()) << server_.log();
  sara->answer(*at_sara);
  reza->answer(*at_reza);

  // The loser's phone is hung up; the winner's is not.
  auto ended_reza = reza->await_hangup(2s);  // 1002 answered second: likely the one to lose
  auto ended_sara = sara->await_hangup(ended_reza ? 500ms : 3s);
  ASSERT_NE(ended_sara.has_value(), ended_reza.has_value()) << "exactly one phone is hung up\n"
                                                            << server_.log();
  AgentPhone& loser = ended_sara ? *sara : *reza;
  AgentPhone& winner = ended_sara ? *reza : *sara;
  const std::string winner_ext = ended_sara ? "1002" : "1001";
  std::optional<std::string> end = ended_sara ? ended_sara : ended_reza;
  if (is_request(*end, "CANCEL")) end = loser.await_hangup(5s);  // then its answer is hung up
  ASSERT_TRUE(end.has_value()) << server_.log();
  EXPECT_TRUE(is_request(*end, "BYE")) << *end;

  EXPECT_GT(caller_heard_by(caller, winner), 800.0) << "the caller is bridged to " << winner_ext;
  caller_ends(caller, "101", winner);
  EXPECT_EQ(only_record()["agent"], winner_ext);
}

// A flow whose first node is `queue` should answer the caller (the queue plays music) and, once an
// agent answers, bridge two answered calls.
TEST_F(QueueTest, QueueAsTheFirstNodeAnswersTheCaller) {
  auto sara = logged_in("1001", "acme1001");
  Caller caller;
  ASSERT_EQ(caller.call(server_.port(), "103", "queue-first-1"), 200) << server_.log();
  auto offer = sara->await_invite(5s);
  ASSERT_TRUE(offer.has_value()) << server_.log();
  sara->answer(*offer);
  EXPECT_GT(caller_heard_by(caller, *sara), 800.0) << "the caller is bridged to 1001";
  caller_ends(caller, "103", *sara);
  auto r = only_record();
  EXPECT_FALSE(r["answered_at"].is_null());
  EXPECT_EQ(r["agent"], "1001");
}

// A conversation that ends normally leaves no warning from the routing engine in the log.
TEST_F(QueueTest, ConnectedCallEndsWithoutARoutingWarning) {
  auto sara = logged_in("1001", "acme1001");
  Caller caller;
  auto offer = answered_call(caller, "100", "clean-end-1", *sara);
  ASSERT_TRUE(offer.has_value()) << server_.log();
  caller_ends(caller, "100", *sara);
  only_record();
  EXPECT_EQ(server_.log().find("warn routing"), std::string::npos) << server_.log();
}

// ---- the conversation: transfers from the agent's phone, the waiting experience ----

// 1001 takes the call and transfers it blind (REFER) to 1002: the REFER is accepted (202, then a
// NOTIFY saying 200), 1001's leg ends, 1002's phone rings with the caller's number and is
// bridged to the caller; the record names 1002, counts the transfer and keeps the chain.
TEST_F(QueueTest, BlindTransferToAnotherAgent) {
  auto sara = logged_in("1001", "acme1001");
  auto reza = logged_in("1002", "acme1002");
  Caller caller;
  auto offer = answered_call(caller, "100", "blind-1", *sara);
  ASSERT_TRUE(offer.has_value()) << server_.log();
  EXPECT_GT(caller_heard_by(caller, *sara), 800.0);

  EXPECT_EQ(sara->refer(*offer, "sip:1002@acme.test"), 202) << server_.log();
  auto notify = sara->await_notify(5s);
  ASSERT_TRUE(notify.has_value()) << server_.log();
  EXPECT_EQ(test::body_of(*notify).rfind("SIP/2.0 200", 0), 0u) << *notify;
  auto released = sara->await_hangup(5s);
  ASSERT_TRUE(released.has_value()) << server_.log();
  EXPECT_TRUE(is_request(*released, "BYE"));

  auto second = reza->await_invite(5s);
  ASSERT_TRUE(second.has_value()) << server_.log();
  EXPECT_NE(test::header_of(*second, "From").find("5551234"), std::string::npos) << *second;
  reza->answer(*second);
  EXPECT_GT(caller_heard_by(caller, *reza), 800.0) << "the caller talks to 1002 now";
  caller_ends(caller, "100", *reza);

  auto r = only_record();
  EXPECT_EQ(r["agent"], "1002");
  EXPECT_EQ(r["transfers"], 1);
  EXPECT_EQ(r["result"], "answered");
  const auto events = timeline(r);
  const std::vector<std::string> chain = {"offered 1001", "connected 1001",
                                          "transferred 1001 to 1002", "connected 1002"};
  auto at = events.begin();
  for (const std::string& step : chain) {
    at = std::find(at, events.end(), step);
    EXPECT_NE(at, events.end()) << "no '" << step << "' in order in " << r.dump(2);
  }
  // 1001 wrapped up after the transfer: the agent event log says so.
  const auto agent_events = server_.records("agent-events", "acme");
  bool wrapped = false;
  for (const auto& e : agent_events) {
    if (e["agent"] == "1001" && e["state"] == "wrap-up") wrapped = true;
  }
  EXPECT_TRUE(wrapped) << agent_events.dump(2);
}

// A blind transfer to a queue (by its id) goes through the routing engine again: the idle 1002
// is offered the caller with the queue's header.
TEST_F(QueueTest, BlindTransferToAQueue) {
  auto sara = logged_in("1001", "acme1001");
  auto reza = logged_in("1002", "acme1002");
  Caller caller;
  ASSERT_EQ(caller.call(server_.port(), "101", "blind-q"), 200);  // ring-all: both ring
  auto first = sara->await_invite(5s);
  auto other = reza->await_invite(5s);
  ASSERT_TRUE(first.has_value() && other.has_value()) << server_.log();
  sara->answer(*first);
  ASSERT_TRUE(reza->await_hangup(5s).has_value()) << "1002 stops ringing";
  EXPECT_EQ(sara->refer(*first, "sip:linear@acme.test"), 202);
  ASSERT_TRUE(sara->await_notify(5s).has_value());
  ASSERT_TRUE(sara->await_hangup(5s).has_value());
  auto offer = reza->await_invite(5s);
  ASSERT_TRUE(offer.has_value()) << server_.log();
  EXPECT_EQ(test::header_of(*offer, "X-Tamas-Queue"), "linear");
  reza->answer(*offer);
  EXPECT_GT(caller_heard_by(caller, *reza), 800.0);
  caller_ends(caller, "101", *reza);
  auto r = only_record();
  EXPECT_EQ(r["queue"], "linear") << "the queue it was last in";
  EXPECT_EQ(r["agent"], "1002");
  EXPECT_EQ(r["transfers"], 1);
}

// A REFER to a target the tenant does not allow is refused (NOTIFY 403) and changes nothing.
TEST_F(QueueTest, BlindTransferOutsideTheAllowListIsRefused) {
  auto sara = logged_in("1001", "acme1001");
  Caller caller;
  auto offer = answered_call(caller, "100", "blind-no", *sara);
  ASSERT_TRUE(offer.has_value()) << server_.log();
  EXPECT_EQ(sara->refer(*offer, "sip:0098912000000@evil.example"), 202);
  auto notify = sara->await_notify(5s);
  ASSERT_TRUE(notify.has_value()) << server_.log();
  EXPECT_EQ(test::body_of(*notify).rfind("SIP/2.0 403", 0), 0u) << *notify;
  EXPECT_FALSE(sara->await_hangup(500ms).has_value()) << "the agent keeps the caller";
  EXPECT_GT(caller_heard_by(caller, *sara), 800.0);
  caller_ends(caller, "100", *sara);
  EXPECT_EQ(only_record()["transfers"], 0);
}

// Attended transfer: 1001 holds the caller, calls 1002 from the phone, talks, then sends REFER
// with Replaces naming that consultation call: the caller is bridged to 1002, and both of
// 1001's legs end. The consultation has its own (internal) record.
TEST_F(QueueTest, AttendedTransferHandsTheCallerToTheConsultedAgent) {
  auto sara = logged_in("1001", "acme1001");
  auto reza = logged_in("1002", "acme1002");
  Caller caller;
  auto offer = answered_call(caller, "100", "attended-1", *sara);
  ASSERT_TRUE(offer.has_value()) << server_.log();
  ASSERT_EQ(sara->hold(*offer), 200);

  int dialled = 0;
  std::thread consult([&] { dialled = sara->dial("1002"); });
  auto ring = reza->await_invite(5s);
  if (ring) reza->answer(*ring);
  consult.join();
  ASSERT_TRUE(ring.has_value()) << server_.log();
  EXPECT_NE(test::header_of(*ring, "From").find("1001"), std::string::npos) << *ring;
  ASSERT_EQ(dialled, 200) << server_.log();

  EXPECT_EQ(sara->refer(*offer, "sip:1002@acme.test?Replaces=" + sara->dialled_replaces()), 202);
  auto notify = sara->await_notify(5s);
  ASSERT_TRUE(notify.has_value()) << server_.log();
  EXPECT_EQ(test::body_of(*notify).rfind("SIP/2.0 200", 0), 0u) << *notify;
  auto released = sara->await_hangup(5s);
  ASSERT_TRUE(released.has_value()) << "1001's leg to the caller ends\n" << server_.log();
  EXPECT_GT(sara->await_dialled_end(5s), -1.0) << "and so does the consultation";
  EXPECT_GT(caller_heard_by(caller, *reza), 800.0) << "the caller talks to 1002";
  caller_ends(caller, "100", *reza);

  auto records = server_.wait_records(2);
  ASSERT_EQ(records.size(), 2u) << server_.log();
  const auto& internal = records[0]["direction"] == "internal" ? records[0] : records[1];
  const auto& customer = records[0]["direction"] == "internal" ? records[1] : records[0];
  EXPECT_EQ(internal["caller"], "1001");
  EXPECT_EQ(internal["called"], "1002");
  EXPECT_EQ(internal["result"], "answered");
  EXPECT_EQ(customer["agent"], "1002");
  EXPECT_EQ(customer["transfers"], 1);
  EXPECT_EQ(customer["hold_count"], 1);
  const auto events = timeline(customer);
  EXPECT_NE(std::find(events.begin(), events.end(), "transferred 1001 to 1002 (attended)"),
            events.end())
      << customer.dump(2);
}

// Joining a queue with a recording notice and information messages: the notice first, then the
// messages in turn every 2 s while the caller waits.
TEST_F(QueueTest, RecordingNoticeThenMessagesInTurn) {
  Caller caller;
  ASSERT_EQ(caller.call(server_.port(), "104", "notice-1"), 200);
  auto [rms, packets] = caller.rtp.listen(1500ms);
  EXPECT_GT(rms, 300.0) << "the notice is heard";
  EXPECT_NE(server_.wait_log({"message", "prompt=more"}, 10s), "") << server_.log();
  EXPECT_EQ(caller.hang_up(server_.port(), "104"), 200);
  auto r = only_record();
  const auto events = timeline(r);
  ASSERT_GE(events.size(), 4u) << r.dump(2);
  EXPECT_EQ(events[0], "queued announced");
  EXPECT_EQ(events[1], "notice notice");
  EXPECT_EQ(events[2], "message info");
  EXPECT_EQ(events[3], "message more");
}

}  // namespace
}  // namespace tamas
