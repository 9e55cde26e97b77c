// `tamas serve` as a black box: the real binary, driven by SIPp and by a raw SIP/RTP client on
// 127.0.0.1, configured by tests/data/serve/acme.yaml. Every server started here is stopped here.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sndfile.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <map>
#include <sstream>
#include <mutex>
#include <thread>

#include "media/engine.h"
#include "media/g711.h"
#include "media/rtp.h"
#include "sip/digest.h"
#include "sip/sip.h"
#include "support/sip_peer.h"

namespace tamas {
namespace {

using namespace std::chrono_literals;
using test::UdpPeer;

const std::string kConfig = std::string(TAMAS_SOURCE_DIR) + "/tests/data/serve/acme.yaml";

// Runs a command and returns its exit status and standard output.
std::pair<int, std::string> run(const std::vector<std::string>& args) {
  std::string cmd;
  for (const auto& a : args) cmd += "'" + a + "' ";
  FILE* p = popen((cmd + "2>/dev/null").c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

// A running `tamas serve` on a free SIP port and its own RTP range and data folder.
class ServeProcess {
 public:
  explicit ServeProcess(const std::string& config = kConfig) {
    data_dir_ = std::filesystem::temp_directory_path() /
                ("tamas-serve-" + std::to_string(::getpid()) + "-" + std::to_string(++counter_));
    std::filesystem::remove_all(data_dir_);
    std::filesystem::create_directories(data_dir_);
    log_ = data_dir_ / "serve.log";
    port_ = test::free_port();
    const int rtp = 21000 + static_cast<int>((::getpid() * 7 + counter_ * 500) % 20000) / 2 * 2;
    std::vector<std::string> args = {TAMAS_BINARY,
                                     "serve",
                                     "--config",
                                     config,
                                     "--data-dir",
                                     data_dir_.string(),
                                     "--sip-listen",
                                     "127.0.0.1:" + std::to_string(port_),
                                     "--rtp-ports",
                                     std::to_string(rtp) + "-" + std::to_string(rtp + 400),
                                     "--drain-timeout",
                                     "5s"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn(&pid_, TAMAS_BINARY, &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove_all(data_dir_);
  }

  // Waits until the server answers OPTIONS (prompts are synthesized before it listens).
  bool ready(std::chrono::seconds limit = 60s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int i = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (exited()) return false;
      UdpPeer peer;
      const std::string id = "ready-" + std::to_string(++i);
      peer.send_to(port_, test::request("OPTIONS", "100", peer.port(), id, 1, "", "", ""));
      if (peer.any_status(300ms) == 200) return true;
    }
    return false;
  }
  bool exited() {
    if (pid_ <= 0) return true;
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      exit_status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      pid_ = -1;
      return true;
    }
    return false;
  }
  // Sends a signal and waits (up to `limit`) for the exit status.
  int stop(int sig = SIGTERM, std::chrono::seconds limit = 20s) {
    kill(pid_, sig);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (exited()) return exit_status_;
      std::this_thread::sleep_for(20ms);  // polling a child's exit: there is no event to await
    }
    return -2;
  }
  void signal(int sig) { kill(pid_, sig); }
  uint16_t port() const { return port_; }
  std::string log() const {
    std::ifstream in(log_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  nlohmann::json records(const std::string& what = "interactions") const {
    auto [rc, out] = run({TAMAS_BINARY, what, "--config", kConfig, "--data-dir", data_dir_.string(),
                          "--json"});
    if (rc != 0) return nlohmann::json();
    return nlohmann::json::parse(out, nullptr, false);
  }
  // Waits until `n` interaction records are stored.
  nlohmann::json wait_records(size_t n, std::chrono::seconds limit = 15s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    nlohmann::json r;
    while (std::chrono::steady_clock::now() < deadline) {
      r = records();
      if (r.is_array() && r.size() >= n) return r;
      std::this_thread::sleep_for(100ms);  // the store commits asynchronously; poll the file
    }
    return r;
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path data_dir_, log_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  int exit_status_ = -1;
};

// A background process (SIPp as a callee), killed if still running at the end.
class Background {
 public:
  explicit Background(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Background() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // The exit status, waiting up to `limit`; -2 when still running.
  int wait(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      int st = 0;
      if (waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      }
      std::this_thread::sleep_for(20ms);  // polling a child's exit: there is no event to await
    }
    return -2;
  }

 private:
  pid_t pid_ = -1;
};

// A caller's media: an RTP socket that records what it receives and sends DTMF and tones.
class RtpPeer {
 public:
  RtpPeer() : sock_() {}
  uint16_t port() const { return sock_.port(); }

  void set_remote(const std::string& sdp) {
    auto a = sip::parse_sdp(sdp);
    ASSERT_TRUE(a.is_ok()) << a.message();
    remote_port_ = a->port;
    for (const auto& f : a->formats) {
      if (f.encoding == "telephone-event") te_pt_ = f.payload_type;
    }
  }

  // Receives RTP for `d`, calling frame(pcm) with each PCMU packet's decoded audio.
  template <typename Frame>
  void receive_frames(Duration d, Frame frame) {
    const auto deadline = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      auto pkt = sock_.receive(left);
      if (!pkt) break;
      std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(pkt->data()), pkt->size());
      auto rtp = media::parse_rtp(bytes);
      if (!rtp || rtp->header.payload_type != 0) continue;
      std::vector<int16_t> pcm(rtp->payload.size());
      media::decode(media::Codec::kPcmu, rtp->payload, pcm.data());
      frame(pcm);
    }
  }

  // Receives RTP for `d` and returns the RMS of the decoded audio (PCMU), and the packet count.
  std::pair<double, int> listen(Duration d) {
    double sum = 0;
    long samples = 0;
    int packets = 0;
    receive_frames(d, [&](const std::vector<int16_t>& pcm) {
      packets++;
      for (int16_t s : pcm) sum += static_cast<double>(s) * s;
      samples += static_cast<long>(pcm.size());
    });
    return {samples ? std::sqrt(sum / static_cast<double>(samples)) : 0.0, packets};
  }

  // An RFC 4733 event: start, two updates, three end packets, 20 ms apart (the media clock).
  void send_digit(char digit) {
    const auto ev = media::digit_to_event(digit);
    ASSERT_TRUE(ev.has_value());
    ts_ += 160 * 10;
    for (int i = 0; i < 6; ++i) {
      media::TelephoneEvent te;
      te.event = *ev;
      te.volume = 10;
      te.end = i >= 3;
      te.duration = static_cast<uint16_t>(160 * std::min(i + 1, 4));
      uint8_t payload[media::kTelephoneEventSize];
      media::build_telephone_event(te, payload);
      send(te_pt_, std::span<const uint8_t>(payload, sizeof payload), i == 0);
      std::this_thread::sleep_for(20ms);
    }
  }

  // Receives for `d` and returns when the audio was loud (first and last 20 ms frame above
  // `threshold` RMS, from the start), or {-1, -1} when it never was.
  std::pair<int, int> loud_span_ms(Duration d, double threshold = 500) {
    int first = -1, last = -1, frame = 0;
    receive_frames(d, [&](const std::vector<int16_t>& pcm) {
      double sum = 0;
      for (int16_t v : pcm) sum += static_cast<double>(v) * v;
      if (!pcm.empty() && std::sqrt(sum / static_cast<double>(pcm.size())) > threshold) {
        if (first < 0) first = frame * 20;
        last = frame * 20;
      }
      frame++;
    });
    return {first, last};
  }

  // A 440 Hz tone in PCMU, paced at 20 ms a packet, for `d`.
  void send_tone(Duration d, double amplitude = 8000) {
    const int frames = static_cast<int>(d.count() / 20);
    for (int f = 0; f < frames; ++f) {
      int16_t pcm[160];
      for (int i = 0; i < 160; ++i) {
        pcm[i] = static_cast<int16_t>(amplitude * std::sin(2 * M_PI * 440 * (phase_++) / 8000.0));
      }
      uint8_t payload[160];
      media::encode(media::Codec::kPcmu, std::span<const int16_t>(pcm, 160), payload);
      ts_ += 160;
      send(0, std::span<const uint8_t>(payload, 160), false);
      std::this_thread::sleep_for(20ms);
    }
  }

 private:
  void send(uint8_t pt, std::span<const uint8_t> payload, bool marker) {
    media::RtpHeader h;
    h.payload_type = pt;
    h.marker = marker;
    h.seq = seq_++;
    h.timestamp = ts_;
    h.ssrc = 0x1234abcd;
    uint8_t out[1500];
    const size_t n = media::build_rtp(h, payload, std::span<uint8_t>(out, sizeof out));
    sock_.send_to(remote_port_, std::string(reinterpret_cast<char*>(out), n));
  }

  UdpPeer sock_;
  uint16_t remote_port_ = 0;
  uint8_t te_pt_ = 101;
  uint16_t seq_ = 1;
  uint32_t ts_ = 0;
  long phase_ = 0;
};

// A SIP caller using UdpPeer for signalling and RtpPeer for media.
struct Caller {
  UdpPeer sip;
  RtpPeer rtp;
  std::string call_id;
  std::string to_tag;
  int cseq = 1;

  int call(uint16_t server, const std::string& number, const std::string& id,
           const std::string& body = "") {
    call_id = id;
    sip.send_to(server, test::invite(number, sip.port(), id,
                                     body.empty() ? test::sdp_body(rtp.port()) : body));
    const int st = sip.final_status(id);
    to_tag = sip.last_to_tag();
    if (st == 200) {
      const std::string& resp = sip.last_response();
      rtp.set_remote(resp.substr(resp.find("\r\n\r\n") + 4));
      sip.send_to(server, test::ack(number, sip.port(), id, to_tag));
    } else if (st >= 300) {
      sip.send_to(server, test::ack(number, sip.port(), id, to_tag));
    }
    return st;
  }
  int hang_up(uint16_t server, const std::string& number) {
    sip.send_to(server, test::bye(number, sip.port(), call_id, to_tag, ++cseq));
    return sip.final_status(call_id, "BYE");
  }
};

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
  ServeProcess server_;
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

// SIGHUP reloads: a good file adds a number; a bad file is refused and the old one keeps serving.
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
  std::ofstream(path) << with_400;
  server.signal(SIGHUP);
  int st = 0;
  for (int i = 0; i < 100 && st != 200; ++i) {  // the reload is applied asynchronously
    Caller c;
    st = c.call(server.port(), "400", "reload-1-" + std::to_string(i));
    if (st == 200) c.hang_up(server.port(), "400");
  }
  EXPECT_EQ(st, 200) << server.log();

  std::ofstream(path) << "tenants: [ this is not: valid yaml";
  server.signal(SIGHUP);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (server.log().find("reload refused") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);  // waiting for the log line: there is no other signal
  }
  EXPECT_NE(server.log().find("reload refused"), std::string::npos) << server.log();
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
  Background callee({"/usr/bin/sipp", "-sn", "uas", "-rtp_echo", "-i", "127.0.0.1", "-p",
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
struct Phone {
  UdpPeer sip;
  int cseq = 0;
  // Sends REGISTER for `user` (as `auth_user` with `password`, when given) and returns the final
  // status; answers one 401 challenge when credentials are given.
  int register_as(uint16_t server, const std::string& user, const std::string& auth_user,
                  const std::string& password, int expires = 300) {
    const std::string lp = std::to_string(sip.port());
    auto request = [&](const std::string& authorization) {
      ++cseq;
      std::string m = "REGISTER sip:acme.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" + lp +
                      ";branch=z9hG4bK-reg-" + user + std::to_string(cseq) +
                      ";rport\r\nMax-Forwards: 70\r\nFrom: <sip:" + user +
                      "@acme.test>;tag=ph" + user + "\r\nTo: <sip:" + user +
                      "@acme.test>\r\nCall-ID: reg-" + user + "-" + lp + "\r\nCSeq: " +
                      std::to_string(cseq) + " REGISTER\r\nContact: <sip:" + user +
                      "@127.0.0.1:" + lp + ">\r\nExpires: " + std::to_string(expires) + "\r\n";
      if (!authorization.empty()) m += "Authorization: " + authorization + "\r\n";
      return m + "Content-Length: 0\r\n\r\n";
    };
    const std::string call_id = "reg-" + user + "-" + lp;
    sip.send_to(server, request(""));
    int st = sip.final_status(call_id, "REGISTER");
    if (st != 401 || password.empty()) return st;
    // The MD5 challenge's nonce.
    const std::string& resp = sip.last_response();
    const auto md5 = resp.find("algorithm=MD5");
    const auto line_start = resp.rfind("WWW-Authenticate:", md5);
    const auto n0 = resp.find("nonce=\"", line_start) + 7;
    const std::string nonce = resp.substr(n0, resp.find('"', n0) - n0);
    const std::string uri = "sip:acme.test";
    const auto alg = sip::DigestAlgorithm::kMd5;
    const std::string ha1 = sip::digest_ha1(alg, auth_user, "acme.test", password);
    const std::string ha2 = sip::digest_hex(alg, "REGISTER:" + uri);
    const std::string response =
        sip::digest_hex(alg, ha1 + ":" + nonce + ":00000001:c0ffee:auth:" + ha2);
    const std::string auth = "Digest username=\"" + auth_user + "\", realm=\"acme.test\", nonce=\"" +
                             nonce + "\", uri=\"" + uri + "\", response=\"" + response +
                             "\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c0ffee\"";
    sip.send_to(server, request(auth));
    return sip.final_status(call_id, "REGISTER");
  }
};

// The value of header `name` in a SIP message ("" when absent); every one of them for Via.
std::vector<std::string> headers_of(const std::string& msg, const std::string& name) {
  std::vector<std::string> out;
  std::istringstream in(msg);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) break;
    if (line.rfind(name + ":", 0) == 0) {
      std::string v = line.substr(name.size() + 1);
      while (!v.empty() && v.front() == ' ') v.erase(v.begin());
      out.push_back(v);
    }
  }
  return out;
}

// A response to `request` as a phone would send it (To tagged, Vias, From, Call-ID, CSeq copied).
std::string response_to(const std::string& request, int status, const std::string& reason,
                        uint16_t phone_port, const std::string& sdp = "") {
  std::string m = "SIP/2.0 " + std::to_string(status) + " " + reason + "\r\n";
  for (const std::string& v : headers_of(request, "Via")) m += "Via: " + v + "\r\n";
  m += "From: " + headers_of(request, "From").at(0) + "\r\n";
  std::string to = headers_of(request, "To").at(0);
  if (to.find("tag=") == std::string::npos) to += ";tag=phone";
  m += "To: " + to + "\r\nCall-ID: " + headers_of(request, "Call-ID").at(0) + "\r\n";
  m += "CSeq: " + headers_of(request, "CSeq").at(0) + "\r\n";
  m += "Contact: <sip:1001@127.0.0.1:" + std::to_string(phone_port) + ">\r\n";
  if (!sdp.empty()) m += "Content-Type: application/sdp\r\n";
  return m + "Content-Length: " + std::to_string(sdp.size()) + "\r\n\r\n" + sdp;
}

// A re-INVITE from the phone in the dialog that `offer` (the server's INVITE) started: From and To
// swapped (with the phone's tag), sent to the server's Contact, with `mode` in the SDP.
std::string reinvite_from_phone(const std::string& offer, uint16_t phone_port, uint16_t rtp_port,
                                const std::string& mode, int cseq) {
  std::string contact = headers_of(offer, "Contact").at(0);
  contact = contact.substr(contact.find('<') + 1, contact.find('>') - contact.find('<') - 1);
  const std::string body = test::sdp_body(rtp_port) + "a=" + mode + "\r\n";
  const std::string lp = std::to_string(phone_port);
  return "INVITE " + contact + " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" + lp +
         ";branch=z9hG4bK-hold" + std::to_string(cseq) + ";rport\r\nMax-Forwards: 70\r\n" +
         "From: " + headers_of(offer, "To").at(0) + ";tag=phone\r\nTo: " +
         headers_of(offer, "From").at(0) + "\r\nCall-ID: " + headers_of(offer, "Call-ID").at(0) +
         "\r\nCSeq: " + std::to_string(cseq) + " INVITE\r\nContact: <sip:1001@127.0.0.1:" + lp +
         ">\r\nContent-Type: application/sdp\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

std::string ack_from_phone(const std::string& offer, const std::string& response, uint16_t phone_port,
                           int cseq) {
  std::string contact = headers_of(response, "Contact").at(0);
  contact = contact.substr(contact.find('<') + 1, contact.find('>') - contact.find('<') - 1);
  return "ACK " + contact + " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" + std::to_string(phone_port) +
         ";branch=z9hG4bK-holdack" + std::to_string(cseq) + ";rport\r\nMax-Forwards: 70\r\nFrom: " +
         headers_of(offer, "To").at(0) + ";tag=phone\r\nTo: " + headers_of(response, "To").at(0) +
         "\r\nCall-ID: " + headers_of(offer, "Call-ID").at(0) + "\r\nCSeq: " +
         std::to_string(cseq) + " ACK\r\nContent-Length: 0\r\n\r\n";
}

// The Proxy-Authorization for an INVITE answering the MD5 challenge in `challenge_response`.
std::string invite_credentials(const std::string& challenge_response, const std::string& user,
                               const std::string& password, const std::string& uri) {
  const auto md5 = challenge_response.find("algorithm=MD5");
  const auto line = challenge_response.rfind("Proxy-Authenticate:", md5);
  const auto n0 = challenge_response.find("nonce=\"", line) + 7;
  const std::string nonce = challenge_response.substr(n0, challenge_response.find('"', n0) - n0);
  const auto alg = sip::DigestAlgorithm::kMd5;
  const std::string ha1 = sip::digest_ha1(alg, user, "acme.test", password);
  const std::string ha2 = sip::digest_hex(alg, "INVITE:" + uri);
  const std::string response =
      sip::digest_hex(alg, ha1 + ":" + nonce + ":00000001:cafe:auth:" + ha2);
  return "Digest username=\"" + user + "\", realm=\"acme.test\", nonce=\"" + nonce +
         "\", uri=\"" + uri + "\", response=\"" + response +
         "\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"cafe\"";
}

TEST_F(ServeTest, AgentPhonesRegisterWithDigestAuthentication) {
  Phone phone;
  EXPECT_EQ(phone.register_as(server_.port(), "1001", "", ""), 401) << "challenged first";
  const std::string& challenge = phone.sip.last_response();
  EXPECT_NE(challenge.find("algorithm=SHA-256"), std::string::npos) << challenge;
  EXPECT_NE(challenge.find("algorithm=MD5"), std::string::npos) << challenge;
  EXPECT_NE(challenge.find("realm=\"acme.test\""), std::string::npos) << challenge;

  EXPECT_EQ(phone.register_as(server_.port(), "1001", "1001", "secret1001"), 200)
      << server_.log();
  EXPECT_NE(phone.sip.last_response().find("expires=300"), std::string::npos)
      << phone.sip.last_response();

  Phone wrong;
  EXPECT_EQ(wrong.register_as(server_.port(), "1002", "1002", "guess"), 401);
  Phone unknown;
  EXPECT_EQ(unknown.register_as(server_.port(), "1099", "1099", "guess"), 401)
      << "an unknown extension looks like a wrong password";
  Phone impostor;
  EXPECT_EQ(impostor.register_as(server_.port(), "1002", "1001", "secret1001"), 403)
      << "1001 may not register 1002's phone";
}

// The whole path: agent 1001's phone registers and logs in with *11; a caller picks the support
// queue (4) in the menu; the phone rings with the caller's number and the queue, answers; audio
// flows both ways through the bridge; the recording is stereo (caller left, agent right); the
// record names the queue and the agent.
TEST_F(ServeTest, QueuedCallerIsConnectedToALoggedInAgent) {
  Phone phone;
  ASSERT_EQ(phone.register_as(server_.port(), "1001", "1001", "secret1001"), 200) << server_.log();

  // *11 from the phone: challenged (407), then accepted; the confirmation plays and the server
  // hangs up.
  RtpPeer phone_rtp;
  const std::string lp = std::to_string(phone.sip.port());
  auto login = [&](const std::string& auth, int cseq) {
    std::string body = test::sdp_body(phone_rtp.port());
    std::string m = "INVITE sip:*11@acme.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" + lp +
                    ";branch=z9hG4bK-login" + std::to_string(cseq) +
                    ";rport\r\nMax-Forwards: 70\r\nFrom: <sip:1001@acme.test>;tag=login\r\n"
                    "To: <sip:*11@acme.test>\r\nCall-ID: login-1\r\nCSeq: " +
                    std::to_string(cseq) + " INVITE\r\nContact: <sip:1001@127.0.0.1:" + lp + ">\r\n";
    if (!auth.empty()) m += "Proxy-Authorization: " + auth + "\r\n";
    m += "Content-Type: application/sdp\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
    phone.sip.send_to(server_.port(), m);
    return phone.sip.final_status("login-1");
  };
  ASSERT_EQ(login("", 1), 407) << server_.log();
  const std::string challenge = phone.sip.last_response();
  phone.sip.send_to(server_.port(), test::ack("*11", phone.sip.port(), "login-1", phone.sip.last_to_tag()));
  ASSERT_EQ(login(invite_credentials(challenge, "1001", "secret1001", "sip:*11@acme.test"), 2), 200)
      << server_.log();
  phone.sip.send_to(server_.port(), test::ack("*11", phone.sip.port(), "login-1", phone.sip.last_to_tag()));
  auto [confirm_rms, confirm_packets] = phone_rtp.listen(1200ms);
  EXPECT_GT(confirm_rms, 300.0) << "the confirmation prompt";
  // The server's BYE after the confirmation.
  std::optional<std::string> bye;
  for (int i = 0; i < 10 && !bye; ++i) {
    auto msg = phone.sip.receive(5s);
    if (!msg) break;
    if (msg->rfind("BYE ", 0) == 0) bye = *msg;
  }
  ASSERT_TRUE(bye.has_value()) << server_.log();
  phone.sip.send_to(server_.port(), response_to(*bye, 200, "OK", phone.sip.port()));
  ASSERT_NE(server_.log().find("agent status"), std::string::npos) << server_.log();

  // The caller picks the queue.
  Caller caller;
  ASSERT_EQ(caller.call(server_.port(), "100", "queued-1"), 200);
  caller.rtp.listen(300ms);
  caller.rtp.send_digit('4');
  // The phone rings: an INVITE from the server, with the caller's number.
  std::optional<std::string> offer;
  for (int i = 0; i < 20 && !offer; ++i) {
    auto msg = phone.sip.receive(5s);
    if (!msg) break;
    if (msg->rfind("INVITE ", 0) == 0) offer = *msg;
  }
  ASSERT_TRUE(offer.has_value()) << server_.log();
  EXPECT_NE(headers_of(*offer, "From").at(0).find("5551234"), std::string::npos) << *offer;
  EXPECT_EQ(headers_of(*offer, "X-Tamas-Queue").at(0), "support");
  phone_rtp.set_remote(offer->substr(offer->find("\r\n\r\n") + 4));
  phone.sip.send_to(server_.port(),
                    response_to(*offer, 200, "OK", phone.sip.port(), test::sdp_body(phone_rtp.port())));
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
  const auto offer_call_id = headers_of(*offer, "Call-ID").at(0);
  phone.sip.send_to(server_.port(),
                    reinvite_from_phone(*offer, phone.sip.port(), phone_rtp.port(), "sendonly", 1));
  ASSERT_EQ(phone.sip.final_status(offer_call_id), 200) << server_.log();
  phone.sip.send_to(server_.port(),
                    ack_from_phone(*offer, phone.sip.last_response(), phone.sip.port(), 1));
  auto [music, p3] = caller.rtp.listen(1500ms);
  EXPECT_GT(music, 300.0) << "music on hold while the agent is silent";
  phone.sip.send_to(server_.port(),
                    reinvite_from_phone(*offer, phone.sip.port(), phone_rtp.port(), "sendrecv", 2));
  ASSERT_EQ(phone.sip.final_status(offer_call_id), 200) << server_.log();
  phone.sip.send_to(server_.port(),
                    ack_from_phone(*offer, phone.sip.last_response(), phone.sip.port(), 2));
  std::thread agent_again([&] { phone_rtp.send_tone(1000ms, 4000); });
  auto [after_resume, p4] = caller.rtp.listen(900ms);
  agent_again.join();
  EXPECT_GT(after_resume, 800.0) << "the agent is heard again after resuming";
  EXPECT_EQ(caller.hang_up(server_.port(), "100"), 200);
  // The agent's phone gets a BYE.
  std::optional<std::string> agent_bye;
  for (int i = 0; i < 20 && !agent_bye; ++i) {
    auto msg = phone.sip.receive(5s);
    if (!msg) break;
    if (msg->rfind("BYE ", 0) == 0) agent_bye = *msg;
  }
  ASSERT_TRUE(agent_bye.has_value()) << server_.log();
  phone.sip.send_to(server_.port(), response_to(*agent_bye, 200, "OK", phone.sip.port()));

  auto records = server_.wait_records(1);
  ASSERT_EQ(records.size(), 1u) << server_.log();
  const auto& r = records[0];
  EXPECT_EQ(r["result"], "queued");
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
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (server_.log().find("draining calls=") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);  // waiting for the log line: there is no other signal
  }
  // New calls are refused while the call in progress goes on.
  Caller late;
  EXPECT_EQ(late.call(server_.port(), "100", "late"), 503) << server_.log();
  EXPECT_EQ(c.hang_up(server_.port(), "100"), 200);
  EXPECT_EQ(server_.stop(SIGTERM), 0) << server_.log();
}

}  // namespace
}  // namespace tamas
