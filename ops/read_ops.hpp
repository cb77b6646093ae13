#pragma once
// The read commands aggregate, distinct and count (and countDocuments' aggregate), as BSON
// bodies for OP_MSG, and parsers for their replies. Sans-I/O, in the style of
// ops/commands.hpp: every builder adds `$db`, an option left empty is not sent (the server's
// default applies), and parsers throw ServerError for {ok: 0} (or no ok) and mongoslice::Error
// naming the field when the reply is malformed. Builders throw Error(errc::invalid_argument)
// for input refused before anything is sent.
//
// Whether each command reads or writes (for server selection): distinct, count and an
// aggregate read, and carry the read concern; an aggregate whose last stage is $out or $merge
// writes (is_write_pipeline) and carries the write concern, and its read concern only on
// MongoDB 4.2+ (the Aggregate operation below decides, by the server's wire version).
//
// The reply of an aggregate is a cursor reply (parse_cursor_reply in ops/commands.hpp).

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "ops/concerns.hpp"
#include "ops/operation.hpp"
#include "ops/write_ops.hpp"  // StringOrDocumentView
#include "wire/bson.hpp"

namespace mongoslice::wire {

// Appends `key: value` unless `value` is monostate (the builders' hint and comment).
void append_string_or_document(bson::Builder& builder, std::string_view key,
                               const StringOrDocumentView& value);

// ---- Pipelines ---------------------------------------------------------------------------------

// Throws Error(errc::invalid_argument) naming the stage when `pipeline` is not a BSON array
// (keys "0", "1", ... in order) of stage documents, each of exactly one field whose name starts
// with '$' ({$match: {...}}). An empty pipeline is allowed (it passes every document through).
void check_pipeline(bson::View pipeline);

// Whether the pipeline's last stage is $out or $merge (the aggregate then writes).
bool is_write_pipeline(bson::View pipeline) noexcept;

// The stages as one BSON array (keys "0", "1", ...). Does not check them (check_pipeline does).
bson::Document pipeline_of(std::span<const bson::Document> stages);

// ---- aggregate ---------------------------------------------------------------------------------

struct AggregateCommand {
  bson::View pipeline;  // a BSON array of stages (check_pipeline)
  std::optional<bool> allow_disk_use;
  // Inside `cursor` (which is always sent); >= 0. Not sent for a write pipeline: its cursor is
  // empty.
  std::optional<std::int32_t> batch_size;
  std::optional<bool> bypass_document_validation;
  std::optional<bson::View> collation;
  std::optional<std::int64_t> max_time_ms;  // >= 0
  StringOrDocumentView hint;
  std::optional<bson::View> let;
  StringOrDocumentView comment;
  // Sent for a read pipeline (when not the server default); for a write pipeline the Aggregate
  // operation adds it on MongoDB 4.2+, make_aggregate never does.
  ReadConcern read_concern;
  WriteConcern write_concern;  // sent for a write pipeline only (when not the server default)
};

// {aggregate: collection, pipeline, cursor: {[batchSize]}, [allowDiskUse],
//  [bypassDocumentValidation], [collation], [maxTimeMS], [hint], [let], [comment],
//  [readConcern | writeConcern], $db}. Throws Error(errc::invalid_argument) for a pipeline
// check_pipeline refuses, a negative batch_size or max_time_ms, and what
// append_write_concern throws.
bson::Document make_aggregate(std::string_view db, std::string_view collection,
                              const AggregateCommand& command);
// The database-level aggregate: {aggregate: 1, ...} (e.g. $currentOp, $documents), otherwise as
// make_aggregate.
bson::Document make_database_aggregate(std::string_view db, const AggregateCommand& command);

// The aggregate operation (ops/operation.hpp): one command, a read unless the pipeline writes
// ($out / $merge), retryable when it reads. The command is built at construction (throws what
// make_aggregate throws). A write pipeline's command carries the read concern only when the
// server is MongoDB 4.2+ (wire version 8; the read-write-concern spec: older servers refuse a
// read concern on a write). The result is the whole first reply, for the driver's Cursor.
class Aggregate {
 public:
  using Result = bson::Document;

  // `collection` nullopt: the database-level {aggregate: 1}. `db` must outlive the operation.
  Aggregate(std::string_view db, std::optional<std::string_view> collection,
            const AggregateCommand& command);

  ops::OperationKind kind() const noexcept {
    return write_ ? ops::OperationKind::kWrite : ops::OperationKind::kRead;
  }
  bool retryable() const noexcept { return !write_; }
  ops::Step start(const ops::ServerLimits& limits);
  ops::Step on_reply(bson::Document reply);
  Result result() && { return std::move(reply_); }

 private:
  std::string_view db_;
  bson::Document body_;
  bool write_;
  ReadConcern read_concern_;  // of a write pipeline, for a 4.2+ server
  bson::Document reply_;
};

// ---- distinct ----------------------------------------------------------------------------------

struct DistinctCommand {
  std::string_view key;  // the field (a dotted path allowed); not empty, no NUL
  std::optional<bson::View> query;
  std::optional<bson::View> collation;
  std::optional<std::int64_t> max_time_ms;  // >= 0
  StringOrDocumentView hint;
  StringOrDocumentView comment;
  ReadConcern read_concern;
};
// {distinct: collection, key, [query], [collation], [maxTimeMS], [hint], [comment],
//  [readConcern], $db}. Throws Error(errc::invalid_argument) for an empty key, a key holding a
// NUL, or a negative max_time_ms.
bson::Document make_distinct(std::string_view db, std::string_view collection,
                             const DistinctCommand& command);

// The values of a distinct reply ({values: [...], ok: 1}): a copy of the array, a document with
// keys "0", "1", .... Throws ServerError for {ok: 0}; Error(errc::bson_key_missing) without
// values, Error(errc::bson_type_mismatch) when it is not an array.
bson::Document parse_distinct_reply(bson::View reply);

// ---- count -------------------------------------------------------------------------------------

// The count command (estimated_document_count sends it without query, skip and limit).
struct CountCommand {
  std::optional<bson::View> query;
  std::optional<std::int64_t> skip;   // >= 0
  std::optional<std::int64_t> limit;  // >= 0
  std::optional<bson::View> collation;
  std::optional<std::int64_t> max_time_ms;  // >= 0
  StringOrDocumentView hint;
  StringOrDocumentView comment;
  ReadConcern read_concern;
};
// {count: collection, [query], [skip], [limit], [collation], [maxTimeMS], [hint], [comment],
//  [readConcern], $db}; reply {n, ok}, read with parse_count_reply. Throws
// Error(errc::invalid_argument) for a negative skip, limit or max_time_ms.
bson::Document make_count(std::string_view db, std::string_view collection,
                          const CountCommand& command = {});

// {n, ok: 1} of the count command. Throws ServerError for {ok: 0}; Error(errc::bson_key_missing)
// without n, Error(errc::bson_type_mismatch) when n is not a number.
std::int64_t parse_count_reply(bson::View reply);

// countDocuments as the CRUD spec builds it.
struct CountAggregateCommand {
  bson::View filter;
  std::optional<std::int64_t> skip;   // >= 0; 0 is not sent
  std::optional<std::int64_t> limit;  // >= 0; 0 (no limit) is not sent
  std::optional<bson::View> collation;
  std::optional<std::int64_t> max_time_ms;  // >= 0
  StringOrDocumentView hint;
  StringOrDocumentView comment;
  ReadConcern read_concern;
};
// {aggregate: collection, pipeline: [{$match: filter}, [{$skip}], [{$limit}],
//  {$group: {_id: 1, n: {$sum: 1}}}], cursor: {}, [collation], [maxTimeMS], [hint], [comment],
//  [readConcern], $db}; read with parse_count_aggregate_reply. Throws
// Error(errc::invalid_argument) for a negative skip, limit or max_time_ms.
bson::Document make_count_aggregate(std::string_view db, std::string_view collection,
                                    const CountAggregateCommand& command);

// The reply of make_count_aggregate: firstBatch [{_id: 1, n}], or [] when nothing matched (0).
// Throws what parse_cursor_reply throws; Error(errc::bson_key_missing) when the group has no n,
// Error(errc::bson_type_mismatch) when n is not a number.
std::int64_t parse_count_aggregate_reply(bson::View reply);

}  // namespace mongoslice::wire
