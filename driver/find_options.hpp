#pragma once
// Options of Collection::find, as the find command takes them (the CRUD spec's find options in
// snake_case). Plain data: set what you need; a field left empty is not sent, so the server's
// default applies.
//
//   coll.find(filter, {.projection = bson::Document::from_json(R"({"x": 1})"), .limit = 10});

#include <chrono>
#include <cstdint>
#include <optional>

#include "driver/write_options.hpp"  // Hint, Comment
#include "wire/bson.hpp"

namespace mongoslice {

// Options of Collection::find and find_one, as the CRUD spec lists them.
struct FindOptions {
  std::optional<bson::Document> projection;  // which fields to return
  std::optional<bson::Document> sort;        // e.g. {x: 1, _id: -1}
  std::int64_t skip = 0;                     // >= 0
  // 0: no limit; > 0: at most this many documents in total; < 0: a single batch of at most
  // -limit documents (the server cursor is closed after it). INT64_MIN is refused.
  std::int64_t limit = 0;
  std::int32_t batch_size = 0;  // >= 0; 0: the server's default (101 first, then 16 MiB)
  std::optional<Hint> hint;     // the index to use
  std::optional<Comment> comment;
  std::optional<std::chrono::milliseconds> max_time;  // maxTimeMS of the find command; >= 0
  std::optional<bson::Document> collation;
  std::optional<bool> allow_disk_use;  // let a blocking sort spill to disk (MongoDB 4.4+)
  std::optional<bson::Document> let;   // variables the filter's $expr can use ($$name)
  // Index bounds (with hint): min inclusive, max exclusive.
  std::optional<bson::Document> min;
  std::optional<bson::Document> max;
  std::optional<bool> return_key;      // return only the index keys
  std::optional<bool> show_record_id;  // add $recordId to each document
  // Keep an idle server cursor open past the server's timeout (10 minutes by default).
  std::optional<bool> no_cursor_timeout;
  // From a sharded cluster: partial results when some shards are unavailable, not an error.
  std::optional<bool> allow_partial_results;
};

}  // namespace mongoslice
