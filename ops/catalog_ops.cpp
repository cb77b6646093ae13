#include "ops/catalog_ops.hpp"

#include "ops/commands.hpp"
#include "wire/error.hpp"

namespace mongoslice::wire {
namespace {

[[noreturn]] void type_mismatch(const std::string& field, const bson::Element& element,
                                std::string_view expected) {
  throw Error(errc::bson_type_mismatch, "field '" + field + "' is " +
                                            std::string(bson::type_name(element.type())) +
                                            ", expected " + std::string(expected));
}

}  // namespace

bson::Document make_list_collections(std::string_view db, const ListCollectionsCommand& options) {
  bson::Builder builder;
  builder.append("listCollections", std::int32_t{1});
  if (options.filter) builder.append("filter", *options.filter);
  if (options.name_only) builder.append("nameOnly", true);
  if (options.authorized_collections) builder.append("authorizedCollections", true);
  builder.open_document("cursor");
  if (options.batch_size) builder.append("batchSize", *options.batch_size);
  builder.close();
  if (options.comment) builder.append("comment", *options.comment);
  builder.append("$db", db);
  return builder.build();
}

std::string_view collection_name_of(bson::View entry) {
  auto name = entry.find("name");
  if (!name) {
    throw Error(errc::bson_key_missing, "listCollections entry has no 'name': " + entry.to_json());
  }
  if (name->type() != bson::Type::kString) type_mismatch("name", *name, "string");
  return name->get_string();
}

bson::Document make_create(std::string_view db, std::string_view collection,
                           const CreateCommand& options) {
  bson::Builder builder;
  builder.append("create", collection);
  if (options.capped) builder.append("capped", *options.capped);
  if (options.size) builder.append("size", *options.size);
  if (options.max) builder.append("max", *options.max);
  if (options.validator) builder.append("validator", *options.validator);
  if (options.validation_level) builder.append("validationLevel", *options.validation_level);
  if (options.validation_action) builder.append("validationAction", *options.validation_action);
  if (options.collation) builder.append("collation", *options.collation);
  if (options.comment) builder.append("comment", *options.comment);
  append_write_concern(builder, options.write_concern);
  builder.append("$db", db);
  return builder.build();
}

bson::Document make_drop_database(std::string_view db, const WriteConcern& write_concern) {
  bson::Builder builder;
  builder.append("dropDatabase", std::int32_t{1});
  append_write_concern(builder, write_concern);
  builder.append("$db", db);
  return builder.build();
}

void parse_ok_reply(bson::View reply) {
  throw_if_command_failed(reply);
}

bson::Document make_list_databases(const ListDatabasesCommand& options) {
  bson::Builder builder;
  builder.append("listDatabases", std::int32_t{1});
  if (options.filter) builder.append("filter", *options.filter);
  if (options.name_only) builder.append("nameOnly", true);
  if (options.authorized_databases) builder.append("authorizedDatabases", true);
  if (options.comment) builder.append("comment", *options.comment);
  builder.append("$db", "admin");
  return builder.build();
}

ListDatabasesReply parse_list_databases_reply(bson::View reply) {
  throw_if_command_failed(reply);
  auto databases = reply.find("databases");
  if (!databases) {
    throw Error(errc::bson_key_missing,
                "listDatabases reply has no 'databases': " + reply.to_json());
  }
  if (databases->type() != bson::Type::kArray) type_mismatch("databases", *databases, "array");
  ListDatabasesReply result;
  for (auto entry : databases->get_array()) {
    const std::string field = "databases." + std::string(entry.key());
    if (entry.type() != bson::Type::kDocument) type_mismatch(field, entry, "document");
    bson::View database = entry.get_document();
    auto name = database.find("name");
    if (!name) throw Error(errc::bson_key_missing, "listDatabases reply: no '" + field + ".name'");
    if (name->type() != bson::Type::kString) type_mismatch(field + ".name", *name, "string");
    result.databases.push_back(database);
  }
  if (auto total = reply.find("totalSize")) {
    if (!total->is_number()) type_mismatch("totalSize", *total, "a number");
    result.total_size = total->as_int64();
  }
  return result;
}

}  // namespace mongoslice::wire
