#pragma once
// The catalog commands and the generic command as operations (ops/operation.hpp), for the
// engine (driver/operation_engine.hpp): runCommand, listCollections, create, dropDatabase and
// listDatabases. Each is one command, built at construction (a refused argument throws then,
// before a server is selected), with the builders of ops/catalog_ops.hpp. Sans-I/O.
//
// What each is for server selection, and whether it is retried (once retries exist):
//   - runCommand: a read (the run-command spec: "RunCommand MUST assume all commands are read
//     operations"), never retried; the command goes as the caller gave it, with $db (and
//     $readPreference, added by the engine where the server-selection spec says so) and
//     nothing else: no read or write concern.
//   - listCollections, listDatabases: retryable reads.
//   - create, dropDatabase: writes, not retried, carrying the write concern they are given.

#include <string_view>
#include <variant>

#include "ops/catalog_ops.hpp"
#include "ops/operation.hpp"
#include "wire/bson.hpp"

namespace mongoslice::ops {

// The generic command with `$db: db` appended, the caller's fields unchanged and in their
// order. The command is not inspected beyond being non-empty (the run-command spec: a field
// the driver also sets, such as $db, is the caller's undefined behaviour). Throws
// Error(errc::invalid_argument) for an empty command (it has no name to run).
bson::Document make_run_command(std::string_view db, bson::View command);

// Reads a reply whose only result is success (throws ServerError for {ok: 0} or no ok).
struct ParseOkReply {
  std::monostate operator()(const bson::Document& reply) const;
};

// Checks a listDatabases reply (wire::parse_list_databases_reply throws what it means) and
// keeps it whole; the caller reads its entries with parse_list_databases_reply again.
struct ParseListDatabasesReply {
  bson::Document operator()(bson::Document reply) const;
};

using RunCommandOperation = SingleCommand<bson::Document, KeepReply>;
using ListCollectionsOperation = SingleCommand<bson::Document, KeepReply>;
using CreateCollectionOperation = SingleCommand<std::monostate, ParseOkReply>;
using DropDatabaseOperation = SingleCommand<std::monostate, ParseOkReply>;
using DropCollectionOperation = SingleCommand<std::monostate, ParseOkReply>;
using ListDatabasesOperation = SingleCommand<bson::Document, ParseListDatabasesReply>;

// In every factory `db` must outlive the operation. The result of run_command_operation is
// the whole reply (ServerError for {ok: 0} is thrown by the engine's command path); that of
// list_collections_operation the first cursor reply, for the driver's Cursor.

// Throws what make_run_command throws.
RunCommandOperation run_command_operation(std::string_view db, bson::View command);
ListCollectionsOperation list_collections_operation(std::string_view db,
                                                    const wire::ListCollectionsCommand& command);
CreateCollectionOperation create_collection_operation(std::string_view db,
                                                      std::string_view collection,
                                                      const wire::CreateCommand& command);
// Throws what wire::make_drop_database throws.
DropDatabaseOperation drop_database_operation(std::string_view db,
                                              const WriteConcern& write_concern = {});
// Throws what wire::make_drop throws.
DropCollectionOperation drop_collection_operation(std::string_view db, std::string_view collection,
                                                  const WriteConcern& write_concern = {});
// Runs on "admin" (listDatabases is an admin command).
ListDatabasesOperation list_databases_operation(const wire::ListDatabasesCommand& command);

}  // namespace mongoslice::ops
