#pragma once
// Options of Collection::find, as the find command takes them. Plain data: set what you need.
//
//   coll.find(filter, {.projection = bson::Document::from_json(R"({"x": 1})"), .limit = 10});

#include <cstdint>
#include <optional>

#include "wire/bson.hpp"

namespace mongoslice {

struct FindOptions {
  std::optional<bson::Document> projection;  // which fields to return
  std::optional<bson::Document> sort;        // e.g. {x: 1, _id: -1}
  std::int64_t skip = 0;                     // >= 0
  // 0: no limit; > 0: at most this many documents in total; < 0: a single batch of at most
  // -limit documents (the server cursor is closed after it).
  std::int64_t limit = 0;
  std::int32_t batch_size = 0;  // >= 0; 0: the server's default (101 first, then 16 MiB)
};

}  // namespace mongoslice
