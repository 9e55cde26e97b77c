// The web UI's files: read from HttpConfig::static_dir for paths no route has.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "api/http.h"

namespace tamas::api {
namespace {

std::string content_type(const std::filesystem::path& file) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
  };
  auto it = kTypes.find(file.extension().string());
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

std::optional<Response> read_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  Response r;
  r.content_type = content_type(file);
  r.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  // The page itself is always asked again (it names the current bundle); the rest may be kept
  // briefly.
  const bool page = file.extension() == ".html";
  r.headers.emplace_back("Cache-Control", page ? "no-cache" : "public, max-age=300");
  if (page) {  // the page runs only its own bundle and talks only to this server
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; img-src 'self' data:; style-src 'self' "
                           "'unsafe-inline'; media-src 'self' blob:; frame-ancestors 'none'");
    r.headers.emplace_back("Referrer-Policy", "same-origin");
  }
  return r;
}

}  // namespace

std::optional<Response> static_file(const std::string& dir, const std::string& path) {
  namespace fs = std::filesystem;
  if (dir.empty() || path.empty() || path[0] != '/') return std::nullopt;
  // parse_target has refused '.' and '..' segments and encoded slashes; check again all the same.
  const fs::path rel = fs::path(path.substr(1)).lexically_normal();
  if (rel.is_absolute() || (!rel.empty() && *rel.begin() == "..")) return std::nullopt;
  const fs::path root(dir);
  if (!path.ends_with("/") && path != "/") {
    if (auto r = read_file(root / rel)) return r;
    if (rel.filename().string().find('.') != std::string::npos) return std::nullopt;
  }
  return read_file(root / "index.html");
}

}  // namespace tamas::api
