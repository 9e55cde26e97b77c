#include "yaml/checks.h"

#include <charconv>
#include <cmath>

namespace tamas::yaml {

int line_of(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? 0 : mark.line + 1;
}

void fail(const YAML::Node& node, std::string path, std::string message) {
  throw ParseError{line_of(node), std::move(path), std::move(message)};
}

void fail_at(int line, std::string path, std::string message) {
  throw ParseError{line, std::move(path), std::move(message)};
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::string join(std::initializer_list<std::string_view> names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

std::string child_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string index_path(const std::string& parent, size_t i) {
  return parent + "[" + std::to_string(i) + "]";
}

Fields::Fields(const YAML::Node& map, std::string path,
               std::initializer_list<std::string_view> allowed, Lines* lines)
    : map_(map), path_(std::move(path)) {
  if (!map.IsMap()) {
    fail(map, path_.empty() ? "(top level)" : path_,
         "expected a mapping with " + join(allowed) + ", got " + describe(map));
  }
  // yaml-cpp's iterator hands out its key/value pair by value: copy the nodes (cheap handles)
  // rather than keep references into a temporary.
  for (const auto& entry : map) {
    const YAML::Node key = entry.first;
    if (!key.IsScalar()) fail(key, path_, "a key must be a name, got " + describe(key));
    const std::string& name = key.Scalar();
    bool known = false;
    for (std::string_view a : allowed) known = known || a == name;
    if (!known) {
      fail(key, child_path(path_, name), "unknown field (expected one of " + join(allowed) + ")");
    }
    if (auto first = entries_.find(name); first != entries_.end()) {
      fail(key, child_path(path_, name),
           "given twice (first at line " + std::to_string(line_of(first->second.first)) + ")");
    }
    entries_.emplace(name, std::make_pair(key, YAML::Node(entry.second)));
    if (lines != nullptr) lines->emplace(child_path(path_, name), line_of(key));
  }
}

std::optional<YAML::Node> Fields::get(std::string_view key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second.second;
}

YAML::Node Fields::require(std::string_view key) const {
  auto value = get(key);
  if (!value) fail(map_, path(key), "required field is missing");
  return *value;
}

int Fields::key_line(std::string_view key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? line_of(map_) : line_of(it->second.first);
}

const std::string& scalar(const YAML::Node& node, const std::string& path, std::string_view what) {
  if (!node.IsScalar()) {
    fail(node, path, "expected " + std::string(what) + ", got " + describe(node));
  }
  return node.Scalar();
}

std::string name(const YAML::Node& node, const std::string& path) {
  const std::string& s = scalar(node, path, "a name");
  if (s.empty()) fail(node, path, "expected a name, got an empty string");
  return s;
}

int64_t integer(const YAML::Node& node, const std::string& path, int64_t min, int64_t max) {
  const std::string expected =
      "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  const std::string& s = scalar(node, path, expected);
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size() || value < min || value > max) {
    fail(node, path, "expected " + expected + ", got " + describe(node));
  }
  return value;
}

uint64_t unsigned_integer(const YAML::Node& node, const std::string& path) {
  const std::string& s = scalar(node, path, "a non-negative integer");
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) {
    fail(node, path, "expected a non-negative integer, got " + describe(node));
  }
  return value;
}

double number(const YAML::Node& node, const std::string& path, double min, double max) {
  const std::string range = "a number from " + std::to_string(static_cast<int64_t>(min)) +
                            " to " + std::to_string(static_cast<int64_t>(max));
  const std::string& s = scalar(node, path, range);
  double value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(value) || value < min ||
      value > max) {
    fail(node, path, "expected " + range + ", got " + describe(node));
  }
  return value;
}

bool boolean(const YAML::Node& node, const std::string& path) {
  const std::string& s = scalar(node, path, "true or false");
  if (s == "true" || s == "yes") return true;
  if (s == "false" || s == "no") return false;
  fail(node, path, "expected true or false, got " + describe(node));
}

}  // namespace tamas::yaml
