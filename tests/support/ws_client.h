// A WebSocket client for black-box tests of the live stream (Boost.Beast, synchronous, 127.0.0.1
// only). Each read waits at most until a deadline (a socket receive timeout): a missing message
// fails the test instead of hanging it. After a timeout the connection is not usable again.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/http_client.h"

namespace tamas::test {

class WsClient {
 public:
  // Opens ws://127.0.0.1:port/target with the given request headers. Returns 101 when the
  // stream is open, else the HTTP status the server refused with (-1: no answer).
  int open(uint16_t port, const std::string& target,
           const std::map<std::string, std::string>& headers) {
    namespace beast = boost::beast;
    namespace websocket = beast::websocket;
    boost::system::error_code ec;
    boost::asio::ip::tcp::endpoint at(boost::asio::ip::make_address("127.0.0.1"), port);
    ws_.next_layer().connect(at, ec);
    if (ec) return -1;
    ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
      for (const auto& [k, v] : headers) req.set(k, v);
    }));
    websocket::response_type res;
    ws_.handshake(res, "127.0.0.1:" + std::to_string(port), target, ec);
    if (ec) {
      // Beast 1.74 does not hand back a declined handshake's response: ask again, plainly.
      auto h = headers;
      h["Upgrade"] = "websocket";
      h["Connection"] = "Upgrade";
      h["Sec-WebSocket-Key"] = "dGhlIHNhbXBsZSBub25jZQ==";
      h["Sec-WebSocket-Version"] = "13";
      return http_request(port, "GET", target, "", h).status;
    }
    return 101;
  }

  void send(const nlohmann::json& message) {
    boost::system::error_code ec;
    ws_.text(true);
    ws_.write(boost::asio::buffer(message.dump()), ec);
  }

  // Every message received, in order (also those next_matching skipped).
  const std::vector<nlohmann::json>& received() const { return received_; }

  // The next message that satisfies `want`, within `limit`; nullopt when none came.
  std::optional<nlohmann::json> next_matching(const std::function<bool(const nlohmann::json&)>& want,
                                              std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::microseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || broken_) return std::nullopt;
      timeval tv{static_cast<time_t>(left.count() / 1'000'000),
                 static_cast<suseconds_t>(left.count() % 1'000'000)};
      setsockopt(ws_.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      boost::beast::flat_buffer buffer;
      boost::system::error_code ec;
      ws_.read(buffer, ec);
      if (ec) {
        broken_ = true;
        return std::nullopt;
      }
      auto j = nlohmann::json::parse(boost::beast::buffers_to_string(buffer.data()), nullptr, false);
      received_.push_back(j);
      if (want(j)) return j;
    }
  }

  // The next message of `type` (and, for a contact, of `event`).
  std::optional<nlohmann::json> next(const std::string& type, const std::string& event = "",
                                     std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    return next_matching(
        [&](const nlohmann::json& j) {
          return j.value("type", "") == type && (event.empty() || j.value("event", "") == event);
        },
        limit);
  }

 private:
  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_{ioc_};
  std::vector<nlohmann::json> received_;
  bool broken_ = false;
};

}  // namespace tamas::test
