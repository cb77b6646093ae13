#include "ops/index_ops.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ops/commands.hpp"
#include "wire/error.hpp"

namespace mongoslice::wire {
namespace {

[[noreturn]] void invalid(const std::string& message) {
  throw Error(errc::invalid_argument, message);
}

[[noreturn]] void type_mismatch(const std::string& field, const bson::Element& element,
                                std::string_view expected) {
  throw Error(errc::bson_type_mismatch, "field '" + field + "' is " +
                                            std::string(bson::type_name(element.type())) +
                                            ", expected " + std::string(expected));
}

// A key quoted in full, its control bytes, quote and backslash escaped (a NUL stays visible).
std::string quoted(std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  for (unsigned char c : key) {
    if (c < 0x20 || c == 0x7f || c == '\\' || c == '\'') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "'";
}

std::string number_text(double value) {
  if (std::isfinite(value) && value == std::trunc(value) && std::fabs(value) < 1e18) {
    return std::to_string(static_cast<std::int64_t>(value));
  }
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, end);
}

void append_comment(bson::Builder& builder, const StringOrDocumentView& comment) {
  if (const auto* text = std::get_if<std::string_view>(&comment)) {
    builder.append("comment", *text);
  } else if (const auto* document = std::get_if<bson::View>(&comment)) {
    builder.append("comment", *document);
  }
}

void append_max_time(bson::Builder& builder, const std::optional<std::int64_t>& max_time_ms,
                     std::string_view command) {
  if (!max_time_ms) return;
  if (*max_time_ms < 0) invalid(std::string(command) + ": maxTimeMS must be >= 0");
  builder.append("maxTimeMS", *max_time_ms);
}

// An ok: 1 reply can still carry a writeConcernError: the write happened, the concern failed.
void throw_if_write_concern_failed(bson::View reply) {
  auto error = reply.find("writeConcernError");
  if (!error) return;
  if (error->type() != bson::Type::kDocument) {
    type_mismatch("writeConcernError", *error, "document");
  }
  bson::View fields = error->get_document();
  std::int32_t code = 0;
  std::string code_name, errmsg;
  if (auto c = fields.find("code")) {
    if (!c->is_number()) type_mismatch("writeConcernError.code", *c, "a number");
    code = c->as_int32();
  }
  if (auto name = fields.find("codeName")) {
    if (name->type() != bson::Type::kString) {
      type_mismatch("writeConcernError.codeName", *name, "string");
    }
    code_name = name->get_string();
  }
  if (auto message = fields.find("errmsg")) {
    if (message->type() != bson::Type::kString) {
      type_mismatch("writeConcernError.errmsg", *message, "string");
    }
    errmsg = message->get_string();
  }
  std::vector<std::string> labels;
  if (auto list = reply.find("errorLabels"); list && list->type() == bson::Type::kArray) {
    for (auto label : list->get_array()) {
      if (label.type() == bson::Type::kString) labels.emplace_back(label.get_string());
    }
  }
  throw ServerError(code, std::move(code_name), "writeConcernError: " + errmsg, std::move(labels),
                    bson::Document(reply));
}

std::optional<std::int64_t> optional_number(bson::View reply, std::string_view field) {
  auto element = reply.find(field);
  if (!element) return std::nullopt;
  if (!element->is_number()) type_mismatch(std::string(field), *element, "a number");
  return element->as_int64();
}

void check_namespace(std::string_view db, std::string_view collection, std::string_view command) {
  if (db.empty()) invalid(std::string(command) + ": the database name is empty");
  if (collection.empty()) invalid(std::string(command) + ": the collection name is empty");
}

bson::Document make_drop_indexes(std::string_view db, std::string_view collection,
                                 const std::variant<std::string_view, bson::View>& index,
                                 const DropIndexesCommand& options,
                                 const WriteConcern& write_concern) {
  check_namespace(db, collection, "dropIndexes");
  bson::Builder builder;
  builder.append("dropIndexes", collection);
  if (const auto* name = std::get_if<std::string_view>(&index)) {
    builder.append("index", *name);
  } else {
    builder.append("index", std::get<bson::View>(index));
  }
  append_max_time(builder, options.max_time_ms, "dropIndexes");
  append_comment(builder, options.comment);
  append_write_concern(builder, write_concern);
  builder.append("$db", db);
  return builder.build();
}

}  // namespace

std::string make_index_name(bson::View keys) {
  if (keys.empty()) invalid("index keys are empty: an index needs at least one key");
  std::string name;
  for (auto element : keys) {
    if (!name.empty()) name += '_';
    name += element.key();
    name += '_';
    switch (element.type()) {
      case bson::Type::kInt32:
      case bson::Type::kInt64:
        name += std::to_string(element.as_int64());
        break;
      case bson::Type::kDouble:
        name += number_text(element.get_double());
        break;
      case bson::Type::kString:
        name += element.get_string();
        break;
      default:
        invalid("index key " + quoted(element.key()) + " is " +
                std::string(bson::type_name(element.type())) +
                ": a generated index name takes numbers and strings only (give a name)");
    }
  }
  return name;
}

bson::Document make_index_entry(bson::View keys, const IndexEntryOptions& options) {
  if (keys.empty()) invalid("index keys are empty: an index needs at least one key");
  std::string generated;
  std::string_view name;
  if (options.name) {
    if (options.name->empty()) invalid("index name is empty");
    name = *options.name;
  } else {
    generated = make_index_name(keys);
    name = generated;
  }
  bson::Builder builder;
  builder.append("key", keys).append("name", name);
  if (options.unique) builder.append("unique", *options.unique);
  if (options.sparse) builder.append("sparse", *options.sparse);
  if (options.hidden) builder.append("hidden", *options.hidden);
  if (options.background) builder.append("background", *options.background);
  if (options.expire_after_seconds) {
    const std::int64_t seconds = *options.expire_after_seconds;
    if (seconds >= std::numeric_limits<std::int32_t>::min() &&
        seconds <= std::numeric_limits<std::int32_t>::max()) {
      builder.append("expireAfterSeconds", static_cast<std::int32_t>(seconds));
    } else {
      builder.append("expireAfterSeconds", seconds);
    }
  }
  if (options.partial_filter_expression) {
    builder.append("partialFilterExpression", *options.partial_filter_expression);
  }
  if (options.collation) builder.append("collation", *options.collation);
  if (options.wildcard_projection) {
    builder.append("wildcardProjection", *options.wildcard_projection);
  }
  if (options.storage_engine) builder.append("storageEngine", *options.storage_engine);
  if (options.version) builder.append("v", *options.version);
  if (options.weights) builder.append("weights", *options.weights);
  if (options.default_language) builder.append("default_language", *options.default_language);
  if (options.language_override) builder.append("language_override", *options.language_override);
  if (options.text_index_version) builder.append("textIndexVersion", *options.text_index_version);
  if (options.sphere_index_version) {
    builder.append("2dsphereIndexVersion", *options.sphere_index_version);
  }
  if (options.bits) builder.append("bits", *options.bits);
  if (options.min) builder.append("min", *options.min);
  if (options.max) builder.append("max", *options.max);
  if (options.extra) builder.concat(*options.extra);
  return builder.build();
}

std::string_view index_name_of(bson::View entry) {
  auto name = entry.find("name");
  if (!name) throw Error(errc::bson_key_missing, "index entry has no 'name': " + entry.to_json());
  if (name->type() != bson::Type::kString) type_mismatch("name", *name, "string");
  return name->get_string();
}

bson::Document make_create_indexes(std::string_view db, std::string_view collection,
                                   std::span<const bson::View> indexes,
                                   const CreateIndexesCommand& options,
                                   const WriteConcern& write_concern) {
  check_namespace(db, collection, "createIndexes");
  if (indexes.empty()) invalid("createIndexes: no indexes to create");
  bson::Builder builder;
  builder.append("createIndexes", collection);
  builder.open_array("indexes");
  for (bson::View index : indexes) {
    if (index.empty()) invalid("createIndexes: an index entry is empty");
    builder.append_value(index);
  }
  builder.close();
  append_max_time(builder, options.max_time_ms, "createIndexes");
  if (const auto* count = std::get_if<std::int32_t>(&options.commit_quorum)) {
    if (*count < 0) invalid("createIndexes: commitQuorum must be >= 0");
    builder.append("commitQuorum", *count);
  } else if (const auto* mode = std::get_if<std::string_view>(&options.commit_quorum)) {
    if (mode->empty()) invalid("createIndexes: commitQuorum is an empty string");
    builder.append("commitQuorum", *mode);
  }
  append_comment(builder, options.comment);
  append_write_concern(builder, write_concern);
  builder.append("$db", db);
  return builder.build();
}

CreateIndexesReply parse_create_indexes_reply(bson::View reply) {
  throw_if_command_failed(reply);
  throw_if_write_concern_failed(reply);
  CreateIndexesReply result;
  if (auto created = reply.find("createdCollectionAutomatically")) {
    if (created->type() != bson::Type::kBool) {
      type_mismatch("createdCollectionAutomatically", *created, "bool");
    }
    result.created_collection_automatically = created->get_bool();
  }
  result.num_indexes_before = optional_number(reply, "numIndexesBefore");
  result.num_indexes_after = optional_number(reply, "numIndexesAfter");
  if (auto note = reply.find("note")) {
    if (note->type() != bson::Type::kString) type_mismatch("note", *note, "string");
    result.note = std::string(note->get_string());
  }
  return result;
}

bson::Document make_list_indexes(std::string_view db, std::string_view collection,
                                 const ListIndexesCommand& options) {
  check_namespace(db, collection, "listIndexes");
  if (options.batch_size && *options.batch_size < 0) {
    invalid("listIndexes: batchSize must be >= 0");
  }
  bson::Builder builder;
  builder.append("listIndexes", collection);
  builder.open_document("cursor");
  if (options.batch_size) builder.append("batchSize", *options.batch_size);
  builder.close();
  append_comment(builder, options.comment);
  builder.append("$db", db);
  return builder.build();
}

bson::Document make_drop_index(std::string_view db, std::string_view collection,
                               std::string_view name, const DropIndexesCommand& options,
                               const WriteConcern& write_concern) {
  if (name.empty()) invalid("dropIndexes: the index name is empty");
  if (name == "*") {
    invalid("dropIndexes: the index name \"*\" would drop every index: use drop_indexes()");
  }
  return make_drop_indexes(db, collection, name, options, write_concern);
}

bson::Document make_drop_index(std::string_view db, std::string_view collection, bson::View keys,
                               const DropIndexesCommand& options,
                               const WriteConcern& write_concern) {
  if (keys.empty()) invalid("dropIndexes: the index keys are empty");
  return make_drop_indexes(db, collection, keys, options, write_concern);
}

bson::Document make_drop_all_indexes(std::string_view db, std::string_view collection,
                                     const DropIndexesCommand& options,
                                     const WriteConcern& write_concern) {
  return make_drop_indexes(db, collection, std::string_view("*"), options, write_concern);
}

DropIndexesReply parse_drop_indexes_reply(bson::View reply) {
  throw_if_command_failed(reply);
  throw_if_write_concern_failed(reply);
  return {optional_number(reply, "nIndexesWas")};
}

bson::Document make_rename_collection(std::string_view from_db, std::string_view from_collection,
                                      std::string_view to_db, std::string_view to_collection,
                                      const RenameCollectionCommand& options,
                                      const WriteConcern& write_concern) {
  check_namespace(from_db, from_collection, "renameCollection");
  check_namespace(to_db, to_collection, "renameCollection (target)");
  bson::Builder builder;
  builder.append("renameCollection", std::string(from_db) + "." + std::string(from_collection));
  builder.append("to", std::string(to_db) + "." + std::string(to_collection));
  if (options.drop_target) builder.append("dropTarget", true);
  append_comment(builder, options.comment);
  append_write_concern(builder, write_concern);
  builder.append("$db", "admin");
  return builder.build();
}

void parse_rename_collection_reply(bson::View reply) {
  throw_if_command_failed(reply);
  throw_if_write_concern_failed(reply);
}

}  // namespace mongoslice::wire

namespace mongoslice::ops {

Step CreateIndexesOperation::start(const ServerLimits& limits) {
  if (command_.view().contains("commitQuorum") &&
      limits.max_wire_version < kCommitQuorumMinWireVersion) {
    throw Error(errc::invalid_argument,
                "createIndexes: commitQuorum needs MongoDB 4.4 (maxWireVersion 9); the server's "
                "maxWireVersion is " +
                    std::to_string(limits.max_wire_version));
  }
  return Send{{db_, command_.view(), {}}};
}

Step CreateIndexesOperation::on_reply(bson::Document reply) {
  result_.emplace(wire::parse_create_indexes_reply(reply.view()));
  return Done{};
}

}  // namespace mongoslice::ops
