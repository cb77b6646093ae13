#pragma once
// The catalog commands of a database and a deployment: listCollections, create, dropDatabase
// and listDatabases, as BSON bodies for OP_MSG, and parsers for their replies. Sans-I/O, in the
// style of ops/commands.hpp: every builder adds `$db`, an option left empty is not sent (the
// server's default applies), and parsers throw ServerError for {ok: 0} (or no ok) and
// mongoslice::Error naming the field when the reply is malformed.
//
// Whether each command reads or writes (for server selection): listCollections and
// listDatabases read (read preference primary unless the caller says otherwise, as the
// server-selection spec's generic command rule has it); create and dropDatabase write. None is
// retried by this layer. create and dropDatabase carry the write concern given (the
// read-write-concern spec lists both among the commands that take one).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ops/concerns.hpp"
#include "wire/bson.hpp"

namespace mongoslice::wire {

// ---- listCollections ---------------------------------------------------------------------------

struct ListCollectionsCommand {
  std::optional<bson::View> filter;
  bool name_only = false;                  // sent only when true
  bool authorized_collections = false;     // sent only when true
  std::optional<std::int32_t> batch_size;  // inside `cursor`, which is always sent
  std::optional<bson::Element> comment;    // any BSON value, sent as it is
};
// {listCollections: 1, [filter], [nameOnly: true], [authorizedCollections: true],
//  cursor: {[batchSize]}, [comment], $db}. The reply is a cursor reply (parse_cursor_reply);
// its namespace is "<db>.$cmd.listCollections".
bson::Document make_list_collections(std::string_view db,
                                     const ListCollectionsCommand& options = {});

// The `name` of one listCollections entry ({name, type, options, info, idIndex}; nameOnly
// gives {name, type}). Throws Error(errc::bson_key_missing) without one and
// Error(errc::bson_type_mismatch) when it is not a string. The view points into `entry`.
std::string_view collection_name_of(bson::View entry);

// ---- create ------------------------------------------------------------------------------------

// The collection options of the create command this driver sends (a subset of what servers
// take: capped collections, schema validation, the default collation).
struct CreateCommand {
  std::optional<bool> capped;
  std::optional<std::int64_t> size;  // bytes; required by servers for a capped collection
  std::optional<std::int64_t> max;   // documents, for a capped collection
  std::optional<bson::View> validator;
  std::optional<std::string_view> validation_level;   // "off", "strict", "moderate"
  std::optional<std::string_view> validation_action;  // "error", "warn"
  std::optional<bson::View> collation;
  std::optional<bson::Element> comment;
  WriteConcern write_concern;  // sent unless the server default
};
// {create: collection, [capped], [size], [max], [validator], [validationLevel],
//  [validationAction], [collation], [comment], [writeConcern], $db}; reply {ok: 1}, read with
// parse_ok_reply. Throws what append_write_concern throws (ops/concerns.hpp).
bson::Document make_create(std::string_view db, std::string_view collection,
                           const CreateCommand& options = {});

// ---- dropDatabase ------------------------------------------------------------------------------

// {dropDatabase: 1, [writeConcern], $db}; reply {ok: 1} (older servers add `dropped`), read with
// parse_ok_reply. Throws what append_write_concern throws.
bson::Document make_drop_database(std::string_view db, const WriteConcern& write_concern = {});

// The reply of a command whose only result is success: throws ServerError for {ok: 0} or no ok.
void parse_ok_reply(bson::View reply);

// ---- listDatabases -----------------------------------------------------------------------------

struct ListDatabasesCommand {
  std::optional<bson::View> filter;
  bool name_only = false;             // sent only when true
  bool authorized_databases = false;  // sent only when true
  std::optional<bson::Element> comment;
};
// {listDatabases: 1, [filter], [nameOnly: true], [authorizedDatabases: true], [comment],
//  $db: "admin"}.
bson::Document make_list_databases(const ListDatabasesCommand& options = {});

// {databases: [{name, sizeOnDisk, empty, ...}], totalSize, ok: 1}; nameOnly replies have only
// names and may leave totalSize out. Views point into the reply.
struct ListDatabasesReply {
  std::vector<bson::View> databases;
  std::optional<std::int64_t> total_size;
};
// Throws ServerError for {ok: 0}; Error(errc::bson_key_missing) without `databases`;
// Error(errc::bson_type_mismatch) naming the field when `databases` is not an array of
// documents each with a string `name`, or `totalSize` is not a number.
ListDatabasesReply parse_list_databases_reply(bson::View reply);

}  // namespace mongoslice::wire
