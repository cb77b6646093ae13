#pragma once
// The results of Collection's update, replace and delete operations, as the CRUD spec names
// them. Plain data, read by the ops layer's reply parsers (ops/write_ops.hpp) and returned by
// the driver (driver/collection.hpp).

#include <cstdint>
#include <optional>

#include "wire/bson.hpp"

namespace mongoslice {

struct UpdateResult {
  // Documents the filter matched (the upserted one not counted).
  std::int64_t matched_count = 0;
  // Documents changed; a matched document the update left as it was is not counted.
  std::int64_t modified_count = 0;
  // The _id of the upserted document as a document {_id: <value>} (the shape insert_one returns),
  // or nothing when no document was upserted.
  std::optional<bson::Document> upserted_id;
  std::int64_t upserted_count = 0;  // 0 or 1 for update_one, update_many and replace_one
};

struct DeleteResult {
  std::int64_t deleted_count = 0;
};

}  // namespace mongoslice
