#pragma once
// The insert, update and delete commands: what they send and how their replies are read.
// Sans-I/O. (ops/bulk_write_op.hpp runs them as one operation, batched by the server's limits.)
//
// The command body carries the command-level options; the statements travel beside it in an
// OP_MSG document sequence (kind-1 section) named kUpdateStatements / kDeleteStatements:
//   bson::Document statement = make_update_statement(s, UpdateKind::kUpdate);
//   bson::View view = statement.view();
//   DocumentSequence seq{kUpdateStatements, {&view, 1}};
//   encode_op_msg(id, make_update(db, coll, options), 0, {&seq, 1});
//
// A field left empty is not sent, so the server's default applies.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "ops/commands.hpp"
#include "ops/concerns.hpp"
#include "ops/write_results.hpp"
#include "wire/bson.hpp"

namespace mongoslice::wire {

inline constexpr std::string_view kUpdateStatements = "updates";
inline constexpr std::string_view kDeleteStatements = "deletes";

// An option the server takes as a string or a document (hint: an index name or its key pattern;
// comment: here a string or a document). monostate: not sent.
using StringOrDocumentView = std::variant<std::monostate, std::string_view, bson::View>;

// Options of the whole insert, update or delete command.
struct WriteCommandOptions {
  bool ordered = true;            // always sent
  std::optional<bson::View> let;  // variables for the statements' expressions; not for insert
  StringOrDocumentView comment;   // shown in the server's logs and profiler
  std::optional<bool> bypass_document_validation;  // insert and update; ignored by make_delete
  WriteConcern
      write_concern;  // sent unless it is the server's default (wire::append_write_concern)
};

// {insert: collection, ordered, [comment], [bypassDocumentValidation], [writeConcern], $db}; the
// documents travel in the kInsertDocuments sequence. Throws what append_write_concern throws.
bson::Document make_insert_command(std::string_view db, std::string_view collection,
                                   const WriteCommandOptions& options = {});

// {update: collection, ordered, [let], [comment], [bypassDocumentValidation], [writeConcern],
// $db}. Throws what append_write_concern throws.
bson::Document make_update(std::string_view db, std::string_view collection,
                           const WriteCommandOptions& options = {});
// {delete: collection, ordered, [let], [comment], [writeConcern], $db}
bson::Document make_delete(std::string_view db, std::string_view collection,
                           const WriteCommandOptions& options = {});

// Which update statement: update_one / update_many take an update (a document of update
// operators, or a pipeline), replace_one a replacement document.
enum class UpdateKind { kUpdate, kReplacement };

struct UpdateStatement {
  bson::View filter;
  // kUpdate: a document whose first key starts with '$', or a pipeline: a BSON array of
  // non-empty stage documents (keys "0", "1", ..., as Document::from_json("[...]") makes one).
  // kReplacement: a document with no top-level key starting with '$'.
  bson::View update;
  bool upsert = false;                        // sent only when true
  bool multi = false;                         // sent only when true; never with a replacement
  std::span<const bson::View> array_filters;  // sent when not empty
  std::optional<bson::View> collation;
  StringOrDocumentView hint;
};

// Throws Error(errc::invalid_argument) naming the problem when `update` is not of `kind`'s
// shape (above). Returns whether it is a pipeline.
bool check_update(bson::View update, UpdateKind kind);

// {q, u, [upsert: true], [multi: true], [arrayFilters], [collation], [hint]}; u is a BSON array
// for a pipeline. Checks the update first (check_update) and throws what it throws; a
// replacement with multi is errc::invalid_argument too.
bson::Document make_update_statement(const UpdateStatement& statement, UpdateKind kind);

struct DeleteStatement {
  bson::View filter;
  bool just_one = false;  // limit: 1 (delete_one) or 0 (every match)
  std::optional<bson::View> collation;
  StringOrDocumentView hint;
};
// {q, limit: 1 | 0, [collation], [hint]}
bson::Document make_delete_statement(const DeleteStatement& statement);

// The reply of update: {n, nModified, [upserted: [{index, _id}, ...]], [writeErrors],
// [writeConcernError], ok: 1}. The write errors come with ok: 1 and are returned as data (the
// driver turns them into its BulkWriteError). upserted_id is the first upserted document's;
// `upserted` has each one with its index among the command's statements.
struct Upserted {
  std::int32_t index = 0;  // in the command's statements
  bson::Document id;       // {_id: value}
};
struct UpdateReply {
  UpdateResult result;
  std::vector<Upserted> upserted;
  std::vector<WriteError> write_errors;
  std::optional<WriteConcernError> write_concern_error;
};
// Throws ServerError for {ok: 0}; Error(errc::bson_type_mismatch / bson_key_missing) naming the
// field when n or nModified is missing (allowed beside writeErrors: read as 0) or not an integer,
// upserted is not an array of {index: int, _id} documents, or n is less than the number upserted.
UpdateReply parse_update_reply(bson::View reply);

// The reply of delete: {n, [writeErrors], [writeConcernError], ok: 1}.
struct DeleteReply {
  DeleteResult result;
  std::vector<WriteError> write_errors;
  std::optional<WriteConcernError> write_concern_error;
};
// Throws as parse_write_reply does (ops/commands.hpp).
DeleteReply parse_delete_reply(bson::View reply);

}  // namespace mongoslice::wire
