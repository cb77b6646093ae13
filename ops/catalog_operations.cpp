#include "ops/catalog_operations.hpp"

#include "ops/commands.hpp"
#include "wire/error.hpp"

namespace mongoslice::ops {

bson::Document make_run_command(std::string_view db, bson::View command) {
  if (command.empty()) {
    throw Error(errc::invalid_argument,
                "run_command: the command is empty (its first key names it)");
  }
  bson::Builder builder;
  for (bson::Element field : command) builder.append(field.key(), field);
  builder.append("$db", db);
  return builder.build();
}

std::monostate ParseOkReply::operator()(const bson::Document& reply) const {
  wire::parse_ok_reply(reply.view());
  return {};
}

bson::Document ParseListDatabasesReply::operator()(bson::Document reply) const {
  (void)wire::parse_list_databases_reply(reply.view());
  return reply;
}

RunCommandOperation run_command_operation(std::string_view db, bson::View command) {
  return {OperationKind::kRead, db, make_run_command(db, command), KeepReply{},
          /*retryable=*/false};
}

ListCollectionsOperation list_collections_operation(std::string_view db,
                                                    const wire::ListCollectionsCommand& command) {
  return {OperationKind::kRead, db, wire::make_list_collections(db, command), KeepReply{},
          /*retryable=*/true};
}

CreateCollectionOperation create_collection_operation(std::string_view db,
                                                      std::string_view collection,
                                                      const wire::CreateCommand& command) {
  return {OperationKind::kWrite, db, wire::make_create(db, collection, command), ParseOkReply{},
          /*retryable=*/false};
}

DropDatabaseOperation drop_database_operation(std::string_view db,
                                              const WriteConcern& write_concern) {
  return {OperationKind::kWrite, db, wire::make_drop_database(db, write_concern), ParseOkReply{},
          /*retryable=*/false};
}

DropCollectionOperation drop_collection_operation(std::string_view db, std::string_view collection,
                                                  const WriteConcern& write_concern) {
  return {OperationKind::kWrite, db, wire::make_drop(db, collection, write_concern), ParseOkReply{},
          /*retryable=*/false};
}

ListDatabasesOperation list_databases_operation(const wire::ListDatabasesCommand& command) {
  return {OperationKind::kRead, "admin", wire::make_list_databases(command),
          ParseListDatabasesReply{}, /*retryable=*/true};
}

}  // namespace mongoslice::ops
