#pragma once
// The results of Collection's write operations (insert, update, replace, delete, bulk_write), as
// the CRUD spec names them, and the write errors the server reports. Plain data, built by the ops
// layer's reply parsers and operations (ops/write_ops.hpp, ops/bulk_write_op.hpp) and returned
// by the driver (driver/collection.hpp).

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "wire/bson.hpp"

namespace mongoslice {

// What update_one, update_many and replace_one did.
struct UpdateResult {
  // Documents the filter matched (the upserted one not counted).
  std::int64_t matched_count = 0;
  // Documents changed; a matched document the update left as it was is not counted.
  std::int64_t modified_count = 0;
  // The _id of the upserted document as a document {_id: <value>} (the shape insert_one returns),
  // or nothing when no document was upserted.
  std::optional<bson::Document> upserted_id;
  std::int64_t upserted_count = 0;  // 0 or 1 for update_one, update_many and replace_one
  // False for an unacknowledged write concern (w: 0): the counts above are then unknown (0).
  bool acknowledged = true;
};

// What delete_one and delete_many did.
struct DeleteResult {
  std::int64_t deleted_count = 0;
  bool acknowledged = true;  // false for w: 0; deleted_count is then unknown (0)
};

// What a bulk write (or insert_many, or one update / delete) did, summed over its commands.
struct BulkWriteResult {
  std::int64_t inserted_count = 0;
  std::int64_t matched_count = 0;  // upserted documents not counted
  std::int64_t modified_count = 0;
  std::int64_t deleted_count = 0;
  std::int64_t upserted_count = 0;
  // The _id of each upserted document ({_id: value}) by the index of its request in the
  // caller's list.
  std::map<std::int64_t, bson::Document> upserted_ids;
  // The _id of each document the server reported inserted ({_id: value}) by the index of its
  // request; a document that failed (or that an ordered write never reached) is not in it.
  std::map<std::int64_t, bson::Document> inserted_ids;
  // False for an unacknowledged write concern (w: 0): the server's counts are not read, so every
  // count and map above is empty; the writes were still sent and the commands' replies waited for.
  bool acknowledged = true;
};

// One write error (writeErrors) or write-concern error (writeConcernError) of a write.
struct WriteErrorDetail {
  // The position of the failing request in the caller's input (not in one of the driver's
  // batches). For a write-concern error: 0.
  std::int64_t index = 0;
  std::int32_t code = 0;  // the server's error code, e.g. 11000 (duplicate key)
  std::string errmsg;
};

}  // namespace mongoslice
