#pragma once
// A scripted server for Connection tests: listens on 127.0.0.1 (a free port), accepts one
// connection on its own thread and runs a script against it with plain blocking sockets.
//
//   LoopbackPeer peer([](PeerStream& s) {
//     auto hello = s.read_message();
//     s.write(reply_to(hello, standard_hello_reply()));
//   });
//   Connection conn(peer.address());
//
// A byte budget makes the peer hang up after exactly n bytes read plus written, wherever that
// falls (inside a header, between messages, ...): the loop over n in the tests injects a
// failure at every step of an exchange. Every blocking call of the peer is bounded (10 s), so a
// broken client cannot hang the test run.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "wire/address.hpp"
#include "wire/bson.hpp"
#include "wire/op_msg.hpp"

namespace mongoslice::testing {

// Ends a script: the budget is spent or the client went away.
struct PeerStop {};

class PeerStream {
 public:
  PeerStream(int fd, std::optional<std::size_t> budget) : fd_(fd), budget_(budget) {}

  // One whole message, length prefix first.
  std::vector<std::uint8_t> read_message() {
    std::vector<std::uint8_t> bytes(4);
    read_exact(bytes.data(), 4);
    std::int32_t length = 0;
    std::memcpy(&length, bytes.data(), 4);
    if (length < 4 || length > 64 * 1024 * 1024) throw std::runtime_error("peer: bad length");
    bytes.resize(static_cast<std::size_t>(length));
    read_exact(bytes.data() + 4, bytes.size() - 4);
    return bytes;
  }

  void write(std::span<const std::uint8_t> bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      std::size_t chunk = take(bytes.size() - done);
      ssize_t n = ::send(fd_, bytes.data() + done, chunk, MSG_NOSIGNAL);
      if (n <= 0) throw PeerStop{};
      done += static_cast<std::size_t>(n);
      transferred_ += static_cast<std::size_t>(n);
      if (budget_) *budget_ -= static_cast<std::size_t>(n);
    }
  }

  // Blocks until the client closes the connection (or the 10 s bound passes).
  void wait_for_close() {
    std::uint8_t byte;
    while (::recv(fd_, &byte, 1, 0) > 0) {
    }
  }

  std::size_t transferred() const noexcept { return transferred_; }

 private:
  // How many of `wanted` bytes the budget allows now; none left ends the script.
  std::size_t take(std::size_t wanted) {
    if (!budget_) return wanted;
    if (*budget_ == 0) throw PeerStop{};
    return std::min(wanted, *budget_);
  }

  void read_exact(std::uint8_t* into, std::size_t size) {
    std::size_t done = 0;
    while (done < size) {
      ssize_t n = ::recv(fd_, into + done, take(size - done), 0);
      if (n <= 0) throw PeerStop{};
      done += static_cast<std::size_t>(n);
      transferred_ += static_cast<std::size_t>(n);
      if (budget_) *budget_ -= static_cast<std::size_t>(n);
    }
  }

  int fd_;
  std::optional<std::size_t> budget_;
  std::size_t transferred_ = 0;
};

class LoopbackPeer {
 public:
  using Script = std::function<void(PeerStream&)>;

  explicit LoopbackPeer(Script script, std::optional<std::size_t> budget = std::nullopt) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (listener_ < 0) throw std::runtime_error("peer: socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 1) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(listener_);
      throw std::runtime_error("peer: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, script = std::move(script), budget] { serve(script, budget); });
  }

  ~LoopbackPeer() { join(); }
  LoopbackPeer(const LoopbackPeer&) = delete;
  LoopbackPeer& operator=(const LoopbackPeer&) = delete;

  HostAndPort address() const { return {"127.0.0.1", port_}; }

  // Waits for the script to end (wakes an accept that never came), then reports how many bytes
  // it moved and what it failed on (empty when it ran to completion or was stopped).
  void join() {
    if (listener_ >= 0) ::shutdown(listener_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    if (listener_ >= 0) ::close(listener_);
    listener_ = -1;
  }
  std::size_t transferred() const noexcept { return transferred_; }
  const std::string& script_error() const noexcept { return script_error_; }

 private:
  void serve(const Script& script, std::optional<std::size_t> budget) {
    int fd = ::accept(listener_, nullptr, nullptr);
    if (fd < 0) return;
    timeval bound{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof bound);
    PeerStream stream(fd, budget);
    try {
      script(stream);
    } catch (const PeerStop&) {
    } catch (const std::exception& e) {
      script_error_ = e.what();
    }
    transferred_ = stream.transferred();
    ::close(fd);
  }

  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::size_t transferred_ = 0;
  std::string script_error_;
};

// --- building replies ------------------------------------------------------------------------

inline std::int32_t request_id_of(std::span<const std::uint8_t> request) {
  std::int32_t id = 0;
  std::memcpy(&id, request.data() + 4, 4);
  return id;
}

// An OP_MSG whose responseTo answers `request`.
inline std::vector<std::uint8_t> reply_to(std::span<const std::uint8_t> request, bson::View body) {
  auto bytes = wire::encode_op_msg(1'000'000 + request_id_of(request), body);
  std::int32_t response_to = request_id_of(request);
  std::memcpy(bytes.data() + 8, &response_to, 4);
  return bytes;
}

// The body of a request the peer received (requests have responseTo 0).
inline bson::Document body_of(std::vector<std::uint8_t> request) {
  wire::OpMsg message;
  if (auto ec = wire::decode_op_msg(std::move(request), 0, wire::kDefaultMaxMessageSize, message)) {
    throw std::runtime_error("peer: request does not decode: " + ec.message());
  }
  return bson::Document(message.body());
}

// What a MongoDB 7.0 primary says about itself, more or less.
inline bson::Document standard_hello_reply(std::int32_t max_wire_version = 21) {
  return bson::Builder{}
      .append("isWritablePrimary", true)
      .append("helloOk", true)
      .append("maxBsonObjectSize", 16 * 1024 * 1024)
      .append("maxMessageSizeBytes", 48'000'000)
      .append("maxWriteBatchSize", 100'000)
      .append("minWireVersion", 0)
      .append("maxWireVersion", max_wire_version)
      .append("ok", 1.0)
      .build();
}

// The script of a healthy server: answer the handshake, then `replies` commands with {ok: 1},
// then wait for the client to hang up.
inline LoopbackPeer::Script healthy_server(int replies = 1) {
  return [replies](PeerStream& s) {
    auto hello = s.read_message();
    s.write(reply_to(hello, standard_hello_reply()));
    for (int i = 0; i < replies; ++i) {
      auto command = s.read_message();
      s.write(reply_to(command, bson::Builder{}.append("ok", 1.0).build()));
    }
    s.wait_for_close();
  };
}

}  // namespace mongoslice::testing
