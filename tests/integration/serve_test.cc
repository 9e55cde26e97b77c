// `tamas serve` as a black box: the real binary, driven by SIPp and by a raw SIP/RTP client on
// 127.0.0.1, configured by tests/data/serve/acme.yaml. Every server started here is stopped here.
#include <gtest/gtest.h>
#include <signal.h>
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "media/engine.h"
#include "support/agent_phone.h"
#include "support/caller.h"
#include "support/serve_process.h"
#include "support/sip_peer.h"

namespace tamas {
namespace {

using namespace std::chrono_literals;
using test::AgentPhone;
using test::Caller;
using test::ServeProcess;
using test::UdpPeer;

const std::string kConfig = std::string(TAMAS_SOURCE_DIR) + "/tests/data/serve/acme.yaml";

// acme.yaml with the transfer destination's port replaced, written into a temporary file.
std::string config_with_far_port(uint16_t port) {
  std::ifstream in(kConfig);
  std::string text(std::istreambuf_iterator<char>(in), {});
  const std::string from = "127.0.0.1:5999";
  text.replace(text.find(from), from.size(), "127.0.0.1:" + std::to_string(port));
  const auto path = std::filesystem::temp_directory_path() /
                    ("tamas-acme-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << text;
  return path.string();
}

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists("/usr/bin/espeak-ng")) GTEST_SKIP() << "espeak-ng is missing";
    ASSERT_TRUE(server_.ready()) << server_.log();
  }
  ServeProcess server_{kConfig};
};

TEST_F(ServeTest, MenuPromptIsHeardAndDigitTwoReachesSupport) {
  Caller c;
  ASSERT_EQ(c.call(server_.port(), "100", "menu-2"), 200);
  auto [rms, packets] = c.rtp.listen(1500ms);
  EXPECT_GT(packets, 50) << "RTP every 20 ms";
  EXPECT_GT(rms, 300.0) << "the welcome prompt, not silence";
  c.rtp.send_digit('2');
  // The flow plays "Support." and hangs up: the server sends BYE.
  auto bye = c.sip.receive(10s);
  while (bye && UdpPeer::status_of(*bye) > 0) bye = c.sip.receive(10s);  // skip retransmissions
  ASSERT_TRUE(bye.has_value()) << server_.log();
  EXPECT_EQ(bye->rfind("BYE ", 0), 0u) << *bye;
  auto records = server_.wait_records(1);
  ASSERT_EQ(records.size(), 1u) << records.dump();
  const auto& r = records[0];
  EXPECT_EQ(r["tenant"], "acme");
  EXPECT_EQ(r["called"], "100");
  EXPECT_EQ(r["caller"], "5551234");
  EXPECT_EQ(r["ivr_path"], "2");
  EXPECT_EQ(r["result"], "completed");
  EXPECT_EQ(r["ended_by"], "system");
  EXPECT_EQ(r["variables"]["department"], "support");
  EXPECT_FALSE(r["answered_at"].is_null());
}

// 100, 200 and 300 start the same menu in English, Persian and Arabic: each caller hears a
// prompt, and the three prompts are different recordings (their lengths differ).
TEST_F(ServeTest, TheMenuIsSpokenInEnglishPersianAndArabic) {
  std::map<std::string, std::pair<int, int>> spans;
  std::mutex mu;
  std::vector<std::thread> callers;
  for (const std::string number : {"100", "200", "300"}) {
    callers.emplace_back([&, number] {
      Caller c;
      if (c.call(server_.port(), number, "lang-" + number) != 200) return;
      auto span = c.rtp.loud_span_ms(7000ms);
      c.hang_up(server_.port(), number);
      std::lock_guard<std::mutex> lock(mu);
      spans[number] = span;
    });
  }
  for (auto& t : callers) t.join();
  ASSERT_EQ(spans.size(), 3u) << server_.log();
  for (const auto& [number, span] : spans) {
    EXPECT_GE(span.first, 0) << number << ": no prompt heard";
    EXPECT_LT(span.first, 1000) << number << ": the prompt starts at once";
  }
  const int en = spans["100"].second, fa = spans["200"].second, ar = spans["300"].second;
  EXPECT_GT(std::abs(en - fa), 300) << "en " << en << " ms, fa " << fa << " ms";
  EXPECT_GT(std::abs(en - ar), 300) << "en " << en << " ms, ar " << ar << " ms";
  EXPECT_GT(std::abs(fa - ar), 300) << "fa " << fa << " ms, ar " << ar << " ms";
  auto records = server_.wait_records(3);
  ASSERT_EQ(records.size(), 3u);
  for (const auto& r : records) {
    const std::string lang = r["variables"]["language"];
    EXPECT_EQ(lang, r["called"] == "100" ? "en" : r["called"] == "200" ? "fa" : "ar");
  }
}

// SIGHUP reloads: a good file adds a number, an agent and a queue, and changes a queue; a bad
// file is refused and the old one keeps serving.
TEST(ServeReload, SighupAppliesAGoodFileAndRefusesABadOne) {
  if (!std::filesystem::exists("/usr/bin/espeak-ng")) GTEST_SKIP() << "espeak-ng is missing";
  const auto path = std::filesystem::temp_directory_path() /
                    ("tamas-reload-" + std::to_string(::getpid()) + ".yaml");
  std::ifstream in(kConfig);
  const std::string original(std::istreambuf_iterator<char>(in), {});
  std::ofstream(path) << original;
  ServeProcess server(path.string());
  ASSERT_TRUE(server.ready()) << server.log();
  Caller before;
  EXPECT_EQ(before.call(server.port(), "400", "reload-0"), 404);

  std::string with_400 = original;
  const std::string key = "\"100\": {flow: main}";
  with_400.replace(with_400.find(key), key.size(), key + "\n      \"400\": {flow: main}");
  const std::string agent = "{extension: \"1002\", password: secret1002, name: Reza, queues: [support]}";
  ASSERT_NE(with_400.find(agent), std::string::npos);
  with_400.replace(with_400.find(agent), agent.size(),
                   agent + "\n      - {extension: \"1009\", password: secret1009, queues: [late]}");
  const std::string queues = "    queues:\n";
  ASSERT_NE(with_400.find(queues), std::string::npos);
  with_400.replace(with_400.find(queues), queues.size(),
                   queues + "      - {id: late, strategy: ring-all}\n");
  std::ofstream(path) << with_400;
  server.signal(SIGHUP);
  // The reload is applied asynchronously: the core thread says when.
  ASSERT_NE(server.wait_log({"configuration reloaded"}), "") << server.log();
  EXPECT_NE(server.log().find("queue added"), std::string::npos) << server.log();
  Caller reloaded;
  const int st = reloaded.call(server.port(), "400", "reload-1");
  if (st == 200) reloaded.hang_up(server.port(), "400");
  EXPECT_EQ(st, 200) << server.log();
  // The new agent registers and logs in (the router has it, in the new queue).
  test::AgentPhone phone(server.port(), "acme.test");
  ASSERT_EQ(phone.register_as("1009", "secret1009"), 200) << server.log();
  ASSERT_EQ(phone.dial("*11"), 200);
  EXPECT_NE(server.wait_log({"agent status", "agent=1009", "code=*11"}), "") << server.log();
  EXPECT_EQ(server.log().find("feature code refused"), std::string::npos) << server.log();

  std::ofstream(path) << "tenants: [ this is not: valid yaml";
  server.signal(SIGHUP);
  EXPECT_NE(server.wait_log({"reload refused"}), "") << server.log();
  Caller after;
  EXPECT_EQ(after.call(server.port(), "400", "reload-2"), 200) << "the old configuration serves";
  after.hang_up(server.port(), "400");
  EXPECT_EQ(server.stop(SIGTERM), 0);
  std::filesystem::remove(path);
}

// A flow with `answer: early` plays its announcement in a 183 and refuses the call (503) without
// ever answering it: the caller hears audio but is not charged.
TEST_F(ServeTest, EarlyMediaAnnouncementWithoutAnswer) {
  Caller c;
  c.sip.send_to(server_.port(), test::invite("150", c.sip.port(), "early-1",
                                             test::sdp_body(c.rtp.port())));
  std::optional<std::string> progress;
  for (int i = 0; i < 10 && !progress; ++i) {
    auto msg = c.sip.receive(5s);
    if (!msg) break;
    if (UdpPeer::status_of(*msg) == 183) progress = *msg;
  }
  ASSERT_TRUE(progress.has_value()) << server_.log();
  c.rtp.set_remote(progress->substr(progress->find("\r\n\r\n") + 4));
  auto [rms, packets] = c.rtp.listen(1000ms);
  EXPECT_GT(packets, 20);
  EXPECT_GT(rms, 300.0) << "the announcement, before any answer";
  EXPECT_EQ(c.sip.final_status("early-1"), 503);
  auto records = server_.wait_records(1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_TRUE(records[0]["answered_at"].is_null());
  EXPECT_EQ(records[0]["result"], "completed");
}

TEST_F(ServeTest, SippCallerPressesTwoWithRfc2833) {
  if (!test::have_sipp()) GTEST_SKIP() << "sipp is missing";
  const std::string scenario = std::string(TAMAS_SOURCE_DIR) + "/tests/data/serve/sipp_dtmf.xml";
  const int rc = test::run_sipp({"-sf", scenario, "-s", "100", "-m", "1",
                                 "127.0.0.1:" + std::to_string(server_.port())});
  EXPECT_EQ(rc, 0) << server_.log();
  auto records = server_.wait_records(1);
  ASSERT_EQ(records.size(), 1u) << records.dump();
  EXPECT_EQ(records[0]["ivr_path"], "2");
  EXPECT_EQ(records[0]["result"], "completed");
}

TEST_F(ServeTest, VoicemailKeepsTheCallersAudio) {
  Caller c;
  ASSERT_EQ(c.call(server_.port(), "100", "vm-1"), 200);
  c.rtp.listen(500ms);
  c.rtp.send_digit('9');
  c.rtp.listen(3500ms);  // "Leave a message after the tone." and the beep
  c.rtp.send_tone(2000ms);
  EXPECT_EQ(c.hang_up(server_.port(), "100"), 200);
  auto records = server_.wait_records(1);
  ASSERT_EQ(records.size(), 1u) << server_.log();
  EXPECT_EQ(records[0]["result"], "voicemail");
  EXPECT_EQ(records[0]["ivr_path"], "9");
  EXPECT_EQ(records[0]["ended_by"], "caller");
  auto vms = server_.records("voicemails");
  ASSERT_EQ(vms.size(), 1u) << vms.dump();
  const std::string path = vms[0]["path"];
  EXPECT_GT(vms[0]["duration_seconds"].get<double>(), 1.0);
  auto audio = media::Audio::load(path);
  ASSERT_TRUE(audio.is_ok()) << audio.message();
  double sum = 0;
  for (int16_t s : (*audio)->samples()) sum += static_cast<double>(s) * s;
  const double rms = std::sqrt(sum / static_cast<double>((*audio)->samples().size()));
  EXPECT_GT(rms, 1000.0) << "the caller's tone is in " << path;
}

TEST_F(ServeTest, RefusalsHaveTheRightStatus) {
  Caller unknown;
  EXPECT_EQ(unknown.call(server_.port(), "777", "unknown-number"), 404);
  Caller bad_sdp;
  EXPECT_EQ(bad_sdp.call(server_.port(), "100", "bad-sdp", "this is not SDP\r\n"), 400);
  Caller no_codec;
  const std::string g729 =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n";
  EXPECT_EQ(no_codec.call(server_.port(), "100", "no-codec", g729), 488);
  // acme's number from another tenant's trunk address, and a number from nowhere.
  Caller wrong_trunk;
  EXPECT_EQ(wrong_trunk.call(server_.port(), "500", "other-tenant"), 403)
      << "500 belongs to 'other', which takes calls only from 127.0.0.2";
  // Malformed request: a 400, and the server keeps serving.
  UdpPeer raw;
  raw.send_to(server_.port(),
              "INVITE sip:100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" +
                  std::to_string(raw.port()) +
                  ";rport;branch=z9hG4bK-bad\r\nCSeq: not-a-number INVITE\r\nCall-ID: bad\r\n"
                  "Content-Length: 0\r\n\r\n");
  EXPECT_EQ(raw.any_status(2s), 400);
  Caller after;
  EXPECT_EQ(after.call(server_.port(), "100", "after-bad"), 200);
  EXPECT_EQ(after.hang_up(server_.port(), "100"), 200);
}

// Menu 3 transfers to an external SIP URI (allowed by transfer_allow): SIPp answers and echoes
// the caller's audio back through the bridge; the caller hangs up and both legs end.
TEST(ServeTransfer, ExternalTransferBridgesTheCallerToTheDestination) {
  if (!test::have_sipp()) GTEST_SKIP() << "sipp is missing";
  if (!std::filesystem::exists("/usr/bin/espeak-ng")) GTEST_SKIP() << "espeak-ng is missing";
  const uint16_t far_port = test::free_port();
  const uint16_t far_media = test::free_port();
  test::Child callee({"/usr/bin/sipp", "-sn", "uas", "-rtp_echo", "-i", "127.0.0.1", "-p",
                     std::to_string(far_port), "-mp", std::to_string(far_media), "-m", "1",
                     "-nostdin", "-timeout", "40s", "-timeout_error"});
  const std::string config = config_with_far_port(far_port);
  ServeProcess server(config);
  ASSERT_TRUE(server.ready()) << server.log();
  Caller c;
  ASSERT_EQ(c.call(server.port(), "100", "transfer-1"), 200);
  c.rtp.listen(500ms);
  c.rtp.send_digit('3');
  // Talk for two seconds; what comes back is SIPp echoing it through the bridge.
  std::thread talk([&] { c.rtp.send_tone(2000ms); });
  c.rtp.listen(700ms);  // the transfer is placed and answered
  auto [rms, packets] = c.rtp.listen(1000ms);
  talk.join();
  EXPECT_GT(packets, 20) << server.log();
  EXPECT_GT(rms, 1000.0) << "the caller's tone, echoed by the destination";
  EXPECT_EQ(c.hang_up(server.port(), "100"), 200);
  EXPECT_EQ(callee.wait(20s), 0) << "SIPp's callee got its BYE";
  auto records = server.wait_records(1);
  ASSERT_EQ(records.size(), 1u) << server.log();
  EXPECT_EQ(records[0]["result"], "transferred");
  EXPECT_EQ(records[0]["ivr_path"], "3");
  EXPECT_EQ(records[0]["ended_by"], "caller");
  EXPECT_EQ(records[0]["transfer_target"], "sip:600@127.0.0.1:" + std::to_string(far_port));
  std::filesystem::remove(config);
}

// An agent's phone registering: challenged, then accepted with the right password (MD5 digest as
// a phone computes it), refused with a wrong one, and never for somebody else's extension.
TEST_F(ServeTest, AgentPhonesRegisterWithDigestAuthentication) {
  AgentPhone phone(server_.port(), "acme.test");
  EXPECT_EQ(phone.register_as("1001", ""), 401) << "challenged first";
  const std::string& challenge = phone.last_response();
  EXPECT_NE(challenge.find("algorithm=SHA-256"), std::string::npos) << challenge;
  EXPECT_NE(challenge.find("algorithm=MD5"), std::string::npos) << challenge;
  EXPECT_NE(challenge.find("realm=\"acme.test\""), std::string::npos) << challenge;

  EXPECT_EQ(phone.register_as("1001", "secret1001"), 200) << server_.log();
  EXPECT_NE(phone.last_response().find("expires=300"), std::string::npos)
      << phone.last_response();

  AgentPhone wrong(server_.port(), "acme.test");
  EXPECT_EQ(wrong.register_as("1002", "guess"), 401);
  AgentPhone unknown(server_.port(), "acme.test");
  EXPECT_EQ(unknown.register_as("1099", "guess"), 401)
      << "an unknown extension looks like a wrong password";
  AgentPhone impostor(server_.port(), "acme.test");
  EXPECT_EQ(impostor.register_as("1002", "secret1001", "1001"), 403)
      << "1001 may not register 1002's phone";
}

// The whole path: agent 1001's phone registers and logs in with *11; a caller picks the support
// queue (4) in the menu; the phone rings with the caller's number and the queue, answers; audio
// flows both ways through the bridge; the recording is stereo (caller left, agent right); the
// record names the queue and the agent.
TEST_F(ServeTest, QueuedCallerIsConnectedToALoggedInAgent) {
  AgentPhone phone(server_.port(), "acme.test");
  ASSERT_EQ(phone.register_as("1001", "secret1001"), 200) << server_.log();

  // *11 from the phone: challenged (407), then accepted; the confirmation plays and the server
  // hangs up.
  ASSERT_EQ(phone.dial("*11"), 200) << server_.log();
  EXPECT_GT(phone.await_dialled_end(), 300.0) << "the confirmation prompt, then the server's BYE";
  ASSERT_NE(server_.log().find("agent status"), std::string::npos) << server_.log();

  // The caller picks the queue.
  Caller caller;
  ASSERT_EQ(caller.call(server_.port(), "100", "queued-1"), 200);
  caller.rtp.listen(300ms);
  caller.rtp.send_digit('4');
  // The phone rings: an INVITE from the server, with the caller's number.
  auto offer = phone.await_invite(10s);
  ASSERT_TRUE(offer.has_value()) << server_.log();
  EXPECT_NE(test::header_of(*offer, "From").find("5551234"), std::string::npos) << *offer;
  EXPECT_EQ(test::header_of(*offer, "X-Tamas-Queue"), "support");
  EXPECT_EQ(test::header_of(*offer, "X-Tamas-IVR"), "4") << "the menu choices before the queue";
  phone.answer(*offer);
  test::RtpPeer& phone_rtp = phone.rtp();
  // Talk: the caller sends one tone, the agent another, at the same time.
  std::thread agent_talk([&] { phone_rtp.send_tone(2000ms, 4000); });
  std::thread caller_talk([&] { caller.rtp.send_tone(2000ms, 8000); });
  auto [heard_by_caller, p1] = caller.rtp.listen(1800ms);
  auto [heard_by_agent, p2] = phone_rtp.listen(200ms);
  agent_talk.join();
  caller_talk.join();
  EXPECT_GT(heard_by_caller, 800.0) << "the agent's voice reaches the caller";
  EXPECT_GT(heard_by_agent, 800.0) << "the caller's voice reaches the agent";

  // The agent holds (a=sendonly): the caller hears the queue's music; then resumes.
  ASSERT_EQ(phone.hold(*offer), 200) << server_.log();
  auto [music, p3] = caller.rtp.listen(1500ms);
  EXPECT_GT(music, 300.0) << "music on hold while the agent is silent";
  ASSERT_EQ(phone.resume(*offer), 200) << server_.log();
  std::thread agent_again([&] { phone_rtp.send_tone(1000ms, 4000); });
  auto [after_resume, p4] = caller.rtp.listen(900ms);
  agent_again.join();
  EXPECT_GT(after_resume, 800.0) << "the agent is heard again after resuming";
  EXPECT_EQ(caller.hang_up(server_.port(), "100"), 200);
  // The agent's phone gets a BYE.
  auto agent_bye = phone.await_hangup(10s);
  ASSERT_TRUE(agent_bye.has_value()) << server_.log();
  EXPECT_TRUE(test::is_request(*agent_bye, "BYE")) << *agent_bye;

  auto records = server_.wait_records(1);
  ASSERT_EQ(records.size(), 1u) << server_.log();
  const auto& r = records[0];
  EXPECT_EQ(r["result"], "answered");
  EXPECT_EQ(r["queue"], "support");
  EXPECT_EQ(r["agent"], "1001");
  EXPECT_EQ(r["ivr_path"], "4");
  EXPECT_EQ(r["ended_by"], "caller");
  EXPECT_GT(r["talk_seconds"].get<double>(), 1.5) << "two seconds of conversation";
  EXPECT_LT(r["talk_seconds"].get<double>(), 10.0);
  EXPECT_GE(r["wait_seconds"].get<double>(), r["ring_seconds"].get<double>());
  EXPECT_EQ(r["hold_count"], 1);
  EXPECT_GT(r["hold_seconds"].get<double>(), 1.0);
  std::vector<std::string> events;
  for (const auto& e : r["timeline"]) events.push_back(e["event"]);
  EXPECT_EQ(events, (std::vector<std::string>{"queued", "offered", "connected", "held", "resumed",
                                              "completed"}));
  // Stereo: the caller (amplitude 8000) on the left, the agent (4000) on the right.
  const std::string path = r["recording"];
  ASSERT_FALSE(path.empty());
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  ASSERT_NE(f, nullptr) << path;
  EXPECT_EQ(info.channels, 2);
  std::vector<int16_t> frames(static_cast<size_t>(info.frames) * 2);
  sf_readf_short(f, frames.data(), info.frames);
  sf_close(f);
  // The first 1.5 s of the conversation, when both tones were playing (later come the music on
  // hold on the right and the caller's silence on the left).
  const size_t span = std::min<size_t>(frames.size(), 2 * 12000);
  double left = 0, right = 0;
  for (size_t i = 0; i + 1 < span; i += 2) {
    left += static_cast<double>(frames[i]) * frames[i];
    right += static_cast<double>(frames[i + 1]) * frames[i + 1];
  }
  const double n = static_cast<double>(span / 2);
  left = std::sqrt(left / n);
  right = std::sqrt(right / n);
  EXPECT_GT(right, 300.0) << "the agent is on the right";
  EXPECT_GT(left, 1.4 * right) << "the (louder) caller is on the left: " << left << " vs " << right;
}


// Nobody is logged in: two callers (English, then Persian) wait in the support queue and hear
// their position and expected wait, in their own language.
TEST_F(ServeTest, WaitingCallersHearTheirPosition) {
  Caller first, second;
  ASSERT_EQ(first.call(server_.port(), "100", "wait-1"), 200);
  first.rtp.listen(300ms);
  first.rtp.send_digit('4');
  auto [rms1, p1] = first.rtp.listen(3000ms);
  ASSERT_EQ(second.call(server_.port(), "200", "wait-2"), 200);
  second.rtp.listen(300ms);
  second.rtp.send_digit('4');
  auto [rms2, p2] = second.rtp.listen(3500ms);
  EXPECT_GT(rms1, 300.0) << "the first caller's announcement";
  EXPECT_GT(rms2, 300.0) << "the second caller's announcement";
  const std::string log = server_.log();
  EXPECT_NE(log.find("announced call=1 position=1"), std::string::npos) << log;
  EXPECT_NE(log.find("announced call=2 position=2"), std::string::npos) << log;
  EXPECT_EQ(second.hang_up(server_.port(), "200"), 200);
  EXPECT_EQ(first.hang_up(server_.port(), "100"), 200);
  auto records = server_.wait_records(2);
  ASSERT_EQ(records.size(), 2u);
  for (const auto& r : records) {
    EXPECT_EQ(r["result"], "abandoned_in_queue");
    EXPECT_EQ(r["queue"], "support");
    EXPECT_GT(r["wait_seconds"].get<double>(), 2.0);
    const auto& last = r["timeline"].back();
    EXPECT_EQ(last["event"], "abandoned");
    EXPECT_NE(last["detail"].get<std::string>().find("position "), std::string::npos) << last;
  }
}

TEST_F(ServeTest, SigtermDrainsAndExitsZero) {
  Caller c;
  ASSERT_EQ(c.call(server_.port(), "100", "drain-1"), 200);
  server_.signal(SIGTERM);
  server_.wait_log({"draining calls="});
  // New calls are refused while the call in progress goes on.
  Caller late;
  EXPECT_EQ(late.call(server_.port(), "100", "late"), 503) << server_.log();
  EXPECT_EQ(c.hang_up(server_.port(), "100"), 200);
  EXPECT_EQ(server_.stop(SIGTERM), 0) << server_.log();
}

}  // namespace
}  // namespace tamas
