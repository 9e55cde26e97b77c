// Strict reading of YAML documents, shared by the configuration (config/) and the simulation
// scenarios (sim/): every check knows the node it looks at, so every problem carries the line
// (yaml-cpp's 0-based Mark, shown 1-based) and the field path (tenants[0].queues[1].strategy).
// Checks throw ParseError; each reader catches it (and yaml-cpp's exceptions) in exactly one place
// and turns it into a Status, so nothing escapes a reader.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace tamas::yaml {

// A problem in a document, thrown by the checks.
struct ParseError {
  int line = 0;  // 1-based; 0 when unknown
  std::string path;
  std::string message;
};

int line_of(const YAML::Node& node);
[[noreturn]] void fail(const YAML::Node& node, std::string path, std::string message);
[[noreturn]] void fail_at(int line, std::string path, std::string message);
// How a node looks, for "expected X, got Y": a mapping, a list, 'text', nothing.
std::string describe(const YAML::Node& node);
std::string join(std::initializer_list<std::string_view> names);  // "a, b, c"
std::string child_path(const std::string& parent, std::string_view key);  // parent.key
std::string index_path(const std::string& parent, size_t i);              // parent[i]

// The line of every field path seen, for problems found after parsing.
using Lines = std::map<std::string, int, std::less<>>;

// The entries of a mapping, checked against the keys it may have: an unknown key (a typo) and a
// key given twice are errors, not silently ignored. With `lines`, the line of each key is kept
// there under its path.
class Fields {
 public:
  Fields(const YAML::Node& map, std::string path, std::initializer_list<std::string_view> allowed,
         Lines* lines = nullptr);
  Fields(const YAML::Node& map, std::string path, std::initializer_list<std::string_view> allowed,
         Lines& lines)
      : Fields(map, std::move(path), allowed, &lines) {}

  const std::string& path() const { return path_; }
  std::string path(std::string_view key) const { return child_path(path_, key); }
  const YAML::Node& node() const { return map_; }
  bool has(std::string_view key) const { return entries_.count(key) != 0; }
  std::optional<YAML::Node> get(std::string_view key) const;
  YAML::Node require(std::string_view key) const;  // fails with "required field is missing"
  // The line of the key, for errors about the field as a whole.
  int key_line(std::string_view key) const;

 private:
  YAML::Node map_;
  std::string path_;
  std::map<std::string, std::pair<YAML::Node, YAML::Node>, std::less<>> entries_;  // key, value
};

// Scalars: each fails with "expected <what>, got <what it was>".
const std::string& scalar(const YAML::Node& node, const std::string& path, std::string_view what);
std::string name(const YAML::Node& node, const std::string& path);  // not empty
int64_t integer(const YAML::Node& node, const std::string& path, int64_t min, int64_t max);
uint64_t unsigned_integer(const YAML::Node& node, const std::string& path);
double number(const YAML::Node& node, const std::string& path, double min, double max);
bool boolean(const YAML::Node& node, const std::string& path);  // true/yes, false/no

}  // namespace tamas::yaml
