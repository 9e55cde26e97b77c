// Reads the server configuration from YAML (format: docs/configuration.md).
//
// yaml-cpp reports problems by throwing, and so, to keep the many small checks readable, do the
// checks here (ParseError). Both are caught in exactly one place, load_config_string(), and turned
// into a Status. Every check knows the node it looks at, so every message carries the line
// (yaml-cpp's 0-based Mark, shown 1-based) and the field path. The line of every field path is
// also remembered, so problems found later on the finished data (FlowSet::check, synthesis) point
// at the right line too. No shared state: any thread may load.
#include "config/config.h"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <tuple>

#include "common/url.h"
#include "prompts/synth.h"
#include "yaml/checks.h"

namespace tamas::config {
namespace fs = std::filesystem;
using core::PromptSpec;

// ---- Small public helpers -----------------------------------------------------------------------

std::string_view to_string(LogFormat f) { return f == LogFormat::kJson ? "json" : "text"; }

std::string_view to_string(LogLevel l) {
  switch (l) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

namespace {

bool parse_ip(std::string_view text, bool* v6, std::array<uint8_t, 16>* bytes) {
  const std::string s(text);
  bytes->fill(0);
  if (inet_pton(AF_INET, s.c_str(), bytes->data()) == 1) {
    *v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), bytes->data()) == 1) {
    // IPv4-mapped (::ffff:a.b.c.d) is the IPv4 address.
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(kMapped, kMapped + 12, bytes->begin())) {
      std::copy(bytes->begin() + 12, bytes->end(), bytes->begin());
      std::fill(bytes->begin() + 4, bytes->end(), 0);
      *v6 = false;
    } else {
      *v6 = true;
    }
    return true;
  }
  return false;
}

}  // namespace

Result<Cidr> Cidr::parse(std::string_view text) {
  Cidr c;
  c.text = std::string(text);
  const size_t slash = text.find('/');
  if (!parse_ip(text.substr(0, slash), &c.v6, &c.bytes)) {
    return Status::error("invalid CIDR '" + c.text + "' (expected an address such as 10.0.0.0/8)");
  }
  const unsigned max = c.v6 ? 128 : 32;
  unsigned prefix = max;
  if (slash != std::string_view::npos) {
    const std::string_view p = text.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (p.empty() || ec != std::errc() || ptr != p.data() + p.size() || prefix > max) {
      return Status::error("invalid CIDR '" + c.text + "': the prefix length must be 0.." +
                           std::to_string(max));
    }
  }
  c.prefix = static_cast<uint8_t>(prefix);
  // Keep only the network part.
  for (unsigned bit = prefix; bit < max; ++bit) {
    c.bytes[bit / 8] = static_cast<uint8_t>(c.bytes[bit / 8] & ~(0x80u >> (bit % 8)));
  }
  return c;
}

bool Cidr::contains(std::string_view address) const {
  bool addr_v6 = false;
  std::array<uint8_t, 16> a{};
  if (!parse_ip(address, &addr_v6, &a) || addr_v6 != v6) return false;
  for (unsigned bit = 0; bit < prefix; ++bit) {
    const uint8_t mask = static_cast<uint8_t>(0x80u >> (bit % 8));
    if ((a[bit / 8] & mask) != (bytes[bit / 8] & mask)) return false;
  }
  return true;
}

const PromptSource* TenantConfig::prompt(std::string_view prompt_id, Language lang) const {
  auto it = prompts.find(std::string(prompt_id));
  if (it == prompts.end()) return nullptr;
  const PromptEntry& e = it->second;
  if (auto l = e.by_language.find(lang); l != e.by_language.end()) return &l->second;
  if (e.any) return &*e.any;
  if (auto l = e.by_language.find(language); l != e.by_language.end()) return &l->second;
  return e.by_language.empty() ? nullptr : &e.by_language.begin()->second;
}

const Trunk* TenantConfig::find_trunk(std::string_view name) const {
  for (const Trunk& t : trunks) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const Trunk* TenantConfig::trunk_for_source(std::string_view address) const {
  for (const Trunk& t : trunks) {
    for (const Cidr& c : t.from) {
      if (c.contains(address)) return &t;
    }
  }
  return nullptr;
}

const QueueSpec* TenantConfig::find_queue(std::string_view queue_id) const {
  for (const QueueSpec& q : queues) {
    if (q.id == queue_id) return &q;
  }
  return nullptr;
}

const AgentSpec* TenantConfig::find_agent(std::string_view extension) const {
  for (const AgentSpec& a : agents) {
    if (a.extension == extension) return &a;
  }
  return nullptr;
}

const TenantConfig* ServerConfig::tenant_for_realm(std::string_view realm) const {
  for (const TenantConfig& t : tenants) {
    if (t.realm == realm) return &t;
  }
  return nullptr;
}

std::optional<ServerConfig::Route> ServerConfig::route(std::string_view number) const {
  for (const TenantConfig& t : tenants) {
    for (const NumberRoute& n : t.numbers) {
      if (n.number == number) return Route{&t, &n};
    }
  }
  return std::nullopt;
}

// ---- The parser ---------------------------------------------------------------------------------

namespace {

using namespace yaml;  // ParseError, Fields, the scalar checks (yaml/checks.h)

// Mapping entries in file order, keys checked to be scalars; lines recorded.
template <typename Fn>
void for_each_entry(const YAML::Node& node, const std::string& path, std::string_view what,
                    Lines& lines, Fn&& fn) {
  if (node.IsNull()) return;  // `prompts:` with nothing under it
  if (!node.IsMap())
    fail(node, path, "expected a mapping of " + std::string(what) + ", got " + describe(node));
  std::set<std::string> seen;
  for (const auto& entry : node) {
    const YAML::Node key = entry.first;
    const YAML::Node value = entry.second;
    if (!key.IsScalar() || key.Scalar().empty()) {
      fail(key, path, "a key must be a name, got " + describe(key));
    }
    const std::string p = child_path(path, key.Scalar());
    if (!seen.insert(key.Scalar()).second) fail(key, p, "given twice");
    lines.emplace(p, line_of(key));
    fn(key, value, p);
  }
}

template <typename Fn>
void for_each_item(const YAML::Node& node, const std::string& path, std::string_view what,
                   Fn&& fn) {
  if (node.IsNull()) return;
  if (!node.IsSequence()) {
    fail(node, path, "expected a list of " + std::string(what) + ", got " + describe(node));
  }
  for (size_t i = 0; i < node.size(); ++i) fn(node[i], index_path(path, i));
}


Duration duration(const YAML::Node& node, const std::string& path) {
  const std::string& s = scalar(node, path, "a duration such as 5s, 2m or 1h30m");
  Result<Duration> d = parse_duration(s);
  if (!d) fail(node, path, d.message());
  return *d;
}

Duration positive_duration(const YAML::Node& node, const std::string& path) {
  Duration d = duration(node, path);
  if (d <= Duration::zero()) fail(node, path, "must be longer than 0");
  return d;
}

Language language(const YAML::Node& node, const std::string& path) {
  const std::string& s = scalar(node, path, "a language (en, fa or ar)");
  auto l = core::language_from_string(s);
  if (!l) fail(node, path, "unknown language '" + s + "' (expected one of en, fa, ar)");
  return *l;
}

core::Pattern pattern(const YAML::Node& node, const std::string& path) {
  auto p = core::Pattern::compile(scalar(node, path, "a regular expression"));
  if (!p) fail(node, path, p.message());
  return std::move(p).value();
}

// "host:port" or "[v6]:port".
std::pair<std::string, uint16_t> host_port(const YAML::Node& node, const std::string& path) {
  const std::string& s = scalar(node, path, "an address:port such as 0.0.0.0:5060");
  std::string host;
  std::string port;
  if (!s.empty() && s.front() == '[') {
    const size_t close = s.find(']');
    if (close != std::string::npos && close + 1 < s.size() && s[close + 1] == ':') {
      host = s.substr(1, close - 1);
      port = s.substr(close + 2);
    }
  } else if (const size_t colon = s.rfind(':'); colon != std::string::npos) {
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (host.empty() || !parse_ip(host, &v6, &bytes) || port.empty() || ec != std::errc() ||
      ptr != port.data() + port.size() || p == 0 || p > 65535) {
    fail(node, path,
         "expected an address:port such as 0.0.0.0:5060 or [::]:5060, got " + describe(node));
  }
  return {host, static_cast<uint16_t>(p)};
}

// "09:00" -> 9h; "24:00" allowed as an end.
std::optional<Duration> clock_time(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  unsigned h = 0;
  unsigned m = 0;
  auto r1 = std::from_chars(s.data(), s.data() + 2, h);
  auto r2 = std::from_chars(s.data() + 3, s.data() + 5, m);
  if (r1.ec != std::errc() || r1.ptr != s.data() + 2 || r2.ec != std::errc() ||
      r2.ptr != s.data() + 5 || m > 59 || h > 24 || (h == 24 && m != 0)) {
    return std::nullopt;
  }
  return std::chrono::hours(h) + std::chrono::minutes(m);
}

std::string trim(std::string_view s) {
  const size_t a = s.find_first_not_of(" \t");
  if (a == std::string_view::npos) return {};
  const size_t b = s.find_last_not_of(" \t");
  return std::string(s.substr(a, b - a + 1));
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t at = s.find(sep, start);
    out.push_back(trim(s.substr(start, at - start)));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return out;
}

// "mon", "mon-fri", "sat-wed" (wraps), "mon,wed,fri", "daily" -> weekdays (0 = Sunday).
std::optional<std::vector<unsigned>> weekdays(std::string_view spec) {
  static constexpr std::string_view kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  auto day = [](std::string_view d) -> std::optional<unsigned> {
    for (unsigned i = 0; i < 7; ++i) {
      if (kDays[i] == d) return i;
    }
    return std::nullopt;
  };
  if (spec == "daily") return std::vector<unsigned>{0, 1, 2, 3, 4, 5, 6};
  std::vector<unsigned> out;
  for (const std::string& part : split(spec, ',')) {
    const size_t dash = part.find('-');
    if (dash == std::string::npos) {
      auto d = day(part);
      if (!d) return std::nullopt;
      out.push_back(*d);
    } else {
      auto a = day(trim(std::string_view(part).substr(0, dash)));
      auto b = day(trim(std::string_view(part).substr(dash + 1)));
      if (!a || !b) return std::nullopt;
      for (unsigned d = *a;; d = (d + 1) % 7) {
        out.push_back(d);
        if (d == *b) break;
      }
    }
  }
  return out;
}

const std::initializer_list<std::string_view> kNodeTypes = {
    "play", "menu", "collect", "set", "branch", "voicemail", "transfer", "queue", "hangup"};

// A literal prompt id used in a flow, checked once all prompts are known.
struct PromptUse {
  std::string id;
  int line = 0;
  std::string path;
};

class Parser {
 public:
  Parser(std::string display_name, std::string base_dir, const LoadOptions& options)
      : display_(std::move(display_name)), base_dir_(std::move(base_dir)), options_(options) {}

  ServerConfig parse(const YAML::Node& root) {
    Fields f(root, "", {"sip", "rtp", "http", "data_dir", "log", "tenants"}, lines_);
    ServerConfig cfg;
    cfg.source = display_;
    if (auto n = f.get("sip")) cfg.sip = sip(*n, f.path("sip"));
    if (auto n = f.get("rtp")) cfg.rtp = rtp(*n, f.path("rtp"));
    if (auto n = f.get("http")) {
      Fields h(*n, f.path("http"), {"listen"}, lines_);
      if (auto l = h.get("listen")) {
        std::tie(cfg.http.address, cfg.http.port) = host_port(*l, h.path("listen"));
      }
    }
    if (auto n = f.get("log")) cfg.log = log(*n, f.path("log"));
    {
      const YAML::Node d = f.require("data_dir");
      const std::string& s = name(d, f.path("data_dir"));
      cfg.data_dir = options_.data_dir ? *options_.data_dir : absolute(s);
    }
    const YAML::Node tenants = f.require("tenants");
    if (!tenants.IsSequence() || tenants.size() == 0) {
      fail(tenants, f.path("tenants"), "expected a list of tenants, got " + describe(tenants));
    }
    std::map<std::string, std::string> number_owner;  // number -> path of its first use
    for (size_t i = 0; i < tenants.size(); ++i) {
      const std::string p = index_path("tenants", i);
      TenantConfig t = tenant(tenants[i], p);
      for (const TenantConfig& other : cfg.tenants) {
        if (other.id == t.id) fail(tenants[i], p + ".id", "tenant '" + t.id + "' given twice");
        if (other.realm == t.realm) {
          // Phones name the realm in their credentials: it must say which tenant they belong to.
          throw ParseError{
              line(p + ".realm"), p + ".realm",
              "realm '" + t.realm + "' is already the realm of tenant '" + other.id + "'"};
        }
      }
      for (const NumberRoute& n : t.numbers) {
        const std::string np = p + ".numbers." + n.number;
        auto [it, fresh] = number_owner.emplace(n.number, np);
        if (!fresh) {
          throw ParseError{line(np), np,
                           "number '" + n.number + "' is already used at " + it->second};
        }
      }
      cfg.tenants.push_back(std::move(t));
    }
    if (options_.synthesize) synthesize(cfg);
    return cfg;
  }

 private:
  int line(const std::string& path) const {
    // The field itself, or the nearest enclosing field whose line is known.
    std::string p = path;
    for (;;) {
      if (auto it = lines_.find(p); it != lines_.end()) return it->second;
      const size_t cut = p.find_last_of(".[");
      if (cut == std::string::npos || cut == 0) return 0;
      p.resize(cut);
    }
  }

  std::string absolute(const std::string& p) const {
    fs::path path(p);
    if (path.is_relative()) path = fs::path(base_dir_) / path;
    return path.lexically_normal().string();
  }

  SipConfig sip(const YAML::Node& node, const std::string& path) {
    Fields f(node, path, {"listen", "transports"}, lines_);
    SipConfig s;
    if (auto l = f.get("listen")) std::tie(s.address, s.port) = host_port(*l, f.path("listen"));
    if (auto t = f.get("transports")) {
      s.udp = s.tcp = false;
      if (!t->IsSequence() || t->size() == 0) {
        fail(*t, f.path("transports"), "expected a list of udp, tcp, got " + describe(*t));
      }
      for_each_item(*t, f.path("transports"), "transports",
                    [&](const YAML::Node& n, const std::string& p) {
                      const std::string& v = scalar(n, p, "udp or tcp");
                      if (v == "udp") {
                        s.udp = true;
                      } else if (v == "tcp") {
                        s.tcp = true;
                      } else {
                        fail(n, p, "unknown transport '" + v + "' (expected one of udp, tcp)");
                      }
                    });
    }
    return s;
  }

  RtpConfig rtp(const YAML::Node& node, const std::string& path) {
    Fields f(node, path, {"ports"}, lines_);
    RtpConfig r;
    if (auto n = f.get("ports")) {
      const std::string& s = scalar(*n, f.path("ports"), "a port range such as 20000-30000");
      const auto parts = split(s, '-');
      unsigned a = 0;
      unsigned b = 0;
      bool ok = parts.size() == 2;
      if (ok) {
        auto r1 = std::from_chars(parts[0].data(), parts[0].data() + parts[0].size(), a);
        auto r2 = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), b);
        ok = r1.ec == std::errc() && r2.ec == std::errc() &&
             r1.ptr == parts[0].data() + parts[0].size() &&
             r2.ptr == parts[1].data() + parts[1].size() && a >= 1024 && b <= 65535 && a + 1 < b;
      }
      if (!ok) {
        fail(*n, f.path("ports"),
             "expected a port range such as 20000-30000 (from 1024 to 65535, at least two "
             "ports), got " +
                 describe(*n));
      }
      r.port_min = static_cast<uint16_t>(a + (a % 2));  // RTP on even ports
      r.port_max = static_cast<uint16_t>(b);
    }
    return r;
  }

  LogConfig log(const YAML::Node& node, const std::string& path) {
    Fields f(node, path, {"format", "level"}, lines_);
    LogConfig l;
    if (auto n = f.get("format")) {
      const std::string& s = scalar(*n, f.path("format"), "text or json");
      if (s == "text") {
        l.format = LogFormat::kText;
      } else if (s == "json") {
        l.format = LogFormat::kJson;
      } else {
        fail(*n, f.path("format"), "unknown log format '" + s + "' (expected one of text, json)");
      }
    }
    if (auto n = f.get("level")) {
      const std::string& s = scalar(*n, f.path("level"), "a log level");
      bool found = false;
      for (LogLevel v : {LogLevel::kTrace, LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn,
                         LogLevel::kError}) {
        if (to_string(v) == s) {
          l.level = v;
          found = true;
        }
      }
      if (!found) {
        fail(*n, f.path("level"),
             "unknown log level '" + s + "' (expected one of trace, debug, info, warn, error)");
      }
    }
    return l;
  }

  // ---- Tenants ----

  TenantConfig tenant(const YAML::Node& node, const std::string& path) {
    Fields f(node, path,
             {"id", "language", "time_zone", "trunks", "numbers", "prompts", "calendars",
              "transfer_allow", "flows", "queues", "agents", "break_reasons", "feature_codes",
              "realm", "digest_algorithms", "webhooks"},
             lines_);
    TenantConfig t;
    t.id = name(f.require("id"), f.path("id"));
    if (auto n = f.get("language")) t.language = language(*n, f.path("language"));
    if (auto n = f.get("time_zone")) {
      t.time_zone = name(*n, f.path("time_zone"));
      t.zone_offsets = zone(*n, f.path("time_zone"), t.time_zone);  // checked even if unused
    }
    auto set = std::make_shared<core::FlowSet>();
    set->tenant = t.id;
    set->default_language = t.language;
    if (auto n = f.get("trunks")) {
      for_each_item(*n, f.path("trunks"), "trunks",
                    [&](const YAML::Node& item, const std::string& p) {
                      Trunk tr = trunk(item, p);
                      if (t.find_trunk(tr.name) != nullptr) {
                        fail(item, p + ".name", "trunk '" + tr.name + "' given twice");
                      }
                      t.trunks.push_back(std::move(tr));
                    });
    }
    if (auto n = f.get("prompts")) {
      for_each_entry(*n, f.path("prompts"), "prompt ids to prompts", lines_,
                     [&](const YAML::Node& key, const YAML::Node& value, const std::string& p) {
                       t.prompts[key.Scalar()] = prompt_entry(key.Scalar(), value, p, t.language);
                     });
    }
    if (auto n = f.get("calendars")) {
      for_each_entry(*n, f.path("calendars"), "calendar names to calendars", lines_,
                     [&](const YAML::Node& key, const YAML::Node& value, const std::string& p) {
                       set->calendars[key.Scalar()] = calendar(key.Scalar(), value, p, t.time_zone);
                     });
    }
    if (auto n = f.get("transfer_allow")) {
      for_each_item(*n, f.path("transfer_allow"), "regular expressions",
                    [&](const YAML::Node& item, const std::string& p) {
                      set->transfer_allow.push_back(pattern(item, p));
                    });
    }
    const YAML::Node flows = f.require("flows");
    if (!flows.IsMap() || flows.size() == 0) {
      fail(flows, f.path("flows"),
           "expected a mapping of flow names to flows, got " + describe(flows));
    }
    prompt_uses_.clear();
    trunk_uses_.clear();
    queue_uses_.clear();
    overflow_uses_.clear();
    for_each_entry(flows, f.path("flows"), "flow names to flows", lines_,
                   [&](const YAML::Node& key, const YAML::Node& value, const std::string& p) {
                     set->flows[key.Scalar()] = flow(key.Scalar(), value, p);
                   });
    if (auto n = f.get("numbers")) {
      for_each_entry(*n, f.path("numbers"), "numbers to flows", lines_,
                     [&](const YAML::Node& key, const YAML::Node& value, const std::string& p) {
                       NumberRoute r = number(key, value, p);
                       if (set->flows.count(r.flow) == 0) {
                         fail(value, p, "no flow '" + r.flow + "' in tenant '" + t.id + "'");
                       }
                       set->numbers[r.number] = r.flow;
                       t.numbers.push_back(std::move(r));
                     });
    }
    t.realm = t.id;
    if (auto n = f.get("realm")) t.realm = realm(*n, f.path("realm"));
    if (auto n = f.get("digest_algorithms")) {
      const std::string p = f.path("digest_algorithms");
      t.digest_algorithms.clear();
      for_each_item(*n, p, "digest algorithms", [&](const YAML::Node& item, const std::string& ip) {
        const std::string a = scalar(item, ip, "SHA-256 or MD5");
        if (a != "SHA-256" && a != "MD5") fail(item, ip, "'" + a + "' is not SHA-256 or MD5");
        if (std::count(t.digest_algorithms.begin(), t.digest_algorithms.end(), a)) {
          fail(item, ip, "'" + a + "' given twice");
        }
        t.digest_algorithms.push_back(a);
      });
      if (t.digest_algorithms.empty()) fail(*n, p, "name at least one of SHA-256 and MD5");
    }
    if (auto n = f.get("break_reasons")) {
      t.break_reasons = break_reasons(*n, f.path("break_reasons"));
    }
    if (auto n = f.get("webhooks")) {
      for_each_item(*n, f.path("webhooks"), "webhooks",
                    [&](const YAML::Node& item, const std::string& p) {
                      WebhookConfig w = webhook(item, p);
                      for (const WebhookConfig& other : t.webhooks) {
                        if (other.url == w.url) {
                          fail(item["url"], p + ".url", "webhook URL given twice in the tenant");
                        }
                      }
                      t.webhooks.push_back(std::move(w));
                    });
    }
    if (auto n = f.get("feature_codes")) {
      t.feature_codes = feature_codes(*n, f.path("feature_codes"));
    }
    if (auto n = f.get("queues")) {
      for_each_item(*n, f.path("queues"), "queues",
                    [&](const YAML::Node& item, const std::string& p) {
                      QueueSpec q = queue(item, p);
                      if (t.find_queue(q.id) != nullptr) {
                        fail(item, p + ".id", "queue '" + q.id + "' given twice");
                      }
                      t.queues.push_back(std::move(q));
                    });
    }
    for (const QueueUse& u : overflow_uses_) {
      if (t.find_queue(u.use.id) == nullptr) {
        throw ParseError{u.use.line, u.use.path,
                         "no queue '" + u.use.id + "' in tenant '" + t.id + "'"};
      }
      if (u.use.id == u.from) {
        throw ParseError{u.use.line, u.use.path, "a queue cannot overflow into itself"};
      }
    }
    if (auto n = f.get("agents")) {
      for_each_item(*n, f.path("agents"), "agents",
                    [&](const YAML::Node& item, const std::string& p) {
                      AgentSpec a = agent(item, p, t);
                      t.agents.push_back(std::move(a));
                    });
    }
    for (const PromptUse& u : queue_uses_) {
      if (t.find_queue(u.id) == nullptr) {
        throw ParseError{u.line, u.path,
                         "no queue '" + u.id + "' in tenant '" + t.id + "' (see `queues:`)"};
      }
    }
    for (const PromptUse& u : prompt_uses_) {
      if (t.prompts.count(u.id) == 0) {
        throw ParseError{u.line, u.path, "no prompt '" + u.id + "' in tenant '" + t.id + "'"};
      }
    }
    for (const PromptUse& u : trunk_uses_) {
      if (t.find_trunk(u.id) == nullptr) {
        throw ParseError{u.line, u.path, "no trunk '" + u.id + "' in tenant '" + t.id + "'"};
      }
    }
    // The graph as a whole: nodes, calendars, transfer targets.
    for (const core::FlowProblem& problem : set->check()) {
      const std::string p = path + "." + problem.path;
      throw ParseError{line(p), p, problem.message};
    }
    t.flows = std::move(set);
    return t;
  }

  core::UtcOffsetTable zone(const YAML::Node& node, const std::string& path,
                            const std::string& zone_name) {
    if (auto it = zones_.find(zone_name); it != zones_.end()) return it->second;
    auto table = load_zone(zone_name);
    if (!table) fail(node, path, table.message());
    zones_.emplace(zone_name, *table);
    return std::move(table).value();
  }

  WebhookConfig webhook(const YAML::Node& node, const std::string& path) {
    Fields f(node, path, {"url", "secret", "events"}, lines_);
    WebhookConfig w;
    const YAML::Node url = f.require("url");
    w.url = scalar(url, f.path("url"), "a URL such as https://crm.example.com/tamas");
    if (auto u = parse_http_url(w.url); !u) fail(url, f.path("url"), u.message());
    // The secret is never shown in a message.
    const YAML::Node secret = f.require("secret");
    if (!secret.IsScalar()) {
      // The key's line: an empty value's mark is on the line after it.
      throw ParseError{f.key_line("secret"), f.path("secret"),
                       "expected a secret of at least 16 characters, got " + describe(secret)};
    }
    w.secret = secret.Scalar();
    if (w.secret.size() < 16) {
      fail(secret, f.path("secret"),
           "the secret must be at least 16 bytes long (it keys the signature), got " +
               std::to_string(w.secret.size()));
    }
    if (auto n = f.get("events")) {
      const std::string p = f.path("events");
      if (!n->IsSequence()) {
        fail(*n, p,
             "expected a list of contact events (leave `events` out for all), got " + describe(*n));
      }
      if (n->size() == 0) {
        fail(*n, p, "name at least one contact event (leave `events` out for all)");
      }
      for_each_item(*n, p, "contact events", [&](const YAML::Node& item, const std::string& ip) {
        const std::string& e = scalar(item, ip, "a contact event name");
        if (std::find(std::begin(kContactEvents), std::end(kContactEvents), e) ==
            std::end(kContactEvents)) {
          std::string known;
          for (std::string_view k : kContactEvents) {
            known += (known.empty() ? "" : ", ") + std::string(k);
          }
          fail(item, ip, "unknown contact event '" + e + "' (expected one of " + known + ")");
        }
        if (std::find(w.events.begin(), w.events.end(), e) != w.events.end()) {
          fail(item, ip, "event '" + e + "' given twice");
        }
        w.events.push_back(e);
      });
    }
    return w;
  }

  Trunk trunk(const YAML::Node& node, const std::string& path) {
    Fields f(node, path, {"name", "from", "username", "password", "uri"}, lines_);
    Trunk t;
    t.name = name(f.require("name"), f.path("name"));
    if (auto n = f.get("from")) {
      for_each_item(*n, f.path("from"), "CIDRs", [&](const YAML::Node& item, const std::string& p) {
        auto c = Cidr::parse(scalar(item, p, "a CIDR such as 10.0.0.0/8"));
        if (!c) fail(item, p, c.message());
        t.from.push_back(std::move(c).value());
      });
    }
    if (auto n = f.get("username")) t.username = name(*n, f.path("username"));
    if (auto n = f.get("password")) t.password = name(*n, f.path("password"));
    if (t.username.empty() != t.password.empty()) {
      fail(node, f.path(t.username.empty() ? "username" : "password"),
           "username and password go together (digest authentication)");
    }
    if (auto n = f.get("uri")) {
      t.uri = name(*n, f.path("uri"));
      if (t.uri.rfind("sip:", 0) != 0 && t.uri.rfind("sips:", 0) != 0) {
        fail(*n, f.path("uri"),
             "expected a SIP URI such as sip:carrier.example:5060, got " + describe(*n));
      }
    }
    if (t.from.empty() && t.uri.empty()) {
      fail(node, f.path("from"),
           "a trunk needs `from` (addresses it calls us from) or `uri` (where we call it), or "
           "both");
    }
    return t;
  }

  NumberRoute number(const YAML::Node& key, const YAML::Node& value, const std::string& path) {
    NumberRoute r;
    r.number = key.Scalar();
    for (char ch : r.number) {
      if (std::isalnum(static_cast<unsigned char>(ch)) == 0 &&
          std::string_view("+*#._-").find(ch) == std::string_view::npos) {
        fail(key, path, "a number may hold digits, letters and + * # . _ - only");
      }
    }
    if (value.IsScalar()) {
      r.flow = name(value, path);
      return r;
    }
    Fields f(value, path, {"flow", "language"}, lines_);
    r.flow = name(f.require("flow"), f.path("flow"));
    if (auto n = f.get("language")) r.language = language(*n, f.path("language"));
    return r;
  }

  // ---- Queues, agents, feature codes ----

  // A prompt id of the tenant, checked once all prompts are known.
  std::string prompt_id(const YAML::Node& node, const std::string& path) {
    std::string id = name(node, path);
    prompt_uses_.push_back({id, line_of(node), path});
    return id;
  }

  QueueSpec queue(const YAML::Node& node, const std::string& path) {
    Fields f(node, path,
             {"id", "strategy", "sl_seconds", "sl_target", "wrap_up", "ring_timeout", "max_no_answer",
              "retry_after", "max_wait", "max_waiting", "join_empty", "leave_empty", "skills",
              "escalation", "music", "announce", "messages", "recording", "dispositions",
              "script"},
             lines_);
    QueueSpec q;
    q.id = name(f.require("id"), f.path("id"));
    core::QueueConfig& r = q.routing;
    r.name = q.id;
    if (auto n = f.get("strategy")) {
      const std::string& s = scalar(*n, f.path("strategy"), "a strategy");
      auto st = core::strategy_from_string(s);
      if (!st) {
        fail(*n, f.path("strategy"),
             "unknown strategy '" + s +
                 "' (expected one of longest-idle, ring-all, round-robin, fewest-contacts, "
                 "least-talk-time, linear, random, best-skill)");
      }
      r.strategy = *st;
    }
    if (auto n = f.get("sl_seconds")) r.sl_threshold = positive_duration(*n, f.path("sl_seconds"));
    if (auto n = f.get("sl_target")) {
      q.sl_target = static_cast<double>(integer(*n, f.path("sl_target"), 1, 100)) / 100.0;
    }
    if (auto n = f.get("wrap_up")) r.wrap_up = duration(*n, f.path("wrap_up"));
    if (auto n = f.get("ring_timeout")) {
      r.ring_timeout = positive_duration(*n, f.path("ring_timeout"));
    }
    if (auto n = f.get("max_no_answer")) {
      r.max_no_answer = static_cast<uint32_t>(integer(*n, f.path("max_no_answer"), 0, 100));
    }
    if (auto n = f.get("retry_after")) r.retry_after = duration(*n, f.path("retry_after"));
    if (auto n = f.get("max_wait")) r.max_wait = duration(*n, f.path("max_wait"));
    if (auto n = f.get("max_waiting")) {
      r.max_waiting = static_cast<uint32_t>(integer(*n, f.path("max_waiting"), 0, 1000000));
    }
    if (auto n = f.get("join_empty")) r.join_empty = empty_policy(*n, f.path("join_empty"));
    if (auto n = f.get("leave_empty")) r.leave_empty = empty_policy(*n, f.path("leave_empty"));
    if (auto n = f.get("skills")) {
      for_each_entry(*n, f.path("skills"), "skill names to minimum levels", lines_,
                     [&](const YAML::Node& key, const YAML::Node& value, const std::string& p) {
                       q.skills.emplace_back(key.Scalar(),
                                             static_cast<uint8_t>(integer(value, p, 1, 10)));
                     });
    }
    if (auto n = f.get("escalation")) {
      for_each_item(*n, f.path("escalation"), "escalation steps",
                    [&](const YAML::Node& item, const std::string& p) {
                      q.escalation.push_back(escalation_step(item, p, q.id));
                    });
    }
    if (auto n = f.get("music")) q.music = prompt_id(*n, f.path("music"));
    if (auto n = f.get("dispositions")) q.dispositions = dispositions(*n, f.path("dispositions"));
    if (auto n = f.get("script")) {
      q.script = scalar(*n, f.path("script"), "the agent's script (text)");
      if (q.script.size() > 8000) fail(*n, f.path("script"), "a script is at most 8,000 bytes");
    }
    if (auto n = f.get("announce")) {
      Fields a(*n, f.path("announce"),
               {"position", "wait_time", "first_after", "every", "only_if_changed"}, lines_);
      if (auto v = a.get("position")) q.announce.position = boolean(*v, a.path("position"));
      if (auto v = a.get("wait_time")) q.announce.wait_time = boolean(*v, a.path("wait_time"));
      if (auto v = a.get("first_after")) {
        q.announce.first_after = duration(*v, a.path("first_after"));
      }
      if (auto v = a.get("every")) q.announce.every = positive_duration(*v, a.path("every"));
      if (auto v = a.get("only_if_changed")) {
        q.announce.only_if_changed = boolean(*v, a.path("only_if_changed"));
      }
    }
    if (auto n = f.get("messages")) {
      Fields m(*n, f.path("messages"), {"every", "prompts"}, lines_);
      if (auto v = m.get("every")) q.messages.every = positive_duration(*v, m.path("every"));
      const YAML::Node prompts = m.require("prompts");
      if (prompts.IsScalar()) {
        q.messages.prompts.push_back(prompt_id(prompts, m.path("prompts")));
      } else {
        if (!prompts.IsSequence() || prompts.size() == 0) {
          fail(prompts, m.path("prompts"),
               "expected a list of prompt ids, got " + describe(prompts));
        }
        for_each_item(prompts, m.path("prompts"), "prompt ids",
                      [&](const YAML::Node& item, const std::string& p) {
                        q.messages.prompts.push_back(prompt_id(item, p));
                      });
      }
    }
    if (auto n = f.get("recording")) {
      Fields rec(*n, f.path("recording"), {"enabled", "mode", "announce"}, lines_);
      if (auto v = rec.get("enabled")) q.recording.enabled = boolean(*v, rec.path("enabled"));
      if (auto v = rec.get("mode")) {
        const std::string& s = scalar(*v, rec.path("mode"), "stereo or mono");
        if (s == "stereo") {
          q.recording.mode = RecordingMode::kStereo;
        } else if (s == "mono") {
          q.recording.mode = RecordingMode::kMono;
        } else {
          fail(*v, rec.path("mode"),
               "unknown recording mode '" + s + "' (expected one of stereo, mono)");
        }
      }
      if (auto v = rec.get("announce")) {
        q.recording.announce = prompt_id(*v, rec.path("announce"));
      }
    }
    return q;
  }

  core::EmptyPolicy empty_policy(const YAML::Node& node, const std::string& path) {
    const std::string& s = scalar(node, path, "an empty-queue policy");
    auto p = core::empty_policy_from_string(s);
    if (!p) {
      fail(node, path,
           "unknown policy '" + s +
               "' (expected one of ignore, no-agents-logged-in, no-agents-available)");
    }
    return *p;
  }

  EscalationSpec escalation_step(const YAML::Node& node, const std::string& path,
                                 const std::string& queue_id) {
    using Action = core::EscalationStep::Action;
    Fields f(node, path, {"after", "action", "amount", "queue", "branch"}, lines_);
    EscalationSpec e;
    e.after = duration(f.require("after"), f.path("after"));
    const YAML::Node action = f.require("action");
    const std::string& a = scalar(action, f.path("action"), "an escalation action");
    if (a == "next-tier") {
      e.action = Action::kNextTier;
    } else if (a == "lower-skill") {
      e.action = Action::kLowerSkill;
    } else if (a == "overflow") {
      e.action = Action::kOverflow;
    } else if (a == "exit") {
      e.action = Action::kExit;
    } else {
      fail(action, f.path("action"),
           "unknown action '" + a + "' (expected one of next-tier, lower-skill, overflow, exit)");
    }
    if (auto n = f.get("amount")) {
      if (e.action != Action::kNextTier && e.action != Action::kLowerSkill) {
        fail(*n, f.path("amount"), "`amount` goes with next-tier or lower-skill");
      }
      e.amount = static_cast<uint8_t>(integer(*n, f.path("amount"), 1, 10));
    }
    if (auto n = f.get("queue")) {
      if (e.action != Action::kOverflow) {
        fail(*n, f.path("queue"), "`queue` goes with action overflow");
      }
      e.overflow_queue = name(*n, f.path("queue"));
      overflow_uses_.push_back({{e.overflow_queue, line_of(*n), f.path("queue")}, queue_id});
    } else if (e.action == Action::kOverflow) {
      fail(node, f.path("queue"), "action overflow needs `queue` (a queue of the tenant)");
    }
    if (auto n = f.get("branch")) {
      if (e.action != Action::kExit) fail(*n, f.path("branch"), "`branch` goes with action exit");
      e.branch = name(*n, f.path("branch"));
    }
    return e;
  }

  static bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  }

  AgentSpec agent(const YAML::Node& node, const std::string& path, const TenantConfig& t) {
    Fields f(node, path,
             {"extension", "password", "name", "skills", "queues", "wrap_up", "capacity"}, lines_);
    AgentSpec a;
    {
      const YAML::Node n = f.require("extension");
      a.extension = scalar(n, f.path("extension"), "an extension of digits such as 1001");
      if (!all_digits(a.extension) || a.extension.size() > 15) {
        fail(n, f.path("extension"),
             "expected an extension of 1 to 15 digits such as 1001, got " + describe(n));
      }
      const auto collide = [&](const std::string& what) {
        fail(n, f.path("extension"), "extension '" + a.extension + "' is already " + what);
      };
      if (const AgentSpec* other = t.find_agent(a.extension); other != nullptr) {
        collide("the extension of agent '" + other->name + "'");
      }
      for (const NumberRoute& r : t.numbers) {
        if (r.number == a.extension) collide("a number of the tenant");
      }
      const FeatureCodes& c = t.feature_codes;
      for (const auto& [code_name, code] :
           {std::pair{"login", &c.login}, std::pair{"logout", &c.logout},
            std::pair{"pause", &c.pause}, std::pair{"resume", &c.resume}}) {
        if (*code == a.extension) collide(std::string("the feature code ") + code_name);
      }
      if (a.extension.size() == c.pause.size() + 1 && a.extension.rfind(c.pause, 0) == 0) {
        collide("the feature code pause followed by a break reason");
      }
    }
    {
      const YAML::Node n = f.require("password");
      a.password = scalar(n, f.path("password"), "a SIP password");
      if (a.password.empty()) fail(n, f.path("password"), "the SIP password must not be empty");
    }
    a.name = a.extension;
    if (auto n = f.get("name")) a.name = name(*n, f.path("name"));
    if (auto n = f.get("skills")) {
      for_each_entry(*n, f.path("skills"), "skill names to levels", lines_,
                     [&](const YAML::Node& key, const YAML::Node& value, const std::string& p) {
                       a.skills.emplace_back(key.Scalar(),
                                             static_cast<uint8_t>(integer(value, p, 1, 10)));
                     });
    }
    if (auto n = f.get("queues")) {
      for_each_item(*n, f.path("queues"), "queues",
                    [&](const YAML::Node& item, const std::string& p) {
                      AgentMembershipSpec m;
                      YAML::Node q = item;
                      std::string qp = p;
                      if (item.IsMap()) {
                        Fields mf(item, p, {"queue", "tier"}, lines_);
                        q = mf.require("queue");
                        qp = mf.path("queue");
                        if (auto tier = mf.get("tier")) {
                          m.tier = static_cast<uint8_t>(integer(*tier, mf.path("tier"), 1, 99));
                        }
                      }
                      m.queue = name(q, qp);
                      if (t.find_queue(m.queue) == nullptr) {
                        fail(q, qp, "no queue '" + m.queue + "' in tenant '" + t.id + "'");
                      }
                      for (const AgentMembershipSpec& other : a.queues) {
                        if (other.queue == m.queue) {
                          fail(q, qp, "queue '" + m.queue + "' is listed twice");
                        }
                      }
                      a.queues.push_back(std::move(m));
                    });
    }
    if (auto n = f.get("wrap_up")) a.wrap_up = duration(*n, f.path("wrap_up"));
    if (auto n = f.get("capacity")) {
      for_each_entry(*n, f.path("capacity"), "channels to contacts", lines_,
                     [&](const YAML::Node& key, const YAML::Node& value, const std::string& p) {
                       auto ch = core::channel_from_string(key.Scalar());
                       if (!ch) {
                         fail(key, p,
                              "unknown channel (expected one of voice, chat, email, sms, "
                              "callback)");
                       }
                       a.capacity[static_cast<size_t>(*ch)] =
                           static_cast<uint8_t>(integer(value, p, 0, 100));
                     });
    }
    return a;
  }

  // Wrap-up codes: 1 to 100 characters on one line, each once, at most 50.
  std::vector<std::string> dispositions(const YAML::Node& node, const std::string& path) {
    // An empty list: no codes (the agent writes notes only), as when the key is left out.
    if (!node.IsSequence() || node.size() > 50) {
      fail(node, path, "expected a list of up to 50 disposition codes, got " + describe(node));
    }
    std::vector<std::string> out;
    for_each_item(node, path, "disposition codes", [&](const YAML::Node& item, const std::string& p) {
      std::string d = scalar(item, p, "a disposition code");
      if (d.empty() || d.size() > 100 || d.find_first_of("\r\n") != std::string::npos) {
        fail(item, p, "a disposition code is 1 to 100 characters on one line");
      }
      if (std::find(out.begin(), out.end(), d) != out.end()) {
        fail(item, p, "disposition '" + d + "' given twice");
      }
      out.push_back(std::move(d));
    });
    return out;
  }

  std::vector<std::string> break_reasons(const YAML::Node& node, const std::string& path) {
    if (!node.IsSequence() || node.size() == 0) {
      fail(node, path, "expected a list of break reasons, got " + describe(node));
    }
    std::vector<std::string> out;
    for_each_item(node, path, "break reasons", [&](const YAML::Node& item, const std::string& p) {
      std::string r = name(item, p);
      if (r == "no answer") {
        fail(item, p, "'no answer' is the router's own reason (for missed offers); choose another");
      }
      if (std::find(out.begin(), out.end(), r) != out.end()) {
        fail(item, p, "break reason '" + r + "' given twice");
      }
      out.push_back(std::move(r));
    });
    return out;
  }

  FeatureCodes feature_codes(const YAML::Node& node, const std::string& path) {
    Fields f(node, path, {"login", "logout", "pause", "resume"}, lines_);
    FeatureCodes c;
    const std::pair<const char*, std::string*> codes[] = {
        {"login", &c.login}, {"logout", &c.logout}, {"pause", &c.pause}, {"resume", &c.resume}};
    for (const auto& [key, code] : codes) {
      auto n = f.get(key);
      if (!n) continue;
      *code = scalar(*n, f.path(key), "a code such as *11");
      if (code->empty() || code->size() > 16 ||
          code->find_first_not_of("0123456789*#") != std::string::npos) {
        fail(*n, f.path(key), "expected a code of 0-9, * and # such as *11, got " + describe(*n));
      }
    }
    // Unique, and none a prefix of another: a phone dials the digits of one code, and pause may
    // be followed by a digit for the break reason.
    for (size_t i = 0; i < std::size(codes); ++i) {
      for (size_t j = 0; j < std::size(codes); ++j) {
        if (i == j) continue;
        const std::string& a = *codes[i].second;
        const std::string& b = *codes[j].second;
        if (a == b && j < i) {
          const std::string p = f.path(codes[i].first);
          throw ParseError{line(p), p, "'" + a + "' is already the code for " + codes[j].first};
        }
        if (a != b && b.rfind(a, 0) == 0) {
          const std::string p = f.path(f.has(codes[i].first) ? codes[i].first : codes[j].first);
          throw ParseError{line(p), p,
                           "'" + a + "' (" + codes[i].first + ") is the start of '" + b + "' (" +
                               codes[j].first + "): a phone could not tell them apart"};
        }
      }
    }
    return c;
  }

  std::string realm(const YAML::Node& node, const std::string& path) {
    std::string r = name(node, path);
    for (char ch : r) {
      if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f || ch == '"' || ch == '\\') {
        fail(node, path, "a realm may not hold quotes, backslashes or control characters");
      }
    }
    return r;
  }

  // ---- Prompts ----

  PromptSource source_file(const YAML::Node& node, const std::string& path) {
    PromptSource s;
    s.file = absolute(name(node, path));
    std::error_code ec;
    if (!fs::is_regular_file(s.file, ec)) {
      fail(node, path, "prompt file " + s.file + " does not exist");
    }
    return s;
  }

  PromptEntry prompt_entry(const std::string& id, const YAML::Node& node, const std::string& path,
                           Language fallback) {
    PromptEntry e;
    e.id = id;
    if (node.IsScalar()) {  // a bare text in the tenant's language
      PromptSource s;
      s.language = fallback;
      s.text = name(node, path);
      e.by_language[fallback] = s;
      return e;
    }
    Fields f(node, path, {"file", "text", "lang", "en", "fa", "ar"}, lines_);
    if (auto n = f.get("file")) e.any = source_file(*n, f.path("file"));
    if (auto n = f.get("text")) {
      PromptSource s;
      s.language = fallback;
      if (auto l = f.get("lang")) s.language = language(*l, f.path("lang"));
      s.text = name(*n, f.path("text"));
      e.by_language[s.language] = s;
    } else if (f.has("lang")) {
      fail(*f.get("lang"), f.path("lang"), "`lang` goes with `text`");
    }
    for (Language l : core::kAllLanguages) {
      const std::string key(core::to_string(l));
      auto n = f.get(key);
      if (!n) continue;
      if (e.by_language.count(l) != 0) {
        fail(*n, f.path(key), "the " + key + " text is already given by text/lang");
      }
      PromptSource s;
      s.language = l;
      if (n->IsScalar()) {
        s.text = name(*n, f.path(key));
      } else {
        Fields v(*n, f.path(key), {"file", "text"}, lines_);
        if (v.has("file") == v.has("text")) {
          fail(*n, f.path(key), "expected either file or text");
        }
        if (auto file = v.get("file")) {
          s = source_file(*file, v.path("file"));
          s.language = l;
        } else {
          s.text = name(*v.get("text"), v.path("text"));
        }
      }
      e.by_language[l] = s;
    }
    if (!e.any && e.by_language.empty()) {
      fail(node, path, "a prompt needs a file, a text, or en/fa/ar variants");
    }
    return e;
  }

  // Text prompts become WAVs through espeak-ng, cached under data_dir/prompts.
  void synthesize(ServerConfig& cfg) {
    std::unique_ptr<prompts::Synthesizer> synth;
    for (size_t i = 0; i < cfg.tenants.size(); ++i) {
      for (auto& [id, entry] : cfg.tenants[i].prompts) {
        for (auto& [lang, src] : entry.by_language) {
          if (src.text.empty() || !src.file.empty()) continue;
          const std::string p = index_path("tenants", i) + ".prompts." + id + "." +
                                std::string(core::to_string(lang));
          if (!synth) {
            auto made = prompts::Synthesizer::create((fs::path(cfg.data_dir) / "prompts").string(),
                                                     options_.espeak);
            if (!made) throw ParseError{line(p), p, made.message()};
            synth = std::move(made).value();
          }
          auto wav = synth->synthesize(src.text, lang);
          if (!wav) throw ParseError{line(p), p, wav.message()};
          src.file = *wav;
          src.synthesized = true;
        }
      }
    }
  }

  std::vector<PromptSpec> prompt_list(const YAML::Node& node, const std::string& path) {
    std::vector<PromptSpec> out;
    if (node.IsNull()) return out;
    if (node.IsScalar() || node.IsMap()) {
      out.push_back(prompt_item(node, path));
      return out;
    }
    for_each_item(node, path, "prompts", [&](const YAML::Node& item, const std::string& p) {
      out.push_back(prompt_item(item, p));
    });
    return out;
  }

  PromptSpec prompt_item(const YAML::Node& node, const std::string& path) {
    PromptSpec s;
    if (node.IsScalar()) {
      s.kind = PromptSpec::Kind::kId;
      s.value = name(node, path);
    } else {
      Fields f(node, path, {"prompt", "say", "number", "duration", "digits", "lang"}, lines_);
      int kinds = 0;
      for (auto [key, kind] :
           {std::pair{"prompt", PromptSpec::Kind::kId}, std::pair{"say", PromptSpec::Kind::kText},
            std::pair{"number", PromptSpec::Kind::kNumber},
            std::pair{"duration", PromptSpec::Kind::kDuration},
            std::pair{"digits", PromptSpec::Kind::kDigits}}) {
        if (auto n = f.get(key)) {
          ++kinds;
          s.kind = kind;
          s.value = name(*n, f.path(key));
        }
      }
      if (kinds != 1) {
        fail(node, path, "expected exactly one of prompt, say, number, duration, digits");
      }
      if (auto l = f.get("lang")) s.language = language(*l, f.path("lang"));
    }
    if (s.kind == PromptSpec::Kind::kId && s.value.find("${") == std::string::npos) {
      prompt_uses_.push_back({s.value, line_of(node), path});
    }
    return s;
  }

  // ---- Calendars ----

  core::Calendar calendar(const std::string& cal_name, const YAML::Node& node,
                          const std::string& path, const std::string& tenant_zone) {
    Fields f(node, path, {"zone", "hours", "holidays"}, lines_);
    core::Calendar c;
    c.name = cal_name;
    c.zone = tenant_zone;
    if (auto n = f.get("zone")) {
      c.zone = name(*n, f.path("zone"));
      c.offsets = zone(*n, f.path("zone"), c.zone);
    } else {
      c.offsets = zone(node, path, c.zone);
    }
    for_each_entry(f.require("hours"), f.path("hours"), "days to hours", lines_,
                   [&](const YAML::Node& key, const YAML::Node& value, const std::string& p) {
                     auto days = weekdays(key.Scalar());
                     if (!days) {
                       fail(key, p,
                            "expected days such as mon, mon-fri, sat-wed, mon,wed or daily");
                     }
                     const std::string& spec = scalar(value, p, "hours such as 09:00-17:00");
                     for (const std::string& range : split(spec, ',')) {
                       const size_t dash = range.find('-');
                       auto from = clock_time(trim(std::string_view(range).substr(0, dash)));
                       auto to = dash == std::string::npos
                                     ? std::nullopt
                                     : clock_time(trim(std::string_view(range).substr(dash + 1)));
                       if (!from || !to || *from == *to || *from == std::chrono::hours(24)) {
                         fail(value, p,
                              "expected hours such as 09:00-17:00 or 08:00-12:00, 13:00-17:00 "
                              "(22:00-06:00 crosses midnight), got '" +
                                  range + "'");
                       }
                       for (unsigned d : *days) {
                         if (*from < *to) {
                           c.weekly[d].push_back({*from, *to});
                         } else {  // across midnight
                           c.weekly[d].push_back({*from, std::chrono::hours(24)});
                           if (*to > Duration::zero()) {
                             c.weekly[(d + 1) % 7].push_back({Duration::zero(), *to});
                           }
                         }
                       }
                     }
                   });
    if (auto n = f.get("holidays")) {
      for_each_item(
          *n, f.path("holidays"), "holidays", [&](const YAML::Node& item, const std::string& p) {
            core::Holiday h;
            YAML::Node date = item;
            std::string date_path = p;
            if (item.IsMap()) {
              Fields hf(item, p, {"date", "name"}, lines_);
              date = hf.require("date");
              date_path = hf.path("date");
              if (auto nm = hf.get("name")) h.name = name(*nm, hf.path("name"));
            }
            const std::string& s = scalar(date, date_path, "a date such as 2025-03-21 or 12-25");
            const auto parts = split(s, '-');
            std::vector<unsigned> v;
            bool ok = parts.size() == 2 || parts.size() == 3;
            for (const std::string& part : parts) {
              unsigned x = 0;
              auto r = std::from_chars(part.data(), part.data() + part.size(), x);
              ok = ok && !part.empty() && r.ec == std::errc() && r.ptr == part.data() + part.size();
              v.push_back(x);
            }
            if (ok && v.size() == 3) {
              h.year = static_cast<int>(v[0]);
              h.month = v[1];
              h.day = v[2];
            } else if (ok) {
              h.month = v[0];
              h.day = v[1];
            }
            const std::chrono::year_month_day ymd{std::chrono::year(h.year == 0 ? 2024 : h.year),
                                                  std::chrono::month(h.month),
                                                  std::chrono::day(h.day)};
            if (!ok || !ymd.ok() || (h.year != 0 && (h.year < 1970 || h.year > 9999))) {
              fail(date, date_path,
                   "expected a date such as 2025-03-21 (that day) or 12-25 (every year), got " +
                       describe(date));
            }
            c.holidays.push_back(std::move(h));
          });
    }
    return c;
  }

  // ---- Flows ----

  core::Flow flow(const std::string& flow_name, const YAML::Node& node, const std::string& path) {
    Fields f(node, path, {"language", "answer", "start", "nodes"}, lines_);
    core::Flow fl;
    fl.name = flow_name;
    if (auto n = f.get("language")) fl.language = language(*n, f.path("language"));
    if (auto n = f.get("answer")) {
      const std::string& s = scalar(*n, f.path("answer"), "auto or early");
      if (s == "early") {
        fl.early_media = true;
      } else if (s != "auto") {
        fail(*n, f.path("answer"), "unknown answer mode '" + s + "' (expected one of auto, early)");
      }
    }
    fl.start = name(f.require("start"), f.path("start"));
    const YAML::Node nodes = f.require("nodes");
    if (!nodes.IsMap() || nodes.size() == 0) {
      fail(nodes, f.path("nodes"),
           "expected a mapping of node names to nodes, got " + describe(nodes));
    }
    for_each_entry(nodes, f.path("nodes"), "node names to nodes", lines_,
                   [&](const YAML::Node& key, const YAML::Node& value, const std::string& p) {
                     fl.nodes[key.Scalar()] = core::Node{key.Scalar(), node_body(value, p)};
                   });
    return fl;
  }

  std::string optional_name(const Fields& f, std::string_view key) {
    auto n = f.get(key);
    if (!n || n->IsNull()) return {};
    return name(*n, f.path(key));
  }

  core::NodeBody node_body(const YAML::Node& node, const std::string& path) {
    if (!node.IsMap()) {
      fail(node, path,
           "expected a node (a mapping with one of " + join(kNodeTypes) + "), got " +
               describe(node));
    }
    std::string type;
    for (const auto& entry : node) {
      const YAML::Node key = entry.first;
      if (!key.IsScalar()) continue;
      if (std::find(kNodeTypes.begin(), kNodeTypes.end(), key.Scalar()) != kNodeTypes.end()) {
        if (!type.empty()) {
          fail(key, path, "a node has one type; it has both " + type + " and " + key.Scalar());
        }
        type = key.Scalar();
      }
    }
    if (type.empty()) fail(node, path, "a node needs one of " + join(kNodeTypes));

    if (type == "play") {
      Fields f(node, path, {"play", "interruptible", "next"}, lines_);
      core::PlayNode n;
      n.prompts = prompt_list(*f.get("play"), f.path("play"));
      if (auto v = f.get("interruptible")) n.interruptible = boolean(*v, f.path("interruptible"));
      n.next = name(f.require("next"), f.path("next"));
      return n;
    }
    if (type == "menu") {
      Fields f(node, path,
               {"menu", "interruptible", "options", "timeout", "retries", "invalid", "no_input",
                "on_failure"},
               lines_);
      core::MenuNode n;
      n.prompts = prompt_list(*f.get("menu"), f.path("menu"));
      if (auto v = f.get("interruptible")) n.interruptible = boolean(*v, f.path("interruptible"));
      for_each_entry(f.require("options"), f.path("options"), "digits to nodes", lines_,
                     [&](const YAML::Node& key, const YAML::Node& value, const std::string& p) {
                       const std::string& d = key.Scalar();
                       if (d.size() != 1 ||
                           std::string_view("0123456789*#").find(d[0]) == std::string_view::npos) {
                         fail(key, p, "a menu option is one key: 0-9, * or #");
                       }
                       n.options[d[0]] = name(value, p);
                     });
      if (n.options.empty()) fail(node, f.path("options"), "a menu needs at least one option");
      if (auto v = f.get("timeout")) n.timeout = positive_duration(*v, f.path("timeout"));
      if (auto v = f.get("retries")) {
        n.retries = static_cast<uint32_t>(integer(*v, f.path("retries"), 0, 10));
      }
      if (auto v = f.get("invalid")) n.invalid_prompts = prompt_list(*v, f.path("invalid"));
      if (auto v = f.get("no_input")) n.timeout_prompts = prompt_list(*v, f.path("no_input"));
      n.on_failure = optional_name(f, "on_failure");
      return n;
    }
    if (type == "collect") {
      Fields f(node, path,
               {"collect", "interruptible", "into", "max_digits", "min_digits", "timeout",
                "inter_digit", "retries", "invalid", "no_input", "next", "on_failure"},
               lines_);
      core::CollectNode n;
      n.prompts = prompt_list(*f.get("collect"), f.path("collect"));
      if (auto v = f.get("interruptible")) n.interruptible = boolean(*v, f.path("interruptible"));
      n.variable = name(f.require("into"), f.path("into"));
      if (auto v = f.get("max_digits")) {
        n.max_digits = static_cast<uint32_t>(integer(*v, f.path("max_digits"), 0, 64));
      }
      if (auto v = f.get("min_digits")) {
        n.min_digits = static_cast<uint32_t>(integer(*v, f.path("min_digits"), 0, 64));
      }
      if (auto v = f.get("timeout")) n.timeout = positive_duration(*v, f.path("timeout"));
      if (auto v = f.get("inter_digit")) {
        n.inter_digit = positive_duration(*v, f.path("inter_digit"));
      }
      if (auto v = f.get("retries")) {
        n.retries = static_cast<uint32_t>(integer(*v, f.path("retries"), 0, 10));
      }
      if (auto v = f.get("invalid")) n.invalid_prompts = prompt_list(*v, f.path("invalid"));
      if (auto v = f.get("no_input")) n.timeout_prompts = prompt_list(*v, f.path("no_input"));
      n.next = name(f.require("next"), f.path("next"));
      n.on_failure = optional_name(f, "on_failure");
      return n;
    }
    if (type == "set") {
      Fields f(node, path, {"set", "next"}, lines_);
      core::SetNode n;
      for_each_entry(f.require("set"), f.path("set"), "variables to values", lines_,
                     [&](const YAML::Node& key, const YAML::Node& value, const std::string& p) {
                       const std::string v = value.IsNull() ? "" : scalar(value, p, "a value");
                       if (key.Scalar() == "language" && v.find("${") == std::string::npos &&
                           !core::language_from_string(v)) {
                         fail(value, p,
                              "unknown language '" + v + "' (expected one of en, fa, ar)");
                       }
                       n.assignments.emplace_back(key.Scalar(), v);
                     });
      n.next = name(f.require("next"), f.path("next"));
      return n;
    }
    if (type == "branch") {
      Fields f(node, path, {"branch", "otherwise"}, lines_);
      core::BranchNode n;
      for_each_item(f.require("branch"), f.path("branch"), "conditions",
                    [&](const YAML::Node& item, const std::string& p) {
                      n.conditions.push_back(condition(item, p));
                    });
      n.otherwise = name(f.require("otherwise"), f.path("otherwise"));
      return n;
    }
    if (type == "voicemail") {
      Fields f(node, path, {"voicemail", "beep", "max", "next"}, lines_);
      core::VoicemailNode n;
      n.prompts = prompt_list(*f.get("voicemail"), f.path("voicemail"));
      if (auto v = f.get("beep")) n.beep = boolean(*v, f.path("beep"));
      if (auto v = f.get("max")) n.max = positive_duration(*v, f.path("max"));
      n.next = optional_name(f, "next");
      return n;
    }
    if (type == "transfer") {
      Fields f(node, path, {"transfer", "trunk", "on_failure"}, lines_);
      core::TransferNode n;
      n.target = name(f.require("transfer"), f.path("transfer"));
      n.trunk = optional_name(f, "trunk");
      if (!n.trunk.empty()) trunk_uses_.push_back({n.trunk, f.key_line("trunk"), f.path("trunk")});
      n.on_failure = optional_name(f, "on_failure");
      return n;
    }
    if (type == "queue") {
      Fields f(node, path, {"queue", "priority", "on_exit", "branches", "keys"}, lines_);
      core::QueueNode n;
      n.queue = name(f.require("queue"), f.path("queue"));
      queue_uses_.push_back({n.queue, f.key_line("queue"), f.path("queue")});
      if (auto v = f.get("priority")) {
        if (v->IsScalar() && v->Scalar().find("${") != std::string::npos) {
          n.priority_from = v->Scalar();  // read when the call enters the queue
        } else {
          n.priority = static_cast<int32_t>(
              integer(*v, f.path("priority"), core::kMinQueuePriority, core::kMaxQueuePriority));
        }
      }
      n.on_exit = optional_name(f, "on_exit");
      if (auto v = f.get("branches")) {
        for_each_entry(*v, f.path("branches"), "exit names to nodes", lines_,
                       [&](const YAML::Node& key, const YAML::Node& value, const std::string& p) {
                         n.branches[key.Scalar()] = name(value, p);
                       });
      }
      if (auto v = f.get("keys")) {
        for_each_entry(*v, f.path("keys"), "keys to nodes", lines_,
                       [&](const YAML::Node& key, const YAML::Node& value, const std::string& p) {
                         const std::string& d = key.Scalar();
                         if (d.size() != 1 || std::string_view("0123456789*#").find(d[0]) ==
                                                  std::string_view::npos) {
                           fail(key, p, "an exit key is one key: 0-9, * or #");
                         }
                         n.keys[d[0]] = name(value, p);
                       });
      }
      return n;
    }
    // hangup
    Fields f(node, path, {"hangup"}, lines_);
    core::HangupNode n;
    const YAML::Node cause = *f.get("hangup");
    if (!cause.IsNull()) {
      const std::string& s = scalar(cause, f.path("hangup"), "a hangup cause");
      bool found = false;
      for (auto c :
           {core::HangupCause::kNormal, core::HangupCause::kBusy, core::HangupCause::kRejected,
            core::HangupCause::kUnavailable, core::HangupCause::kError}) {
        if (core::to_string(c) == s) {
          n.cause = c;
          found = true;
        }
      }
      if (!found) {
        fail(cause, f.path("hangup"),
             "unknown hangup cause '" + s +
                 "' (expected one of normal, busy, rejected, unavailable, error)");
      }
    }
    return n;
  }

  core::Condition condition(const YAML::Node& node, const std::string& path) {
    Fields f(node, path,
             {"open", "closed", "holiday", "caller", "var", "equals", "matches", "goto"}, lines_);
    core::Condition c;
    c.next = name(f.require("goto"), f.path("goto"));
    int kinds = 0;
    for (auto [key, kind] : {std::pair{"open", core::Condition::Kind::kOpen},
                             std::pair{"closed", core::Condition::Kind::kClosed},
                             std::pair{"holiday", core::Condition::Kind::kHoliday}}) {
      if (auto n = f.get(key)) {
        ++kinds;
        c.kind = kind;
        c.calendar = name(*n, f.path(key));
      }
    }
    if (auto n = f.get("caller")) {
      ++kinds;
      c.kind = core::Condition::Kind::kCallerMatches;
      c.pattern = pattern(*n, f.path("caller"));
    }
    if (auto v = f.get("var")) {
      ++kinds;
      c.variable = name(*v, f.path("var"));
      if (f.has("equals") == f.has("matches")) {
        fail(node, path, "`var` needs exactly one of equals, matches");
      }
      if (auto n = f.get("equals")) {
        c.kind = core::Condition::Kind::kEquals;
        c.value = n->IsNull() ? "" : scalar(*n, f.path("equals"), "a value");
      } else {
        c.kind = core::Condition::Kind::kMatches;
        c.pattern = pattern(*f.get("matches"), f.path("matches"));
      }
    } else if (f.has("equals") || f.has("matches")) {
      const char* key = f.has("equals") ? "equals" : "matches";
      fail(*f.get(key), f.path(key), "`" + std::string(key) + "` needs `var`");
    }
    if (kinds != 1) {
      fail(node, path, "a condition needs exactly one of open, closed, holiday, caller, var");
    }
    return c;
  }

  std::string display_;
  std::string base_dir_;
  const LoadOptions& options_;
  Lines lines_;
  std::map<std::string, core::UtcOffsetTable> zones_;
  std::vector<PromptUse> prompt_uses_;
  std::vector<PromptUse> trunk_uses_;
  std::vector<PromptUse> queue_uses_;  // flow queue nodes
  struct QueueUse {
    PromptUse use;     // the queue named
    std::string from;  // the queue naming it
  };
  std::vector<QueueUse> overflow_uses_;  // escalation steps
};

std::string located(std::string_view file, int line, const std::string& message) {
  std::string out(file);
  if (line > 0) out += ":" + std::to_string(line);
  return out + ": " + message;
}

}  // namespace

std::string uploads_dir(const std::string& data_dir, std::string_view kind) {
  return data_dir + "/" + std::string(kind);
}

Result<std::string> read_data_dir(const std::string& path) {
  try {
    const YAML::Node root = YAML::LoadFile(path);
    const YAML::Node d = root.IsMap() ? root["data_dir"] : YAML::Node();
    if (!d || !d.IsScalar() || d.Scalar().empty()) {
      return Status::error(path + ": data_dir: required field is missing");
    }
    fs::path dir(d.Scalar());
    std::error_code ec;
    if (dir.is_relative()) dir = fs::absolute(path, ec).parent_path() / dir;
    return dir.lexically_normal().string();
  } catch (const YAML::Exception& e) {
    return Status::error(located(path, e.mark.is_null() ? 0 : e.mark.line + 1,
                                 "YAML syntax error: " + e.msg));
  }
}

bool valid_flow_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
         });
}

Result<LoadOptions::Uploads> read_uploads(const std::string& dir) {
  LoadOptions::Uploads out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const fs::directory_entry& tenant : fs::directory_iterator(dir, ec)) {
    if (!tenant.is_directory()) continue;
    for (const fs::directory_entry& file : fs::directory_iterator(tenant.path(), ec)) {
      const fs::path p = file.path();
      if (p.extension() != ".yaml" || !valid_flow_name(p.stem().string())) continue;
      std::ifstream in(p, std::ios::binary);
      if (!in) return Status::error(p.string() + ": cannot read the flow: " + std::strerror(errno));
      std::stringstream text;
      text << in.rdbuf();
      // Named in messages from the data folder on (flows/acme/main.yaml): where an operator
      // finds it, and no server path in what the API answers.
      const std::string display =
          (fs::path(dir).filename() / tenant.path().filename() / p.filename()).string();
      out[tenant.path().filename().string()][p.stem().string()] = {text.str(), display};
    }
  }
  if (ec) return Status::error(dir + ": " + ec.message());
  return out;
}

Result<ServerConfig> load_config_string(std::string_view yaml, std::string_view display_name,
                                        const std::string& base_dir, const LoadOptions& options) {
  // Where an error inside an uploaded flow is reported: the flow's own name, not the file's.
  std::vector<std::pair<std::string, std::string>> flow_paths;  // path prefix, display
  // An uploaded queue's or agent's place in its tenant's list, and the name that stands for it in
  // messages.
  std::vector<std::pair<std::string, std::string>> entry_paths;  // queues[N], queues.ID
  // (kind, tenant, id) -> the keys its upload gave, and whether the file lacks the entry.
  std::map<std::tuple<std::string, std::string, std::string>,
           std::pair<std::vector<std::string>, bool>>
      uploaded_entries;
  std::string_view where = display_name;
  // The one place where yaml-cpp's exceptions and the parser's ParseError become a Status.
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    for (const auto& [kind, kept] : options.uploads) {
      for (const auto& [tenant, texts] : kept) {
        YAML::Node tenants = root.IsMap() ? root["tenants"] : YAML::Node();
        std::optional<size_t> index;
        for (size_t i = 0; tenants && tenants.IsSequence() && i < tenants.size(); ++i) {
          const YAML::Node id = tenants[i].IsMap() ? tenants[i]["id"] : YAML::Node();
          if (id && id.IsScalar() && id.Scalar() == tenant) index = i;
        }
        if (!index) {
          return Status::error(std::string(display_name) + ": " + kind + " are kept for tenant '" +
                               tenant + "', which the configuration does not have");
        }
        YAML::Node t = tenants[*index];
        const std::string tenant_path = "tenants[" + std::to_string(*index) + "].";
        for (const auto& [name, text] : texts) {
          where = text.display;
          YAML::Node node = YAML::Load(text.yaml);
          where = display_name;
          if (kind == "queues" || kind == "agents") {
            // Queues and agents are lists keyed by id / extension: the upload's keys replace the
            // file's entry's, one by one (or the upload is a new entry). Errors name it as
            // queues.ID / agents.EXTENSION.
            const std::string key_field = kind == "queues" ? "id" : "extension";
            const std::string at = tenant_path + kind + "." + name;
            if (!node.IsMap()) {
              throw ParseError{line_of(node), at, "expected a map of the " + kind.substr(0, kind.size() - 1) +
                                                      "'s settings, got " + describe(node)};
            }
            if (const YAML::Node id = node[key_field];
                id && !(id.IsScalar() && id.Scalar() == name)) {
              throw ParseError{line_of(id), at + "." + key_field,
                               "the " + key_field + " is the upload's name, '" + name + "'"};
            }
            if (!t[kind]) t[kind] = YAML::Node(YAML::NodeType::Sequence);
            YAML::Node list = t[kind];
            if (!list.IsSequence()) continue;  // the parser reports the file's own error
            std::optional<size_t> at_index;
            for (size_t i = 0; i < list.size(); ++i) {
              const YAML::Node id = list[i].IsMap() ? list[i][key_field] : YAML::Node();
              if (id && id.IsScalar() && id.Scalar() == name) at_index = i;
            }
            auto& [keys, only] = uploaded_entries[{kind, tenant, name}];
            for (const auto& kv : node) {
              if (kv.first.Scalar() != key_field) keys.push_back(kv.first.Scalar());
            }
            only = !at_index;
            if (at_index) {
              YAML::Node entry = list[*at_index];
              for (const auto& kv : node) entry[kv.first.Scalar()] = kv.second;
            } else {
              YAML::Node entry = node;
              entry[key_field] = name;
              at_index = list.size();
              list.push_back(entry);
            }
            entry_paths.emplace_back(tenant_path + kind + "[" + std::to_string(*at_index) + "]", at);
            flow_paths.emplace_back(at, text.display);
            continue;
          }
          if (!t[kind]) t[kind] = YAML::Node(YAML::NodeType::Map);
          t[kind][name] = node;
          flow_paths.emplace_back(tenant_path + kind + "." + name, text.display);
        }
      }
    }
    Parser parser{std::string(display_name), base_dir, options};
    ServerConfig cfg = parser.parse(root);
    for (TenantConfig& t : cfg.tenants) {
      for (QueueSpec& q : t.queues) {
        auto it = uploaded_entries.find({"queues", t.id, q.id});
        if (it == uploaded_entries.end()) continue;
        q.uploaded_keys = it->second.first;
        q.uploaded_only = it->second.second;
      }
      for (AgentSpec& a : t.agents) {
        auto it = uploaded_entries.find({"agents", t.id, a.extension});
        if (it == uploaded_entries.end()) continue;
        a.uploaded_keys = it->second.first;
        a.uploaded_only = it->second.second;
      }
    }
    return cfg;
  } catch (const ParseError& e) {
    std::string path = e.path;
    for (const auto& [index_path, named] : entry_paths) {
      if (path == index_path || path.rfind(index_path + ".", 0) == 0) {
        path = named + path.substr(index_path.size());
      }
    }
    std::string_view file = display_name;
    for (const auto& [prefix, display] : flow_paths) {
      if (path == prefix || path.rfind(prefix + ".", 0) == 0) file = display;
    }
    return Status::error(located(file, e.line, path + ": " + e.message));
  } catch (const YAML::Exception& e) {
    if (where != display_name) {
      return Status::error(located(where, e.mark.is_null() ? 0 : e.mark.line + 1,
                                   "YAML syntax error: " + e.msg));
    }
    return Status::error(located(display_name, e.mark.is_null() ? 0 : e.mark.line + 1,
                                 "YAML syntax error: " + e.msg));
  } catch (const std::exception& e) {
    return Status::error(located(display_name, 0, std::string("cannot load: ") + e.what()));
  }
}

Result<ServerConfig> load_config(const std::string& path, const LoadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error(path + ": cannot read the configuration: " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  std::error_code ec;
  const fs::path abs = fs::absolute(path, ec);
  const std::string base = ec ? std::string(".") : abs.parent_path().string();
  return load_config_string(text.str(), path, base, options);
}

}  // namespace tamas::config
