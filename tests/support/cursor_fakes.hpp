#pragma once
// Test doubles for the cursor layer: a fake server behind a CursorChannel, cursor replies, and a
// recording kill-cursors sender and observer. Header-only (tests and bench/cursor_destroy.cpp).

#include <cstdint>
#include <deque>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cursor/cursor_channel.hpp"
#include "cursor/kill_cursors_task.hpp"
#include "cursor/namespace.hpp"
#include "wire/address.hpp"
#include "wire/bson.hpp"

namespace mongoslice::testing {

// {cursor: {id, ns, <batch_field>: [{_id: first}, {_id: first + 1}, ...]}, ok: 1}
inline bson::Document cursor_reply(std::int64_t id, std::string_view ns,
                                   std::string_view batch_field, std::int64_t first,
                                   std::int64_t count) {
  bson::Builder builder;
  builder.open_document("cursor").append("id", id).append("ns", ns).open_array(batch_field);
  for (std::int64_t i = 0; i < count; ++i) {
    builder.open_document(std::to_string(i)).append("_id", first + i).close();
  }
  builder.close().close().append("ok", 1.0);
  return builder.build();
}

// A server holding `total` documents {_id: 0..total-1} behind one cursor. getMore returns the
// asked batch size (or `default_batch` when none is given) and closes the cursor after the last
// document. A scripted failure replaces the next getMore's reply.
class FakeServerChannel : public CursorChannel {
 public:
  struct GetMoreCall {
    Namespace ns;
    std::int64_t cursor_id;
    std::optional<std::int32_t> batch_size;
  };

  FakeServerChannel(std::int64_t cursor_id, std::string ns, std::int64_t total,
                    std::int64_t default_batch = 4)
      : cursor_id_(cursor_id), ns_(std::move(ns)), total_(total), default_batch_(default_batch) {}

  // The find reply with the first `count` documents.
  bson::Document first_reply(std::int64_t count) {
    count = std::min(count, total_);
    position_ = count;
    return cursor_reply(position_ == total_ ? 0 : cursor_id_, ns_, "firstBatch", 0, count);
  }

  bson::Document get_more(const Namespace& ns, std::int64_t cursor_id,
                          std::optional<std::int32_t> batch_size) override {
    get_more_calls.push_back({ns, cursor_id, batch_size});
    if (!failures_.empty()) {
      auto failure = std::move(failures_.front());
      failures_.pop_front();
      if (failure.exception) std::rethrow_exception(failure.exception);
      return std::move(*failure.reply);
    }
    std::int64_t n =
        std::min<std::int64_t>(batch_size.value_or(default_batch_), total_ - position_);
    std::int64_t first = position_;
    position_ += n;
    return cursor_reply(position_ == total_ ? 0 : reply_id_.value_or(cursor_id_), ns_, "nextBatch",
                        first, n);
  }

  void kill_now(const Namespace& ns, std::int64_t cursor_id) override {
    kill_calls.emplace_back(ns, cursor_id);
    if (kill_error_) std::rethrow_exception(kill_error_);
  }

  void fail_next_get_more(bson::Document reply) { failures_.push_back({std::move(reply), {}}); }
  void fail_next_get_more(std::exception_ptr error) { failures_.push_back({{}, error}); }
  void fail_kill(std::exception_ptr error) { kill_error_ = error; }
  // Later getMore replies name another cursor id (a confused or hostile server).
  void answer_with_id(std::int64_t id) { reply_id_ = id; }

  std::vector<GetMoreCall> get_more_calls;
  std::vector<std::pair<Namespace, std::int64_t>> kill_calls;

 private:
  struct Failure {
    std::optional<bson::Document> reply;
    std::exception_ptr exception;
  };
  std::int64_t cursor_id_;
  std::string ns_;
  std::int64_t total_;
  std::int64_t default_batch_;
  std::int64_t position_ = 0;
  std::optional<std::int64_t> reply_id_;
  std::deque<Failure> failures_;
  std::exception_ptr kill_error_;
};

// Records every killCursors; answers like a server (all ids killed) unless told to fail.
class RecordingSender : public KillCursorsSender {
 public:
  struct Sent {
    HostAndPort server;
    std::string db;
    bson::Document command;
  };
  bson::Document send(const HostAndPort& server, std::string_view db, bson::View command) override {
    sent.push_back({server, std::string(db), bson::Document(command)});
    if (fail_with_exception) throw std::runtime_error("connection refused by fake");
    if (fail_with_reply) return *fail_with_reply;
    bson::Builder reply;
    reply.append_array("cursorsKilled", command["cursors"].get_array())
        .open_array("cursorsNotFound")
        .close()
        .append("ok", 1.0);
    return reply.build();
  }
  std::vector<Sent> sent;
  bool fail_with_exception = false;
  std::optional<bson::Document> fail_with_reply;
};

class RecordingObserver : public KillCursorsObserver {
 public:
  struct Report {
    HostAndPort server;
    Namespace ns;
    std::vector<std::int64_t> ids;
    std::optional<KillDropReason> dropped;  // empty: sent
    std::string detail;
  };
  void on_sent(const HostAndPort& server, const Namespace& ns, std::span<const std::int64_t> ids,
               bson::View reply) noexcept override {
    reports.push_back({server, ns, {ids.begin(), ids.end()}, std::nullopt, reply.to_json()});
  }
  void on_dropped(const HostAndPort& server, const Namespace& ns, std::span<const std::int64_t> ids,
                  KillDropReason reason, std::string_view detail) noexcept override {
    reports.push_back({server, ns, {ids.begin(), ids.end()}, reason, std::string(detail)});
  }
  std::vector<Report> reports;
};

}  // namespace mongoslice::testing
