#pragma once
// What a Cursor needs from the driver, and nothing more: the cursor layer knows no client,
// connection, socket or topology. The driver implements this for one server (it holds the
// server's address and its connection pool) and hands it to the Cursor as a shared_ptr.

#include <cstdint>
#include <optional>

#include "cursor/namespace.hpp"
#include "wire/bson.hpp"

namespace mongoslice {

class CursorChannel {
 public:
  virtual ~CursorChannel() = default;

  // Runs {getMore: cursor_id, collection: ns.collection, batchSize: n (when given), $db: ns.db}
  // on the server that owns the cursor and returns the reply. Throws mongoslice::Error on
  // network failures; may either throw ServerError or return the {ok: 0} reply (the cursor
  // checks).
  virtual bson::Document get_more(const Namespace& ns, std::int64_t cursor_id,
                                  std::optional<std::int32_t> batch_size) = 0;

  // Runs killCursors for this one cursor now, waiting for the reply (Cursor::close()). Throws
  // on failure.
  virtual void kill_now(const Namespace& ns, std::int64_t cursor_id) = 0;
};

}  // namespace mongoslice
