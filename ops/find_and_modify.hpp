#pragma once
// The findAndModify command (find_one_and_update / find_one_and_replace / find_one_and_delete):
// what it sends and how its reply is read. Sans-I/O, in the style of ops/commands.hpp: the
// builder adds `$db`, an option left empty is not sent, and the parser throws ServerError for
// {ok: 0} and mongoslice::Error naming the field when the reply is malformed.
//
// findAndModify is a write: it goes to a writable server and carries the write concern.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ops/commands.hpp"  // WriteConcernError
#include "ops/concerns.hpp"
#include "ops/operation.hpp"
#include "ops/write_ops.hpp"  // StringOrDocumentView, check_update
#include "wire/bson.hpp"

namespace mongoslice::wire {

// What the command does to the document it finds.
enum class FindAndModifyKind {
  kUpdate,   // update: a document of update operators, or a pipeline (a BSON array of stages)
  kReplace,  // update: a replacement document (no top-level '$' key)
  kDelete,   // remove: true
};

struct FindAndModifyCommand {
  FindAndModifyKind kind = FindAndModifyKind::kDelete;
  bson::View query;
  bson::View update;                 // kUpdate / kReplace only
  bool return_new = false;           // new: true (the document after the change); not with kDelete
  std::optional<bson::View> fields;  // the projection of the returned document
  std::optional<bson::View> sort;    // which document, when several match
  bool upsert = false;               // sent only when true; not with kDelete
  std::span<const bson::View> array_filters;       // kUpdate only; sent when not empty
  std::optional<bool> bypass_document_validation;  // not with kDelete
  std::optional<bson::View> collation;
  StringOrDocumentView hint;
  std::optional<bson::View> let;
  StringOrDocumentView comment;
  std::optional<std::int64_t> max_time_ms;  // >= 0
  WriteConcern write_concern;
};

// {findAndModify: collection, query, update | remove: true, [new: true], [fields], [sort],
//  [upsert: true], [arrayFilters], [bypassDocumentValidation], [collation], [hint], [let],
//  [comment], [maxTimeMS], [writeConcern], $db}; update is a BSON array for a pipeline.
// Throws Error(errc::invalid_argument) before building anything when the update is not of its
// kind's shape (check_update: an update without operators, a replacement with them, an empty
// pipeline stage), when kDelete is given new, upsert, array filters or
// bypassDocumentValidation, when kReplace is given array filters, for a negative max_time_ms,
// and what append_write_concern throws. (A hint with an unacknowledged write concern is the
// operation's to refuse, by the server's version: FindAndModify below.)
bson::Document make_find_and_modify(std::string_view db, std::string_view collection,
                                    const FindAndModifyCommand& command);

// The reply {value: document | null, lastErrorObject: {...}, [writeConcernError], ok: 1}.
struct FindAndModifyReply {
  std::optional<bson::Document> value;  // nullopt: null (nothing matched, nothing upserted)
  std::optional<WriteConcernError> write_concern_error;  // returned as data
};
// Throws ServerError for {ok: 0}; Error(errc::bson_key_missing) without value,
// Error(errc::bson_type_mismatch) when value is neither a document nor null, lastErrorObject
// is not a document, or writeConcernError is not a document with an integer code.
FindAndModifyReply parse_find_and_modify_reply(bson::View reply);

// The findAndModify operation (ops/operation.hpp): one command, a retryable write. Built from
// the command (make_find_and_modify, which throws what it throws at construction); start()
// throws Error(errc::invalid_argument), before anything is sent, for a hint on a server older
// than MongoDB 4.2 (wire version 8), which would ignore it, and for a hint with an
// unacknowledged write concern (w: 0) on a server older than MongoDB 4.4 (wire version 9), as
// the CRUD spec has drivers refuse them. The result is the parsed reply
// (parse_find_and_modify_reply, which throws what it throws); with an unacknowledged write
// concern its value is always nullopt (an unacknowledged write reports no result).
class FindAndModify {
 public:
  using Result = FindAndModifyReply;
  static constexpr std::int32_t kHintMinWireVersion = 8;                // MongoDB 4.2
  static constexpr std::int32_t kUnacknowledgedHintMinWireVersion = 9;  // MongoDB 4.4

  // `db` must outlive the operation.
  FindAndModify(std::string_view db, std::string_view collection,
                const FindAndModifyCommand& command);

  ops::OperationKind kind() const noexcept { return ops::OperationKind::kWrite; }
  bool retryable() const noexcept { return true; }
  ops::Step start(const ops::ServerLimits& limits);
  ops::Step on_reply(bson::Document reply);
  Result result() && { return std::move(result_); }

 private:
  std::string_view db_;
  bson::Document body_;
  bool has_hint_;
  bool acknowledged_;
  Result result_;
};

}  // namespace mongoslice::wire
