#pragma once
// Collection::bulk_write's requests, options and result, and the results of insert_one and
// insert_many, as the CRUD spec names them. Plain data.

#include <cstdint>
#include <map>
#include <optional>
#include <variant>
#include <vector>

#include "driver/write_options.hpp"
#include "wire/bson.hpp"

namespace mongoslice {

struct InsertOneModel {
  bson::Document document;  // an _id is generated when it has none
};
struct UpdateOneModel {
  bson::Document filter;
  bson::Document update;  // update operators, or a pipeline (a BSON array)
  UpdateOptions options;  // upsert, array_filters, collation, hint (command-level fields ignored)
};
struct UpdateManyModel {
  bson::Document filter;
  bson::Document update;
  UpdateOptions options;
};
struct ReplaceOneModel {
  bson::Document filter;
  bson::Document replacement;
  ReplaceOptions options;
};
struct DeleteOneModel {
  bson::Document filter;
  DeleteOptions options;
};
struct DeleteManyModel {
  bson::Document filter;
  DeleteOptions options;
};
using WriteModel = std::variant<InsertOneModel, UpdateOneModel, UpdateManyModel, ReplaceOneModel,
                                DeleteOneModel, DeleteManyModel>;

struct BulkWriteOptions {
  bool ordered = true;  // stop at the first error
  std::optional<bool> bypass_document_validation;
  std::optional<bson::Document> let;
  std::optional<Comment> comment;
};

struct BulkWriteResult {
  std::int64_t inserted_count = 0;
  std::int64_t matched_count = 0;
  std::int64_t modified_count = 0;
  std::int64_t deleted_count = 0;
  std::int64_t upserted_count = 0;
  // The _id of each upserted document ({_id: value}) by the index of its request.
  std::map<std::int64_t, bson::Document> upserted_ids;
  // The _id of each inserted document ({_id: value}) by the index of its request.
  std::map<std::int64_t, bson::Document> inserted_ids;
};

struct InsertOneResult {
  bson::Document inserted_id;  // {_id: value}
};

struct InsertManyOptions {
  bool ordered = true;
  std::optional<bool> bypass_document_validation;
  std::optional<Comment> comment;
};

struct InsertManyResult {
  std::int64_t inserted_count = 0;
  // {_id: value} of each document by its index in the input.
  std::map<std::int64_t, bson::Document> inserted_ids;
};

}  // namespace mongoslice
