#pragma once
// Options of Collection's update, replace and delete operations, named after the operation with
// the CRUD spec's fields in snake_case, and their results (UpdateResult, DeleteResult). Plain
// data: set what you need; a field left empty is not sent, so the server's default applies.
//
//   coll.update_one(filter, update, {.upsert = true, .comment = "nightly"});

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ops/write_results.hpp"  // IWYU pragma: export (UpdateResult, DeleteResult)
#include "wire/bson.hpp"

namespace mongoslice {

// An index to use: its name ("x_1") or its key pattern ({x: 1}).
using Hint = std::variant<std::string, bson::Document>;
// A comment for the server's logs and profiler. The CRUD spec allows any BSON value; mongoslice
// takes a string or a document.
using Comment = std::variant<std::string, bson::Document>;

struct UpdateOptions {
  bool upsert = false;  // insert a document built from filter and update when none matches
  // Which array elements the update's $[<identifier>] operators change.
  std::vector<bson::Document> array_filters;
  std::optional<bson::Document> collation;
  std::optional<Hint> hint;
  std::optional<bool> bypass_document_validation;
  std::optional<bson::Document> let;  // variables the update's expressions can use ($$name)
  std::optional<Comment> comment;
};

// Options of Collection::replace_one.
struct ReplaceOptions {
  bool upsert = false;  // insert the replacement when no document matches
  std::optional<bson::Document> collation;
  std::optional<Hint> hint;
  std::optional<bool> bypass_document_validation;
  std::optional<bson::Document> let;
  std::optional<Comment> comment;
};

// Options of Collection::delete_one and delete_many.
struct DeleteOptions {
  std::optional<bson::Document> collation;
  std::optional<Hint> hint;
  std::optional<bson::Document> let;
  std::optional<Comment> comment;
};

}  // namespace mongoslice
