#pragma once
// What a scripted peer (tests/support/loopback_peer.hpp) needs to play a server of the streaming
// protocol: hello replies carrying a topologyVersion, replies flagged moreToCome that answer the
// previous reply rather than a request, a request's flagBits, and a log of the requests a peer
// received that the test thread can wait on.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <span>
#include <stdexcept>
#include <vector>

#include <bson/bson.h>

#include "support/loopback_peer.hpp"
#include "wire/bson.hpp"
#include "wire/op_msg.hpp"

namespace mongoslice::testing {

// One process id for every scripted server of a test binary (the counter tells replies apart).
inline const bson_oid_t& peer_process_id() {
  static const bson_oid_t oid = [] {
    bson_oid_t o;
    bson_oid_init_from_string(&o, "5f0123456789abcdef012345");
    return o;
  }();
  return oid;
}

// `base` (a hello reply) with topologyVersion {processId, counter} appended.
inline bson::Document with_topology_version(bson::View base, std::int64_t counter) {
  bson::Builder b;
  b.concat(base);
  b.open_document("topologyVersion")
      .append("processId", peer_process_id())
      .append("counter", counter)
      .close();
  return b.build();
}

// A replica-set member's hello: primary or secondary of set "rs", listing itself only.
inline bson::Document member_hello(bool primary, const HostAndPort& self) {
  bson::Builder b;
  b.append("isWritablePrimary", primary)
      .append("secondary", !primary)
      .append("helloOk", true)
      .append("setName", "rs")
      .append("me", self.to_string())
      .append("maxBsonObjectSize", 16 * 1024 * 1024)
      .append("maxMessageSizeBytes", 48'000'000)
      .append("maxWriteBatchSize", 100'000)
      .append("minWireVersion", 0)
      .append("maxWireVersion", 21);
  b.open_array("hosts").append_value(self.to_string()).close();
  b.append("ok", 1.0);
  return b.build();
}

inline std::uint32_t flags_of(std::span<const std::uint8_t> request) {
  if (request.size() < wire::kHeaderSize + 4) throw std::runtime_error("peer: no flagBits");
  std::uint32_t flags = 0;
  std::memcpy(&flags, request.data() + wire::kHeaderSize, 4);
  return flags;
}

// An OP_MSG with `flags` whose responseTo is `response_to` and whose own requestID is
// `request_id` (a streamed reply answers the requestID of the reply before it).
inline std::vector<std::uint8_t> op_msg_reply(std::int32_t request_id, std::int32_t response_to,
                                              bson::View body, std::uint32_t flags = 0) {
  auto bytes = wire::encode_op_msg(request_id, body, flags);
  std::memcpy(bytes.data() + 8, &response_to, 4);
  return bytes;
}

// The requests a peer received, in order, shared with the test thread.
class RequestLog {
 public:
  struct Entry {
    bson::Document body;
    std::uint32_t flags = 0;  // OP_MSG's flagBits (0 for the OP_QUERY handshake)
    bool op_query = false;
  };

  // Records one request (from the peer's thread) and returns its requestID.
  std::int32_t record(std::vector<std::uint8_t> request) {
    Entry entry;
    entry.op_query = opcode_of(request) == wire::kOpQuery;
    entry.flags = entry.op_query ? 0 : flags_of(request);
    const std::int32_t id = request_id_of(request);
    entry.body = body_of(std::move(request));
    std::lock_guard lock(mutex_);
    entries_.push_back(std::move(entry));
    changed_.notify_all();
    return id;
  }

  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }
  Entry at(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return entries_.at(i);
  }
  // Waits (at most 10 s) for `n` requests; true when they came.
  bool wait_for(std::size_t n) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return entries_.size() >= n; });
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<Entry> entries_;
};

}  // namespace mongoslice::testing
