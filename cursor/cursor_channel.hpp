#pragma once
// What a Cursor needs from the driver, and nothing more: the cursor layer knows no client,
// connection, socket or topology. The driver implements this for one server (it holds the
// server's address and its connection pool) and hands it to the Cursor as a shared_ptr.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>

#include "cursor/namespace.hpp"
#include "wire/bson.hpp"

namespace mongoslice {

// The optional fields of one getMore. The comment and lsid views point into the cursor, valid
// for the call only.
struct GetMoreFields {
  std::optional<std::int32_t> batch_size;
  std::optional<std::int64_t> max_time_ms;
  std::optional<bson::Element> comment;
  std::optional<bson::View> lsid;  // the cursor's session (cursor/cursor_session.hpp)
};

class CursorChannel {
 public:
  virtual ~CursorChannel() = default;

  // Runs {getMore: cursor_id, collection: ns.collection, batchSize: n (when given), $db: ns.db}
  // on the server that owns the cursor and returns the reply. Throws mongoslice::Error on
  // network failures; may either throw ServerError or return the {ok: 0} reply (the cursor
  // checks).
  virtual bson::Document get_more(const Namespace& ns, std::int64_t cursor_id,
                                  std::optional<std::int32_t> batch_size) = 0;

  // The same with getMore's other optional fields. What the Cursor calls. The default sends
  // only the batch size (through get_more above): a channel that does not override it (test
  // fakes) drops maxTimeMS and comment. The driver's channel sends them all (the comment only
  // to a server that takes it, MongoDB 4.4+).
  virtual bson::Document get_more_with(const Namespace& ns, std::int64_t cursor_id,
                                       const GetMoreFields& fields) {
    return get_more(ns, cursor_id, fields.batch_size);
  }

  // getMore on the async engine (Cursor::async_next), on the awaiting coroutine's executor.
  // The default refuses: a channel without an async engine (test fakes) cannot serve it.
  virtual boost::asio::awaitable<bson::Document> co_get_more(const Namespace& ns,
                                                             std::int64_t cursor_id,
                                                             GetMoreFields fields);

  // Runs killCursors for this one cursor now, waiting for the reply (Cursor::close()). Throws
  // on failure.
  virtual void kill_now(const Namespace& ns, std::int64_t cursor_id) = 0;
};

}  // namespace mongoslice
