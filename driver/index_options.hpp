#pragma once
// Options of Collection's index operations and of rename, with the CRUD / index-management
// specs' fields in snake_case. Plain data: a field left empty is not sent.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "driver/write_options.hpp"  // Comment
#include "wire/bson.hpp"

namespace mongoslice {

// The options of one index (sent inside its entry of createIndexes' `indexes`), the
// index-management spec's IndexOptions.
struct IndexOptions {
  std::optional<std::string> name;  // default: made from the keys ("a_1_b_-1")
  std::optional<bool> unique;
  std::optional<bool> sparse;
  std::optional<bool> hidden;
  std::optional<bool> background;                    // ignored by servers since MongoDB 4.2
  std::optional<std::chrono::seconds> expire_after;  // expireAfterSeconds (TTL index)
  std::optional<bson::Document> partial_filter_expression;
  std::optional<bson::Document> collation;
  std::optional<bson::Document> wildcard_projection;
  std::optional<bson::Document> storage_engine;
  std::optional<std::int32_t> version;  // v
  // Text indexes.
  std::optional<bson::Document> weights;
  std::optional<std::string> default_language;
  std::optional<std::string> language_override;
  std::optional<std::int32_t> text_index_version;
  // Geospatial indexes: 2dsphereIndexVersion; bits, min and max of a 2d index.
  std::optional<std::int32_t> sphere_index_version;
  std::optional<std::int32_t> bits;
  std::optional<double> min;
  std::optional<double> max;
  // Any other index option, appended to the entry as it is (e.g. {"prepareUnique": true}).
  std::optional<bson::Document> extra;
};

// One index for Collection::create_indexes: its keys and options.
struct IndexModel {
  bson::Document keys;  // e.g. {a: 1, b: -1}
  IndexOptions options;
};

// Options of the createIndexes command (create_index and create_indexes).
struct CreateIndexesOptions {
  std::optional<std::chrono::milliseconds> max_time;
  // How many data-bearing members must build the index before the primary marks it ready: a
  // member count, or "majority", "votingMembers" or a tag set's name (MongoDB 4.4+ replica
  // sets).
  std::optional<std::variant<std::int32_t, std::string>> commit_quorum;
  std::optional<Comment> comment;
};

// Options of Collection::list_indexes.
struct ListIndexesOptions {
  std::int32_t batch_size = 0;  // >= 0; 0: the server's default
  std::optional<Comment> comment;
};

// Options of Collection::drop_index and drop_indexes.
struct DropIndexOptions {
  std::optional<std::chrono::milliseconds> max_time;
  std::optional<Comment> comment;
};

// Options of Collection::rename.
struct RenameOptions {
  std::optional<std::string> to_database;  // default: this collection's database
  bool drop_target = false;                // replace an existing collection of the new name
  std::optional<Comment> comment;
};

}  // namespace mongoslice
