#pragma once
// Collection::bulk_write's requests and options, and the results of insert_one and insert_many,
// as the CRUD spec names them. Plain data. BulkWriteResult is in ops/write_results.hpp (the
// operation that runs a bulk write builds it), included here.

#include <cstdint>
#include <map>
#include <optional>
#include <variant>
#include <vector>

#include "driver/write_options.hpp"
#include "ops/write_results.hpp"  // IWYU pragma: export (BulkWriteResult)
#include "wire/bson.hpp"

namespace mongoslice {

// bulk_write requests, one struct per kind (the CRUD spec's write models).
// Inserts `document`.
struct InsertOneModel {
  bson::Document document;  // an _id is generated when it has none
};
// Updates the first document `filter` matches.
struct UpdateOneModel {
  bson::Document filter;
  bson::Document update;  // update operators, or a pipeline (a BSON array)
  UpdateOptions options;  // upsert, array_filters, collation, hint (command-level fields ignored)
};
// Updates every document `filter` matches (update operators, or a pipeline).
struct UpdateManyModel {
  bson::Document filter;
  bson::Document update;
  UpdateOptions options;
};
// Replaces the first document `filter` matches; `replacement` holds no update operators.
struct ReplaceOneModel {
  bson::Document filter;
  bson::Document replacement;
  ReplaceOptions options;
};
// Deletes the first document `filter` matches.
struct DeleteOneModel {
  bson::Document filter;
  DeleteOptions options;
};
// Deletes every document `filter` matches.
struct DeleteManyModel {
  bson::Document filter;
  DeleteOptions options;
};
using WriteModel = std::variant<InsertOneModel, UpdateOneModel, UpdateManyModel, ReplaceOneModel,
                                DeleteOneModel, DeleteManyModel>;

// Options of Collection::bulk_write.
struct BulkWriteOptions {
  bool ordered = true;  // stop at the first error
  std::optional<bool> bypass_document_validation;
  std::optional<bson::Document> let;
  std::optional<Comment> comment;
};

// What Collection::insert_one did.
struct InsertOneResult {
  bson::Document inserted_id;  // {_id: value}: the document's own, or the one generated for it
  bool acknowledged = true;    // false for an unacknowledged write concern (w: 0)
};

// Options of Collection::insert_one.
struct InsertOneOptions {
  std::optional<bool> bypass_document_validation;
  std::optional<Comment> comment;
};

// Options of Collection::insert_many.
struct InsertManyOptions {
  bool ordered = true;
  std::optional<bool> bypass_document_validation;
  std::optional<Comment> comment;
};

// What Collection::insert_many did.
struct InsertManyResult {
  std::int64_t inserted_count = 0;  // the server's count (0 when unacknowledged)
  // {_id: value} of each document by its index in the input (every one: all were inserted).
  std::map<std::int64_t, bson::Document> inserted_ids;
  bool acknowledged = true;  // false for an unacknowledged write concern (w: 0)
};

}  // namespace mongoslice
