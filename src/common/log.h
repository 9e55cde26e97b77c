// Logging for the live server: one line per event on stderr, readable text or JSON lines.
//
// Thread-safe (one mutex around the write). Not used by core/: the core returns values and the
// adapters log. Written by hand rather than with spdlog because the two formats needed here are a
// few lines each and JSON needs proper string escaping that spdlog's patterns do not give.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace tamas::log {

enum class Level : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format : int { kText, kJson };

void configure(Format format, Level min_level);

// A message with fields: info("call started", {{"call", "42"}, {"from", "100"}}).
using Fields = std::initializer_list<std::pair<std::string_view, std::string>>;
void write(Level level, std::string_view message, Fields fields = {});
inline void debug(std::string_view m, Fields f = {}) { write(Level::kDebug, m, f); }
inline void info(std::string_view m, Fields f = {}) { write(Level::kInfo, m, f); }
inline void warn(std::string_view m, Fields f = {}) { write(Level::kWarn, m, f); }
inline void error(std::string_view m, Fields f = {}) { write(Level::kError, m, f); }

// JSON string escaping (quotes included).
std::string json_quote(std::string_view s);

}  // namespace tamas::log
