#pragma once
// The index-management commands of a collection (createIndexes, listIndexes, dropIndexes) and
// renameCollection, as BSON bodies for OP_MSG, with parsers for their replies. Sans-I/O, in the
// style of ops/commands.hpp: every builder adds `$db`, an option left empty is not sent (the
// server's default applies), and parsers throw ServerError for {ok: 0} (or no ok) and
// mongoslice::Error naming the field when the reply is malformed.
//
// Whether each command reads or writes (for server selection): listIndexes reads (primary, as
// the server-selection spec's generic command rule has it); createIndexes, dropIndexes and
// renameCollection write and carry the write concern given to their builder. None is retried.
//
// Bad input (empty key patterns, an empty index name, dropping "*" by name, empty namespaces)
// throws Error(errc::invalid_argument) from the builder, before anything is sent.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "ops/concerns.hpp"
#include "ops/operation.hpp"
#include "ops/write_ops.hpp"  // StringOrDocumentView
#include "wire/bson.hpp"

namespace mongoslice::wire {

// ---- index names -------------------------------------------------------------------------------

// The name servers and drivers give an index with this key pattern when none is given: each
// key and its value joined with '_' ({a: 1, b: -1} -> "a_1_b_-1", {t: "text"} -> "t_text",
// {"a.b": 1} -> "a.b_1"). An int32 or int64 value is written in decimal, a double holding a
// whole number as that number (1.0 -> "1"), another double in its shortest round-trip form
// (0.5 -> "0.5"), a string as it is. Throws Error(errc::invalid_argument) for an empty pattern
// or a value of another type (the index then needs an explicit name).
std::string make_index_name(bson::View keys);

// ---- createIndexes -----------------------------------------------------------------------------

// The options of one index, sent in its entry of `indexes` (the index-management spec's
// IndexOptions). Views must outlive the make_index_entry call only.
struct IndexEntryOptions {
  std::optional<std::string_view> name;  // default: make_index_name(keys)
  std::optional<bool> unique;
  std::optional<bool> sparse;
  std::optional<bool> hidden;
  std::optional<bool> background;
  std::optional<std::int64_t> expire_after_seconds;  // sent as int32 when it fits
  std::optional<bson::View> partial_filter_expression;
  std::optional<bson::View> collation;
  std::optional<bson::View> wildcard_projection;
  std::optional<bson::View> storage_engine;
  std::optional<std::int32_t> version;  // v
  // Text indexes.
  std::optional<bson::View> weights;
  std::optional<std::string_view> default_language;
  std::optional<std::string_view> language_override;
  std::optional<std::int32_t> text_index_version;  // textIndexVersion
  // Geospatial indexes.
  std::optional<std::int32_t> sphere_index_version;  // 2dsphereIndexVersion
  std::optional<std::int32_t> bits;                  // 2d
  std::optional<double> min;                         // 2d
  std::optional<double> max;                         // 2d
  // Any other option, appended to the entry as it is (after the fields above).
  std::optional<bson::View> extra;
};

// {key, name, [unique], [sparse], [hidden], [background], [expireAfterSeconds],
//  [partialFilterExpression], [collation], [wildcardProjection], [storageEngine], [v],
//  [weights], [default_language], [language_override], [textIndexVersion],
//  [2dsphereIndexVersion], [bits], [min], [max], ...extra}. Throws
// Error(errc::invalid_argument) for empty keys, an empty name, or no name and keys
// make_index_name cannot name.
bson::Document make_index_entry(bson::View keys, const IndexEntryOptions& options = {});

// The name in an index entry (make_index_entry's, or a listIndexes entry {v, key, name, ...}).
// Throws Error(errc::bson_key_missing) without one and Error(errc::bson_type_mismatch) when it
// is not a string. The view points into `entry`.
std::string_view index_name_of(bson::View entry);

struct CreateIndexesCommand {
  std::optional<std::int64_t> max_time_ms;  // maxTimeMS
  // commitQuorum: a member count or "majority" / "votingMembers" / a tag set's name.
  std::variant<std::monostate, std::int32_t, std::string_view> commit_quorum;
  StringOrDocumentView comment;
};
// {createIndexes: collection, indexes: [entries...], [maxTimeMS], [commitQuorum], [comment],
//  [writeConcern], $db}. `indexes` are entries from make_index_entry. Throws
// Error(errc::invalid_argument) for no entries, a negative maxTimeMS, or a write concern
// append_write_concern refuses.
bson::Document make_create_indexes(std::string_view db, std::string_view collection,
                                   std::span<const bson::View> indexes,
                                   const CreateIndexesCommand& options = {},
                                   const WriteConcern& write_concern = {});

// {createdCollectionAutomatically, numIndexesBefore, numIndexesAfter, [note], ok: 1}. Every
// field may be missing (servers differ; a sharded cluster nests them under `raw`).
struct CreateIndexesReply {
  std::optional<bool> created_collection_automatically;
  std::optional<std::int64_t> num_indexes_before;
  std::optional<std::int64_t> num_indexes_after;
  std::optional<std::string> note;  // e.g. "all indexes already exist"
};
// Throws ServerError for {ok: 0} or a writeConcernError (its code and errmsg);
// Error(errc::bson_type_mismatch) naming the field when one of the fields above (or
// writeConcernError's code / errmsg) has the wrong type.
CreateIndexesReply parse_create_indexes_reply(bson::View reply);

}  // namespace mongoslice::wire

namespace mongoslice::ops {

// createIndexes as an operation (ops/operation.hpp): one command, a write, not retried. The
// only thing it needs of the server's limits: commitQuorum needs MongoDB 4.4 (maxWireVersion 9),
// so start() throws Error(errc::invalid_argument) for a command holding commitQuorum when the
// server is older, as the index-management spec requires, and nothing is sent.
class CreateIndexesOperation {
 public:
  using Result = wire::CreateIndexesReply;
  static constexpr std::int32_t kCommitQuorumMinWireVersion = 9;

  // `db` must outlive the operation; `command` is a make_create_indexes body.
  CreateIndexesOperation(std::string_view db, bson::Document command)
      : db_(db), command_(std::move(command)) {}

  OperationKind kind() const noexcept { return OperationKind::kWrite; }
  bool retryable() const noexcept { return false; }
  Step start(const ServerLimits& limits);
  Step on_reply(bson::Document reply);
  Result result() && { return std::move(*result_); }

 private:
  std::string_view db_;
  bson::Document command_;
  std::optional<Result> result_;
};

}  // namespace mongoslice::ops

namespace mongoslice::wire {

// ---- listIndexes -------------------------------------------------------------------------------

struct ListIndexesCommand {
  std::optional<std::int32_t> batch_size;  // inside `cursor`, which is always sent; >= 0
  StringOrDocumentView comment;
};
// {listIndexes: collection, cursor: {[batchSize]}, [comment], $db}. The reply is a cursor reply
// (parse_cursor_reply) of index entries; a collection that does not exist is
// {ok: 0, code: 26 NamespaceNotFound}, which drivers present as no indexes. Throws
// Error(errc::invalid_argument) for a negative batch size.
bson::Document make_list_indexes(std::string_view db, std::string_view collection,
                                 const ListIndexesCommand& options = {});

// ---- dropIndexes -------------------------------------------------------------------------------

struct DropIndexesCommand {
  std::optional<std::int64_t> max_time_ms;
  StringOrDocumentView comment;
};
// {dropIndexes: collection, index: name, [maxTimeMS], [comment], [writeConcern], $db}. Throws
// Error(errc::invalid_argument) for an empty name and for "*" (that drops every index: use
// make_drop_all_indexes), a negative maxTimeMS or a refused write concern.
bson::Document make_drop_index(std::string_view db, std::string_view collection,
                               std::string_view name, const DropIndexesCommand& options = {},
                               const WriteConcern& write_concern = {});
// The same with index: the key pattern of the index. Throws for empty keys as above.
bson::Document make_drop_index(std::string_view db, std::string_view collection, bson::View keys,
                               const DropIndexesCommand& options = {},
                               const WriteConcern& write_concern = {});
// The same with index: "*": every index but _id's.
bson::Document make_drop_all_indexes(std::string_view db, std::string_view collection,
                                     const DropIndexesCommand& options = {},
                                     const WriteConcern& write_concern = {});

// {nIndexesWas, [msg], ok: 1}; nIndexesWas may be missing.
struct DropIndexesReply {
  std::optional<std::int64_t> n_indexes_was;
};
// Throws as parse_create_indexes_reply (nIndexesWas must be a number).
DropIndexesReply parse_drop_indexes_reply(bson::View reply);

// ---- renameCollection --------------------------------------------------------------------------

struct RenameCollectionCommand {
  bool drop_target = false;  // sent only when true
  StringOrDocumentView comment;
};
// {renameCollection: "from_db.from", to: "to_db.to", [dropTarget: true], [comment],
//  [writeConcern], $db: "admin"}. Throws Error(errc::invalid_argument) for an empty database or
// collection name, or a refused write concern.
bson::Document make_rename_collection(std::string_view from_db, std::string_view from_collection,
                                      std::string_view to_db, std::string_view to_collection,
                                      const RenameCollectionCommand& options = {},
                                      const WriteConcern& write_concern = {});

// {ok: 1}. Throws ServerError for {ok: 0} or a writeConcernError, Error(errc::bson_type_mismatch)
// for a malformed writeConcernError.
void parse_rename_collection_reply(bson::View reply);

}  // namespace mongoslice::wire
