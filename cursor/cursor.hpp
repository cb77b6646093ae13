#pragma once
// A cursor over the results of find or aggregate: an input range of document views.
//
//   for (bson::View doc : cursor) { ... }
//
// It starts from the command's first reply and runs getMore through a CursorChannel whenever
// the current batch is used up. Options follow the find/getMore/killCursors specification:
//   - batch_size > 0 is sent as getMore's batchSize; 0 means the server's default.
//   - max_time_ms and comment, when given, are sent on every getMore (CursorChannel::get_more
//     with GetMoreFields; a channel sends the comment only to a server that takes it).
//   - limit > 0 caps how many documents are returned in total; getMore never asks for more than
//     the remaining limit, and once the limit is reached a still-open server cursor is killed.
//   - limit < 0 means one batch of at most -limit documents (the find command was sent with
//     singleBatch: true); a server cursor left open anyway is killed.
//
// Lifetime of views: a view points into the reply that holds the current batch, which the
// cursor owns. It stays valid until the next getMore (the increment that runs past the end of
// the batch) or the cursor's destruction, whichever comes first. Moving the cursor keeps it
// valid (the reply's buffer moves with it); iterators do not survive a move of their cursor.
//
// Killing: when the cursor becomes live (a reply with a non-zero id) it allocates its
// KillRecord. close() kills the server cursor at once through the channel. The destructor of a
// live cursor only pushes the record onto the client's KillQueue: it never blocks, takes a lock,
// allocates or does I/O (DESIGN.md, invariant 1). It frees nothing either, whatever the length
// of the namespace and host names: the batch buffer and the name strings move into the record
// and are freed by whoever drains it. It releases its references to the channel and the queue
// (shared with other cursors and the client, so normally not the last); should one be the
// last, their destructors must not block either. One exception, once the client is closed and
// its final kill run is over: a push then reaches nobody, so the destructor logs a warning
// (component "cursor") with the id, namespace and server, which allocates.
//
// A Cursor is move-only and not thread-safe (one thread iterates it at a time).

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>

#include "cursor/async_completion.hpp"
#include "cursor/cursor_channel.hpp"
#include "cursor/cursor_session.hpp"
#include "cursor/kill_queue.hpp"
#include "cursor/namespace.hpp"
#include "wire/address.hpp"
#include "wire/bson.hpp"

namespace mongoslice {

struct CursorOptions {
  std::int32_t batch_size = 0;  // >= 0; 0: server default
  std::int64_t limit = 0;       // 0: none; > 0: at most this many; < 0: one batch of -limit
  // getMore's maxTimeMS (>= 0), sent on every getMore when given.
  std::optional<std::int64_t> max_time_ms;
  // getMore's comment: the first element's value of this document (any BSON value), sent on
  // every getMore when given, by the channel only to servers that take it (MongoDB 4.4+).
  std::optional<bson::Document> comment;
  // Set by the driver for the cursors of async_ operations: they iterate only with async_next
  // (begin() throws Error(errc::invalid_argument)).
  bool async_only = false;
};

class Cursor {
 public:
  class iterator {
   public:
    using iterator_concept = std::input_iterator_tag;
    using iterator_category = std::input_iterator_tag;
    using value_type = bson::View;
    using difference_type = std::ptrdiff_t;
    using reference = bson::View;

    iterator() noexcept = default;
    bson::View operator*() const noexcept { return cursor_->current_; }
    // Moves to the next document, running getMore when the batch is used up. Errors (server
    // errors as ServerError, network errors, malformed replies) are thrown from here.
    iterator& operator++() {
      cursor_->advance();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
      return it.at_end();
    }

   private:
    friend class Cursor;
    explicit iterator(Cursor* cursor) noexcept : cursor_(cursor) {}
    bool at_end() const noexcept { return cursor_ == nullptr || !cursor_->has_current_; }
    Cursor* cursor_ = nullptr;
  };

  // An empty, exhausted cursor.
  Cursor();
  // From the find/aggregate reply {cursor: {id, ns, firstBatch}, ok: 1}. Throws ServerError for
  // an {ok: 0} reply, Error(errc::cursor_error) for a malformed one, and
  // Error(errc::invalid_argument) for bad options (a negative batch_size or max_time_ms, an
  // empty comment document) or a live cursor without channel or queue. `session`: the session
  // the command that made the cursor ran in; a live cursor keeps it for its getMores, any other
  // releases it at once.
  Cursor(bson::Document first_reply, CursorOptions options, std::shared_ptr<CursorChannel> channel,
         std::shared_ptr<KillQueue> kill_queue, HostAndPort server,
         CursorSessionPtr session = nullptr);
  Cursor(Cursor&& other) noexcept;
  Cursor& operator=(Cursor&& other) noexcept;
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  ~Cursor();

  // The first call positions on the first document (it may run getMore and so may throw);
  // later calls continue where iteration stopped (an input range).
  iterator begin();
  std::default_sentinel_t end() const noexcept { return {}; }

  // The server cursor's id; 0 once the server cursor is exhausted, killed or handed to the
  // kill queue.
  std::int64_t id() const noexcept { return id_; }
  const Namespace& ns() const noexcept { return ns_; }
  const HostAndPort& server() const noexcept { return server_; }
  // How many documents iteration has produced.
  std::int64_t returned() const noexcept { return returned_; }
  // Whether the cursor iterates only with async_next (a cursor of an async_ operation).
  bool async_only() const noexcept { return async_only_; }

  // The next document, or nothing at the end (getMore runs when the batch is used up), as an
  // alternative to range iteration: each call moves on. Throws as iteration does. The view is
  // valid until the next call.
  std::optional<bson::View> next();

  // The next document, or nothing at the end, running getMore asynchronously when the batch is
  // used up (see cursor/async_completion.hpp for tokens, errors and cancellation): completes
  // with void(error_code, std::optional<bson::View>). The view is valid until the next call.
  // The cursor must outlive the operation, and one operation at a time runs on it. Works on
  // every cursor; a cursor of an async_ operation iterates only this way.
  template <typename Token>
  auto async_next(Token&& token) {
    return complete_async<std::optional<bson::View>>(std::nullopt, co_next(),
                                                     std::forward<Token>(token));
  }
  boost::asio::awaitable<std::optional<bson::View>> co_next();

  // Kills the server cursor now (synchronously, through the channel) if it is still open, and
  // ends iteration. The kill record is consumed, so the destructor pushes nothing. If the
  // killCursors fails, the error propagates; the cursor is closed all the same.
  void close();

 private:
  // One step of iteration without I/O: a document is current, the end is reached, or a getMore
  // is needed (both engines then fetch and step again).
  enum class Step { kHave, kEnd, kNeedMore };
  Step step();
  void advance();
  void fetch_more();
  GetMoreFields get_more_fields() const;
  void accept_get_more(bson::Document reply);
  void check_sync() const;
  void load_batch(const bson::Document& reply, std::string_view batch_field, bool first);
  void give_up_after_error(const std::exception* error) noexcept;
  void kill_later() noexcept;  // hands the live server cursor to the kill queue
  // A kill pushed after the client's final kill run: nobody else will report it.
  static void report_orphaned(const KillRecord& record, std::uint64_t count) noexcept;
  bool limit_reached() const noexcept { return limit_ > 0 && returned_ >= limit_; }

  bson::Document reply_;  // owns the current batch: every view handed out points into it
  bson::View::iterator batch_next_;
  bson::View current_;
  bool has_current_ = false;
  bool started_ = false;

  std::int64_t id_ = 0;
  Namespace ns_;
  HostAndPort server_;
  std::int32_t batch_size_ = 0;
  std::optional<std::int64_t> max_time_ms_;
  // A live cursor's destructor moves it into the kill record with the batch (invariant 1).
  std::optional<bson::Document> comment_;
  std::int64_t limit_ = 0;  // absolute value of the option
  bool single_batch_ = false;
  bool async_only_ = false;
  std::int64_t returned_ = 0;

  std::shared_ptr<CursorChannel> channel_;
  std::shared_ptr<KillQueue> kill_queue_;
  std::unique_ptr<KillRecord> kill_record_;  // non-null exactly while we must kill id_
  // The session the cursor's command ran in, while the server cursor lives; its getMores carry
  // its lsid. Given back (destroyed) once the cursor is exhausted, closed or destroyed.
  CursorSessionPtr session_;
};

}  // namespace mongoslice
