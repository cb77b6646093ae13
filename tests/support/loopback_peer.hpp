#pragma once
// A scripted server for Connection tests: listens on 127.0.0.1 (a free port), accepts one
// connection on its own thread and runs a script against it with plain blocking sockets.
//
//   LoopbackPeer peer([](PeerStream& s) {
//     auto hello = s.read_message();                     // the handshake: OP_QUERY isMaster
//     s.write(reply_to(hello, standard_hello_reply()));  // answered with an OP_REPLY
//   });
//   Connection conn(peer.address());
//
// reply_to() answers in kind: an OP_REPLY to an OP_QUERY (the handshake), an OP_MSG to an
// OP_MSG, so a script need not know which message is the handshake. LoopbackServer (below)
// accepts any number of connections, for monitors that reconnect.
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
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "wire/address.hpp"
#include "wire/bson.hpp"
#include "wire/op_msg.hpp"
#include "wire/op_query.hpp"

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

// A scripted server for any number of connections (a monitor reconnects after a failed check,
// a pool opens its own): each accepted connection runs `script` on a thread of its own, with
// the connection's index (0, 1, ...). Destruction stops accepting, shuts every connection down
// (ending scripts blocked in a read) and joins all threads; the 10 s bound of LoopbackPeer holds
// for each connection too.
class LoopbackServer {
 public:
  using Script = std::function<void(PeerStream&, int connection)>;

  explicit LoopbackServer(Script script) : script_(std::move(script)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (listener_ < 0) throw std::runtime_error("server: socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 16) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(listener_);
      throw std::runtime_error("server: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~LoopbackServer() { stop(); }
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  HostAndPort address() const { return {"127.0.0.1", port_}; }

  // Stops accepting, ends every connection and joins; idempotent.
  void stop() {
    if (listener_ >= 0) ::shutdown(listener_, SHUT_RDWR);
    if (acceptor_.joinable()) acceptor_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
    if (listener_ >= 0) ::close(listener_);
    listener_ = -1;
  }

  int connections() const {
    std::lock_guard lock(mutex_);
    return accepted_;
  }
  // Waits (at most 10 s) until `n` connections have ended; true when they have.
  bool wait_ended(int n) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return ended_ >= n; });
  }
  // What the scripts threw, other than PeerStop (empty when nothing).
  std::vector<std::string> script_errors() const {
    std::lock_guard lock(mutex_);
    return errors_;
  }

 private:
  void accept_loop() {
    for (;;) {
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      timeval bound{10, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof bound);
      std::lock_guard lock(mutex_);
      if (stopping_) {
        ::close(fd);
        return;
      }
      open_fds_.push_back(fd);
      threads_.emplace_back([this, fd, index = accepted_++] { serve(fd, index); });
    }
  }

  void serve(int fd, int index) {
    PeerStream stream(fd, std::nullopt);
    try {
      script_(stream, index);
    } catch (const PeerStop&) {
    } catch (const std::exception& e) {
      std::lock_guard lock(mutex_);
      errors_.push_back(e.what());
    }
    std::lock_guard lock(mutex_);
    std::erase(open_fds_, fd);
    ::close(fd);
    ++ended_;
    changed_.notify_all();
  }

  Script script_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::vector<int> open_fds_;
  mutable std::condition_variable changed_;
  int accepted_ = 0;
  int ended_ = 0;
  bool stopping_ = false;
  std::vector<std::string> errors_;
};

// --- building replies ------------------------------------------------------------------------

inline std::int32_t request_id_of(std::span<const std::uint8_t> request) {
  std::int32_t id = 0;
  std::memcpy(&id, request.data() + 4, 4);
  return id;
}

inline std::int32_t opcode_of(std::span<const std::uint8_t> request) {
  std::int32_t opcode = 0;
  std::memcpy(&opcode, request.data() + 12, 4);
  return opcode;
}

// An OP_REPLY to `request` holding `document`: no flags, no cursor, one document.
inline std::vector<std::uint8_t> op_reply_to(std::span<const std::uint8_t> request,
                                             bson::View document, std::uint32_t flags = 0) {
  std::vector<std::uint8_t> bytes(wire::kHeaderSize + wire::kOpReplyFixedSize);
  auto put = [&](std::size_t at, std::int32_t value) { std::memcpy(bytes.data() + at, &value, 4); };
  put(4, 1'000'000 + request_id_of(request));
  put(8, request_id_of(request));
  put(12, wire::kOpReply);
  put(16, static_cast<std::int32_t>(flags));
  put(32, 1);  // numberReturned (cursorID and startingFrom stay 0)
  bytes.insert(bytes.end(), document.data(), document.data() + document.size());
  put(0, static_cast<std::int32_t>(bytes.size()));
  return bytes;
}

// The reply to `request` in its own protocol: an OP_REPLY to an OP_QUERY (the handshake), else
// an OP_MSG, in both cases with responseTo answering it.
inline std::vector<std::uint8_t> reply_to(std::span<const std::uint8_t> request, bson::View body) {
  if (opcode_of(request) == wire::kOpQuery) return op_reply_to(request, body);
  auto bytes = wire::encode_op_msg(1'000'000 + request_id_of(request), body);
  std::int32_t response_to = request_id_of(request);
  std::memcpy(bytes.data() + 8, &response_to, 4);
  return bytes;
}

// An OP_QUERY as the peer sees it.
struct Query {
  std::int32_t flags = 0;
  std::string full_collection_name;
  std::int32_t number_to_skip = 0;
  std::int32_t number_to_return = 0;
  bson::Document query;
  std::size_t trailing_bytes = 0;  // after the query document (a returnFieldsSelector)
};

inline Query query_of(std::span<const std::uint8_t> request) {
  if (opcode_of(request) != wire::kOpQuery) throw std::runtime_error("peer: not an OP_QUERY");
  Query q;
  std::size_t at = wire::kHeaderSize;
  auto int32 = [&] {
    if (request.size() - at < 4) throw std::runtime_error("peer: OP_QUERY truncated");
    std::int32_t value = 0;
    std::memcpy(&value, request.data() + at, 4);
    at += 4;
    return value;
  };
  q.flags = int32();
  const void* nul = std::memchr(request.data() + at, 0, request.size() - at);
  if (nul == nullptr) throw std::runtime_error("peer: OP_QUERY name unterminated");
  const auto name_end =
      static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - request.data());
  q.full_collection_name.assign(reinterpret_cast<const char*>(request.data() + at), name_end - at);
  at = name_end + 1;
  q.number_to_skip = int32();
  q.number_to_return = int32();
  const std::size_t length_at = at;
  const auto length = static_cast<std::size_t>(int32());
  if (length < 5 || length > request.size() - length_at) {
    throw std::runtime_error("peer: OP_QUERY document overruns");
  }
  q.query = bson::Document(bson::View(request.data() + length_at, length));
  q.trailing_bytes = request.size() - length_at - length;
  return q;
}

// The command a request carries, whatever its opcode: an OP_QUERY's query document or an
// OP_MSG's body (requests have responseTo 0).
inline bson::Document body_of(std::vector<std::uint8_t> request) {
  if (opcode_of(request) == wire::kOpQuery) return query_of(request).query;
  wire::OpMsg message;
  if (auto ec = wire::decode_op_msg(std::move(request), 0, wire::kDefaultMaxMessageSize, message)) {
    throw std::runtime_error("peer: request does not decode: " + ec.message());
  }
  return bson::Document(message.body());
}

// The name of the command a request carries (its first key).
inline std::string command_name_of(std::vector<std::uint8_t> request) {
  auto body = body_of(std::move(request));
  for (auto element : body) return std::string(element.key());
  return "";
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
