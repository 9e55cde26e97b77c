// Reads a simulation scenario from YAML (format: docs/simulator.md).
//
// yaml-cpp reports problems by throwing, and so, to keep the many small checks below readable, do
// the checks here (ParseError). Both are caught in exactly one place, parse_scenario(), and turned
// into a Status; nothing escapes. Every check knows the node it looks at, so every message carries
// the line (yaml-cpp's 0-based Mark, shown 1-based) and the field path (queues[0].strategy).
#include "sim/scenario.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "yaml/checks.h"

namespace tamas::sim {
namespace {

using core::EscalationStep;

using namespace yaml;  // ParseError, Fields, the scalar checks (yaml/checks.h)

// Every name an enum's to_string() knows, in order, for "expected one of ...".
template <typename E>
std::string enum_names() {
  std::string out;
  for (int i = 0; i < 64; ++i) {
    std::string_view name = core::to_string(static_cast<E>(i));
    if (name == "?") break;
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

// ---- Scalars ------------------------------------------------------------------------------------

Duration duration(const YAML::Node& node, const std::string& path) {
  const std::string& s = scalar(node, path, "a duration such as 90s, 30m or 8h");
  Result<Duration> d = parse_duration(s);
  if (!d) fail(node, path, d.message());
  return *d;
}

Duration positive_duration(const YAML::Node& node, const std::string& path) {
  Duration d = duration(node, path);
  if (d <= Duration::zero()) fail(node, path, "must be longer than 0");
  return d;
}

// A duration within one day, for times of day ("9h", "17h30m").
Duration time_of_day(const YAML::Node& node, const std::string& path) {
  Duration d = duration(node, path);
  if (d >= std::chrono::hours(24)) {
    fail(node, path, "a time of day must be before 24h, got " + describe(node));
  }
  return d;
}

template <typename E>
E enum_value(const YAML::Node& node, const std::string& path, std::string_view what,
             std::optional<E> (*from_string)(std::string_view)) {
  const std::string& s = scalar(node, path, "a " + std::string(what));
  std::optional<E> value = from_string(s);
  if (!value) {
    fail(node, path,
         "unknown " + std::string(what) + " '" + s + "' (expected one of " + enum_names<E>() + ")");
  }
  return *value;
}

// ---- Composite values ---------------------------------------------------------------------------

// {name: level, ...} for skills (an agent's levels or minimum levels required).
std::vector<NamedSkill> skills(const YAML::Node& node, const std::string& path) {
  if (!node.IsMap()) {
    fail(node, path, "expected a mapping of skill names to levels 1..10, got " + describe(node));
  }
  std::vector<NamedSkill> out;
  std::set<std::string> seen;
  for (const auto& entry : node) {
    const YAML::Node key = entry.first, value = entry.second;
    std::string skill = name(key, path);
    const std::string p = child_path(path, skill);
    if (!seen.insert(skill).second) fail(key, p, "given twice");
    out.push_back({skill, static_cast<uint8_t>(integer(value, p, 1, 10))});
  }
  return out;
}

Distribution distribution(const YAML::Node& node, const std::string& path) {
  Fields f(node, path, {"dist", "mean", "sd", "value"});
  Distribution d;
  d.kind = [&] {
    YAML::Node kind = f.require("dist");
    const std::string& s = scalar(kind, f.path("dist"), "a distribution name");
    if (s == "exponential") return Distribution::Kind::kExponential;
    if (s == "lognormal") return Distribution::Kind::kLognormal;
    if (s == "fixed") return Distribution::Kind::kFixed;
    fail(kind, f.path("dist"),
         "unknown distribution '" + s + "' (expected one of exponential, lognormal, fixed)");
  }();
  auto forbid = [&](std::string_view key, std::string_view only_for) {
    if (f.has(key)) {
      fail_at(f.key_line(key), f.path(key),
              "only for dist: " + std::string(only_for) + " (this one is " +
                  std::string(to_string(d.kind)) + ")");
    }
  };
  switch (d.kind) {
    case Distribution::Kind::kExponential:
      forbid("sd", "lognormal");
      forbid("value", "fixed");
      d.mean = positive_duration(f.require("mean"), f.path("mean"));
      break;
    case Distribution::Kind::kLognormal:
      forbid("value", "fixed");
      d.mean = positive_duration(f.require("mean"), f.path("mean"));
      d.sd = duration(f.require("sd"), f.path("sd"));
      break;
    case Distribution::Kind::kFixed:
      forbid("sd", "lognormal");
      if (f.has("value") && f.has("mean")) {
        fail_at(f.key_line("mean"), f.path("mean"), "give either value or mean, not both");
      }
      if (f.has("value")) {
        d.mean = duration(*f.get("value"), f.path("value"));
      } else if (f.has("mean")) {
        d.mean = duration(*f.get("mean"), f.path("mean"));
      } else {
        fail(node, f.path("value"), "required field is missing");
      }
      break;
  }
  return d;
}

template <typename Fn>
void for_each_item(const YAML::Node& node, const std::string& path, std::string_view what,
                   bool allow_empty, Fn&& fn) {
  if (!node.IsSequence()) {
    fail(node, path, "expected a list of " + std::string(what) + ", got " + describe(node));
  }
  if (!allow_empty && node.size() == 0) {
    fail(node, path, "expected a list of " + std::string(what) + ", got an empty list");
  }
  for (size_t i = 0; i < node.size(); ++i) fn(node[i], index_path(path, i));
}

// ---- The scenario -------------------------------------------------------------------------------

// A name used somewhere that must refer to a queue, checked once all queues are known.
struct QueueRef {
  std::string queue;
  int line;
  std::string path;
};

class Parser {
 public:
  Scenario parse(const YAML::Node& root, std::string_view source) {
    if (!root.IsMap()) {
      fail_at(
          std::max(line_of(root), 1), "(top level)",
          "expected a mapping with duration, queues, agents and arrivals, got " + describe(root));
    }
    Fields f(root, "",
             {"description", "seed", "duration", "warmup", "answer_delay", "no_answer_break",
              "queues", "agents", "arrivals"});
    Scenario s;
    s.source = std::string(source);
    if (auto n = f.get("description")) scalar(*n, "description", "a text");
    if (auto n = f.get("seed")) s.seed = unsigned_integer(*n, "seed");
    s.duration = positive_duration(f.require("duration"), "duration");
    if (auto n = f.get("warmup")) {
      s.warmup = duration(*n, "warmup");
      if (s.warmup >= s.duration) {
        fail(*n, "warmup",
             "must be shorter than duration (" + format_duration(s.duration) + "), got " +
                 describe(*n));
      }
    }
    if (auto n = f.get("answer_delay")) {
      s.answer_delay = n->IsScalar() ? Distribution{Distribution::Kind::kFixed,
                                                    duration(*n, "answer_delay"), Duration{}}
                                     : distribution(*n, "answer_delay");
    }
    if (auto n = f.get("no_answer_break")) s.no_answer_break = duration(*n, "no_answer_break");
    for_each_item(
        f.require("queues"), "queues", "queues", false,
        [&](const YAML::Node& n, const std::string& p) { s.queues.push_back(queue(n, p)); });
    for_each_item(
        f.require("agents"), "agents", "agent groups", true,
        [&](const YAML::Node& n, const std::string& p) { s.agents.push_back(agent_group(n, p)); });
    for_each_item(
        f.require("arrivals"), "arrivals", "arrival streams", false,
        [&](const YAML::Node& n, const std::string& p) { s.arrivals.push_back(arrival(n, p)); });
    check_references();
    return s;
  }

 private:
  QueueSpec queue(const YAML::Node& node, const std::string& path) {
    Fields f(
        node, path,
        {"id", "strategy", "sl_seconds", "wrap_up", "ring_timeout", "max_no_answer", "retry_after",
         "max_wait", "max_waiting", "join_empty", "leave_empty", "skills", "escalation"});
    QueueSpec q;
    YAML::Node id = f.require("id");
    q.id = name(id, f.path("id"));
    if (auto [it, inserted] = queue_lines_.emplace(q.id, line_of(id)); !inserted) {
      fail(id, f.path("id"),
           "duplicate queue id '" + q.id + "' (first at line " + std::to_string(it->second) + ")");
    }
    core::QueueConfig& c = q.config;
    c.name = q.id;
    if (auto n = f.get("strategy")) {
      c.strategy = enum_value<core::Strategy>(*n, f.path("strategy"), "strategy",
                                              &core::strategy_from_string);
    }
    if (auto n = f.get("sl_seconds"))
      c.sl_threshold = from_seconds(number(*n, f.path("sl_seconds"), 0, 86400));
    if (auto n = f.get("wrap_up")) c.wrap_up = duration(*n, f.path("wrap_up"));
    if (auto n = f.get("ring_timeout"))
      c.ring_timeout = positive_duration(*n, f.path("ring_timeout"));
    if (auto n = f.get("max_no_answer")) {
      c.max_no_answer = static_cast<uint32_t>(integer(*n, f.path("max_no_answer"), 0, 1000));
    }
    if (auto n = f.get("retry_after")) c.retry_after = duration(*n, f.path("retry_after"));
    if (auto n = f.get("max_wait")) c.max_wait = duration(*n, f.path("max_wait"));
    if (auto n = f.get("max_waiting")) {
      c.max_waiting = static_cast<uint32_t>(integer(*n, f.path("max_waiting"), 0, 1000000));
    }
    if (auto n = f.get("join_empty")) {
      c.join_empty = enum_value<core::EmptyPolicy>(*n, f.path("join_empty"), "empty policy",
                                                   &core::empty_policy_from_string);
    }
    if (auto n = f.get("leave_empty")) {
      c.leave_empty = enum_value<core::EmptyPolicy>(*n, f.path("leave_empty"), "empty policy",
                                                    &core::empty_policy_from_string);
    }
    if (auto n = f.get("skills")) q.skills = skills(*n, f.path("skills"));
    if (auto n = f.get("escalation")) {
      for_each_item(*n, f.path("escalation"), "escalation steps", true,
                    [&](const YAML::Node& step, const std::string& p) {
                      q.escalation.push_back(escalation(step, p, q.id));
                    });
    }
    return q;
  }

  EscalationSpec escalation(const YAML::Node& node, const std::string& path,
                            const std::string& own_queue) {
    Fields f(node, path, {"after", "action", "amount", "queue", "branch"});
    EscalationSpec e;
    e.after = duration(f.require("after"), f.path("after"));
    YAML::Node action = f.require("action");
    const std::string& a = scalar(action, f.path("action"), "an escalation action");
    if (a == "next-tier") {
      e.action = EscalationStep::Action::kNextTier;
    } else if (a == "lower-skill") {
      e.action = EscalationStep::Action::kLowerSkill;
    } else if (a == "overflow") {
      e.action = EscalationStep::Action::kOverflow;
    } else if (a == "exit") {
      e.action = EscalationStep::Action::kExit;
    } else {
      fail(action, f.path("action"),
           "unknown action '" + a + "' (expected one of next-tier, lower-skill, overflow, exit)");
    }
    auto only_for = [&](std::string_view key, EscalationStep::Action wanted) {
      if (f.has(key) && e.action != wanted) {
        fail_at(f.key_line(key), f.path(key),
                "only for action: " + std::string(to_string(wanted)) + " (this one is " + a + ")");
      }
    };
    if (auto n = f.get("amount")) {
      if (e.action != EscalationStep::Action::kNextTier &&
          e.action != EscalationStep::Action::kLowerSkill) {
        fail_at(f.key_line("amount"), f.path("amount"),
                "only for action: next-tier or lower-skill (this one is " + a + ")");
      }
      e.amount = static_cast<uint8_t>(integer(*n, f.path("amount"), 1, 9));
    }
    only_for("queue", EscalationStep::Action::kOverflow);
    only_for("branch", EscalationStep::Action::kExit);
    if (e.action == EscalationStep::Action::kOverflow) {
      YAML::Node q = f.require("queue");
      e.overflow_queue = name(q, f.path("queue"));
      if (e.overflow_queue == own_queue) {
        fail(q, f.path("queue"), "a queue cannot overflow into itself");
      }
      refs_.push_back({e.overflow_queue, line_of(q), f.path("queue")});
    }
    if (auto n = f.get("branch")) e.branch = scalar(*n, f.path("branch"), "a flow branch name");
    return e;
  }

  AgentGroupSpec agent_group(const YAML::Node& node, const std::string& path) {
    Fields f(
        node, path,
        {"count", "prefix", "queues", "skills", "wrap_up", "capacity", "voice_exclusive", "shift"});
    AgentGroupSpec g;
    g.count = static_cast<uint32_t>(integer(f.require("count"), f.path("count"), 0, 100000));
    YAML::Node prefix = f.require("prefix");
    g.prefix = name(prefix, f.path("prefix"));
    for (uint32_t i = 1; i <= g.count; ++i) {
      std::string agent = g.prefix + std::to_string(i);
      if (auto [it, inserted] = agent_lines_.emplace(agent, line_of(prefix)); !inserted) {
        fail(prefix, f.path("prefix"),
             "agent name '" + agent + "' is also made by the group at line " +
                 std::to_string(it->second) + " (choose prefixes that cannot collide)");
      }
    }
    std::set<std::string> member_of;
    for_each_item(f.require("queues"), f.path("queues"), "queue ids or {queue, tier}", false,
                  [&](const YAML::Node& n, const std::string& p) {
                    MembershipSpec m;
                    YAML::Node qnode = n;
                    std::string qpath = p;
                    if (n.IsMap()) {
                      Fields mf(n, p, {"queue", "tier"});
                      qnode = mf.require("queue");
                      qpath = mf.path("queue");
                      if (auto t = mf.get("tier")) {
                        m.tier = static_cast<uint8_t>(integer(*t, mf.path("tier"), 1, 255));
                      }
                    }
                    m.queue = name(qnode, qpath);
                    if (!member_of.insert(m.queue).second) {
                      fail(qnode, qpath, "queue '" + m.queue + "' is listed twice");
                    }
                    refs_.push_back({m.queue, line_of(qnode), qpath});
                    g.queues.push_back(std::move(m));
                  });
    if (auto n = f.get("skills")) g.skills = skills(*n, f.path("skills"));
    if (auto n = f.get("wrap_up")) g.wrap_up = duration(*n, f.path("wrap_up"));
    if (auto n = f.get("capacity")) {
      const std::string p = f.path("capacity");
      if (!n->IsMap()) {
        fail(*n, p, "expected a mapping of channels to contacts at once, got " + describe(*n));
      }
      g.capacity.fill(0);  // listed channels only
      std::set<std::string> seen;
      for (const auto& entry : *n) {
        const YAML::Node key = entry.first, value = entry.second;
        core::Channel ch = enum_value<core::Channel>(key, p, "channel", &core::channel_from_string);
        const std::string cp = child_path(p, key.Scalar());
        if (!seen.insert(key.Scalar()).second) fail(key, cp, "given twice");
        g.capacity[static_cast<size_t>(ch)] = static_cast<uint8_t>(integer(value, cp, 0, 255));
      }
    }
    if (auto n = f.get("voice_exclusive"))
      g.voice_exclusive = boolean(*n, f.path("voice_exclusive"));
    if (auto n = f.get("shift")) {
      Fields sf(*n, f.path("shift"), {"from", "to"});
      Shift s;
      s.from = time_of_day(sf.require("from"), sf.path("from"));
      YAML::Node to = sf.require("to");
      s.to = time_of_day(to, sf.path("to"));
      if (s.to == s.from) {
        fail(to, sf.path("to"), "a shift must not end when it starts (leave shift out for 24h)");
      }
      g.shift = s;
    }
    return g;
  }

  ArrivalSpec arrival(const YAML::Node& node, const std::string& path) {
    Fields f(node, path,
             {"name", "queue", "channel", "priority", "skills", "per_hour", "profile", "handle",
              "patience"});
    ArrivalSpec a;
    YAML::Node q = f.require("queue");
    a.queue = name(q, f.path("queue"));
    refs_.push_back({a.queue, line_of(q), f.path("queue")});
    int name_line = line_of(q);
    if (auto n = f.get("name")) {
      a.name = name(*n, f.path("name"));
      name_line = line_of(*n);
      if (auto [it, inserted] = arrival_lines_.emplace(a.name, name_line); !inserted) {
        fail(*n, f.path("name"),
             "duplicate arrival name '" + a.name + "' (first at line " +
                 std::to_string(it->second) + ")");
      }
    } else {
      // Unnamed streams are named after their queue; a later explicit name may not reuse it.
      a.name = a.queue;
      for (int k = 2; arrival_lines_.count(a.name) != 0; ++k)
        a.name = a.queue + "#" + std::to_string(k);
      arrival_lines_.emplace(a.name, name_line);
    }
    if (auto n = f.get("channel")) {
      a.channel =
          enum_value<core::Channel>(*n, f.path("channel"), "channel", &core::channel_from_string);
    }
    if (auto n = f.get("priority")) {
      a.priority = static_cast<int32_t>(integer(*n, f.path("priority"), -1000000, 1000000));
    }
    if (auto n = f.get("skills")) a.skills = skills(*n, f.path("skills"));
    constexpr double kMaxRate = 1e6;
    if (f.has("per_hour") && f.has("profile")) {
      fail_at(f.key_line("profile"), f.path("profile"),
              "give either per_hour or profile, not both");
    }
    if (auto n = f.get("per_hour")) {
      a.profile.push_back({Duration{}, number(*n, f.path("per_hour"), 0, kMaxRate)});
    } else if (auto p = f.get("profile")) {
      for_each_item(*p, f.path("profile"), "{from, per_hour}", false,
                    [&](const YAML::Node& seg, const std::string& sp) {
                      Fields sf(seg, sp, {"from", "per_hour"});
                      YAML::Node from = sf.require("from");
                      RateSegment r;
                      r.from = time_of_day(from, sf.path("from"));
                      r.per_hour = number(sf.require("per_hour"), sf.path("per_hour"), 0, kMaxRate);
                      if (a.profile.empty() && r.from != Duration::zero()) {
                        fail(from, sf.path("from"),
                             "the first interval must start at 0h (the profile covers the whole "
                             "day), got " +
                                 describe(from));
                      }
                      if (!a.profile.empty() && r.from <= a.profile.back().from) {
                        fail(from, sf.path("from"),
                             "intervals must be in increasing order of from, got " +
                                 describe(from) + " after " +
                                 format_duration(a.profile.back().from));
                      }
                      a.profile.push_back(r);
                    });
    } else {
      fail(node, f.path("per_hour"), "required field is missing (give per_hour or profile)");
    }
    a.handle = distribution(f.require("handle"), f.path("handle"));
    if (auto n = f.get("patience")) a.patience = distribution(*n, f.path("patience"));
    return a;
  }

  void check_references() const {
    for (const QueueRef& r : refs_) {
      if (queue_lines_.count(r.queue) == 0) {
        std::string known;
        for (const auto& [id, line] : queue_lines_) known += (known.empty() ? "" : ", ") + id;
        fail_at(r.line, r.path, "no queue '" + r.queue + "' (queues: " + known + ")");
      }
    }
  }

  std::map<std::string, int> queue_lines_;
  std::unordered_map<std::string, int> agent_lines_;
  std::unordered_map<std::string, int> arrival_lines_;
  std::vector<QueueRef> refs_;
};

std::string located(std::string_view source, int line, std::string_view rest) {
  std::string out(source);
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  out += rest;
  return out;
}

}  // namespace

std::string_view to_string(Distribution::Kind k) {
  switch (k) {
    case Distribution::Kind::kExponential:
      return "exponential";
    case Distribution::Kind::kLognormal:
      return "lognormal";
    case Distribution::Kind::kFixed:
      return "fixed";
  }
  return "?";
}

std::string_view to_string(core::EscalationStep::Action a) {
  switch (a) {
    case EscalationStep::Action::kNextTier:
      return "next-tier";
    case EscalationStep::Action::kLowerSkill:
      return "lower-skill";
    case EscalationStep::Action::kOverflow:
      return "overflow";
    case EscalationStep::Action::kExit:
      return "exit";
  }
  return "?";
}

Result<Scenario> parse_scenario(std::string_view yaml, std::string_view display_name) {
  // The one place where exceptions (yaml-cpp's and ParseError) become a Status.
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    return Parser().parse(root, display_name);
  } catch (const ParseError& e) {
    return Status::error(located(display_name, e.line, e.path + ": " + e.message));
  } catch (const YAML::Exception& e) {
    return Status::error(located(display_name, e.mark.is_null() ? 0 : e.mark.line + 1,
                                 "YAML syntax error: " + e.msg));
  } catch (const std::exception& e) {
    return Status::error(located(display_name, 0, std::string("cannot parse: ") + e.what()));
  }
}

Result<Scenario> parse_scenario_file(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) {
    return Status::error(path + ": cannot read the scenario: " + std::strerror(errno));
  }
  std::string text;
  char buffer[65536];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, n);
  if (std::ferror(file.get())) {
    return Status::error(path + ": cannot read the scenario: " + std::strerror(errno));
  }
  return parse_scenario(text, path);
}

}  // namespace tamas::sim
