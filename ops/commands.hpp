#pragma once
// The commands the driver sends, as BSON bodies for OP_MSG, and parsers for their replies.
// Sans-I/O: these only build and read documents.
//
// Every builder adds `$db`. Options are plain structs; a field left empty is not sent, so the
// server's default applies. Parsers first turn an {ok: 0} reply into mongoslice::ServerError
// (thrown), then check the shape of the reply and throw mongoslice::Error naming the field when
// it is malformed (errc::cursor_error for cursor replies, errc::bson_type_mismatch /
// errc::bson_key_missing for the others).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ops/concerns.hpp"
#include "wire/bson.hpp"

namespace mongoslice::wire {

// ---- Builders ---------------------------------------------------------------------------------

struct HelloOptions {
  std::string_view db = "admin";
  // The handshake's client metadata ({driver, os, platform, application}); the first hello of
  // a connection only.
  std::optional<bson::View> client;
  // Awaitable hello (streaming monitoring): the server's last topologyVersion and how long it
  // may hold the reply.
  std::optional<bson::View> topology_version;
  std::optional<std::int64_t> max_await_time_ms;
};
// {hello: 1, helloOk: true, [client], [topologyVersion, maxAwaitTimeMS], $db}
bson::Document make_hello(const HelloOptions& options = {});

// {ping: 1, $db}
bson::Document make_ping(std::string_view db = "admin");

struct FindOptions {
  std::optional<bson::View> filter;
  std::optional<bson::View> projection;
  std::optional<bson::View> sort;
  std::optional<std::int64_t> skip;
  std::optional<std::int64_t> limit;
  std::optional<std::int32_t> batch_size;
  bool single_batch = false;  // sent only when true
  // An index name or key pattern; the comment a string or a document (monostate: not sent).
  std::variant<std::monostate, std::string_view, bson::View> hint;
  std::variant<std::monostate, std::string_view, bson::View> comment;
  std::optional<std::int64_t> max_time_ms;  // >= 0
  std::optional<bson::View> collation;
  std::optional<bool> allow_disk_use;
  std::optional<bson::View> let;
  std::optional<bson::View> min;  // index bounds (inclusive lower, exclusive upper)
  std::optional<bson::View> max;
  std::optional<bool> return_key;
  std::optional<bool> show_record_id;
  std::optional<bool> no_cursor_timeout;
  std::optional<bool> allow_partial_results;
  ReadConcern read_concern;  // sent when not the server default
};
// {find: collection, [filter], [projection], [sort], [skip], [limit], [batchSize],
//  [singleBatch: true], [hint], [comment], [maxTimeMS], [collation], [allowDiskUse], [let],
//  [min], [max], [returnKey], [showRecordId], [noCursorTimeout], [allowPartialResults],
//  [readConcern], $db}. Throws Error(errc::invalid_argument) for a negative max_time_ms.
bson::Document make_find(std::string_view db, std::string_view collection,
                         const FindOptions& options = {});

// {getMore: id, collection, [batchSize], $db}
bson::Document make_get_more(std::string_view db, std::string_view collection,
                             std::int64_t cursor_id,
                             std::optional<std::int32_t> batch_size = std::nullopt);

// The optional fields of a getMore (the find/getMore/killCursors spec; the getMore options of
// the run-command spec's runCursorCommand). Views must outlive the make_get_more call only.
struct GetMoreCommand {
  std::optional<std::int32_t> batch_size;   // > 0
  std::optional<std::int64_t> max_time_ms;  // >= 0 (a tailable await cursor's wait)
  std::optional<bson::Element> comment;     // any BSON value; servers take it from MongoDB 4.4
  // The session the cursor was made in ({id: UUID}): a server refuses a getMore without it.
  std::optional<bson::View> lsid;
};
// {getMore: id, collection, [batchSize], [maxTimeMS], [comment], [lsid], $db}. Throws
// Error(errc::invalid_argument) for a batch_size <= 0 or a negative max_time_ms.
bson::Document make_get_more(std::string_view db, std::string_view collection,
                             std::int64_t cursor_id, const GetMoreCommand& command);

// {killCursors: collection, cursors: [ids...], $db}
bson::Document make_kill_cursors(std::string_view db, std::string_view collection,
                                 std::span<const std::int64_t> cursor_ids);

// The insert body {insert: collection, ordered, $db}; the documents travel beside it in a kind-1
// section named kInsertDocuments, so they are not copied into the body:
//   DocumentSequence seq{kInsertDocuments, docs};
//   encode_op_msg(id, make_insert(db, coll), 0, {&seq, 1});
inline constexpr std::string_view kInsertDocuments = "documents";
bson::Document make_insert(std::string_view db, std::string_view collection, bool ordered = true);

// update and delete: ops/write_ops.hpp.

// count and countDocuments: ops/read_ops.hpp.

// {drop: collection, writeConcern, $db}: drop takes a write concern (read-write-concern spec).
// Throws what append_write_concern throws.
bson::Document make_drop(std::string_view db, std::string_view collection,
                         const WriteConcern& write_concern = {});

// ---- Reply parsers ----------------------------------------------------------------------------

// Throws ServerError when the reply says {ok: 0} (or has no ok).
void throw_if_command_failed(bson::View reply);

// The cursor part of a find/aggregate/getMore reply:
// {cursor: {id, ns, firstBatch | nextBatch}, ok: 1}. Views point into the reply.
struct CursorReply {
  std::int64_t id = 0;  // 0: the server closed the cursor (nothing to kill)
  std::string_view ns;
  bson::View batch;  // the BSON array of documents
  bool first_batch = false;
  std::string_view database() const noexcept { return ns.substr(0, ns.find('.')); }
  std::string_view collection() const noexcept {
    auto dot = ns.find('.');
    return dot == std::string_view::npos ? std::string_view{} : ns.substr(dot + 1);
  }
};
// Throws ServerError for {ok: 0}; Error(errc::cursor_error) naming the problem when the cursor
// document is missing or malformed (id not an integer, ns not a string, no batch array, a batch
// element that is not a document).
CursorReply parse_cursor_reply(bson::View reply);

struct KillCursorsReply {
  std::vector<std::int64_t> killed;
  std::vector<std::int64_t> not_found;
  std::vector<std::int64_t> alive;
  std::vector<std::int64_t> unknown;
};
// Lists the server leaves out are empty; a list of the wrong type is errc::bson_type_mismatch.
KillCursorsReply parse_kill_cursors_reply(bson::View reply);

struct WriteError {
  std::int32_t index = 0;
  std::int32_t code = 0;  // 0 when the server left it out
  std::string errmsg;
};
struct WriteConcernError {
  std::int32_t code = 0;
  std::string errmsg;
};
// The reply of insert, update and delete: n, and the per-document errors (which come with
// ok: 1). n is required, except beside writeErrors, where a missing n is read as 0.
struct WriteReply {
  std::int64_t n = 0;
  std::vector<WriteError> write_errors;
  std::optional<WriteConcernError> write_concern_error;
};
WriteReply parse_write_reply(bson::View reply);

}  // namespace mongoslice::wire
