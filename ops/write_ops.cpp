#include "ops/write_ops.hpp"

#include <cstdint>
#include <string>

#include "wire/error.hpp"

namespace mongoslice::wire {
namespace {

void append_string_or_document(bson::Builder& builder, std::string_view key,
                               const StringOrDocumentView& value) {
  if (const auto* text = std::get_if<std::string_view>(&value)) {
    builder.append(key, *text);
  } else if (const auto* document = std::get_if<bson::View>(&value)) {
    builder.append(key, *document);
  }
}

[[noreturn]] void invalid(const std::string& what) {
  throw Error(errc::invalid_argument, what);
}

// Whether the keys of `document` are "0", "1", ... in order (the shape of a BSON array).
bool has_array_keys(bson::View document) {
  std::size_t i = 0;
  for (auto element : document) {
    if (element.key() != std::to_string(i++)) return false;
  }
  return true;
}

bool is_integer(const bson::Element& element) noexcept {
  return element.type() == bson::Type::kInt32 || element.type() == bson::Type::kInt64;
}

std::int64_t integer_field(bson::View document, std::string_view key) {
  auto element = document[key];  // bson_key_missing when absent
  if (!is_integer(element)) {
    throw Error(errc::bson_type_mismatch, "field '" + std::string(key) + "' is " +
                                              std::string(bson::type_name(element.type())) +
                                              ", expected int");
  }
  return element.as_int64();
}

}  // namespace

bson::Document make_insert_command(std::string_view db, std::string_view collection,
                                   const WriteCommandOptions& options) {
  bson::Builder builder;
  builder.append("insert", collection).append("ordered", options.ordered);
  append_string_or_document(builder, "comment", options.comment);
  if (options.bypass_document_validation)
    builder.append("bypassDocumentValidation", *options.bypass_document_validation);
  append_write_concern(builder, options.write_concern);
  builder.append("$db", db);
  return builder.build();
}

bson::Document make_update(std::string_view db, std::string_view collection,
                           const WriteCommandOptions& options) {
  bson::Builder builder;
  builder.append("update", collection).append("ordered", options.ordered);
  if (options.let) builder.append("let", *options.let);
  append_string_or_document(builder, "comment", options.comment);
  if (options.bypass_document_validation)
    builder.append("bypassDocumentValidation", *options.bypass_document_validation);
  append_write_concern(builder, options.write_concern);
  builder.append("$db", db);
  return builder.build();
}

bson::Document make_delete(std::string_view db, std::string_view collection,
                           const WriteCommandOptions& options) {
  bson::Builder builder;
  builder.append("delete", collection).append("ordered", options.ordered);
  if (options.let) builder.append("let", *options.let);
  append_string_or_document(builder, "comment", options.comment);
  append_write_concern(builder, options.write_concern);
  builder.append("$db", db);
  return builder.build();
}

bool check_update(bson::View update, UpdateKind kind) {
  if (kind == UpdateKind::kReplacement) {
    for (auto element : update) {
      if (element.key().starts_with('$')) {
        invalid("replace_one: the replacement document has the update operator '" +
                std::string(element.key()) + "' at its top level; use update_one to update");
      }
    }
    return false;
  }
  auto first = update.begin();
  if (first == update.end()) invalid("update: the update document is empty");
  if ((*first).key().starts_with('$')) return false;
  if (has_array_keys(update)) {
    for (auto stage : update) {
      if (stage.type() != bson::Type::kDocument) {
        invalid("update: pipeline stage " + std::string(stage.key()) + " is a " +
                std::string(bson::type_name(stage.type())) + ", expected a document");
      }
      bson::View fields = stage.get_document();
      if (fields.begin() == fields.end())
        invalid("update: pipeline stage " + std::string(stage.key()) + " is empty");
      if (!(*fields.begin()).key().starts_with('$')) {
        invalid("update: pipeline stage " + std::string(stage.key()) + " begins with '" +
                std::string((*fields.begin()).key()) + "', not a '$' stage name");
      }
    }
    return true;
  }
  invalid("update: the update document's first key '" + std::string((*first).key()) +
          "' is not an update operator (it must start with '$'); use replace_one to replace");
}

bson::Document make_update_statement(const UpdateStatement& statement, UpdateKind kind) {
  const bool pipeline = check_update(statement.update, kind);
  if (kind == UpdateKind::kReplacement && statement.multi)
    invalid("replace_one: a replacement cannot apply to many documents (multi)");
  bson::Builder builder;
  builder.append("q", statement.filter);
  if (pipeline) {
    builder.append_array("u", statement.update);
  } else {
    builder.append("u", statement.update);
  }
  if (statement.upsert) builder.append("upsert", true);
  if (statement.multi) builder.append("multi", true);
  if (!statement.array_filters.empty()) {
    builder.open_array("arrayFilters");
    for (bson::View filter : statement.array_filters) builder.append_value(filter);
    builder.close();
  }
  if (statement.collation) builder.append("collation", *statement.collation);
  append_string_or_document(builder, "hint", statement.hint);
  return builder.build();
}

bson::Document make_delete_statement(const DeleteStatement& statement) {
  bson::Builder builder;
  builder.append("q", statement.filter).append("limit", std::int32_t{statement.just_one ? 1 : 0});
  if (statement.collation) builder.append("collation", *statement.collation);
  append_string_or_document(builder, "hint", statement.hint);
  return builder.build();
}

UpdateReply parse_update_reply(bson::View reply) {
  WriteReply write = parse_write_reply(reply);  // ok, n, writeErrors, writeConcernError
  UpdateReply result;
  result.write_errors = std::move(write.write_errors);
  result.write_concern_error = std::move(write.write_concern_error);
  // Beside writeErrors a missing nModified is read as 0, as a missing n is (parse_write_reply).
  if (reply.contains("nModified") || result.write_errors.empty())
    result.result.modified_count = integer_field(reply, "nModified");
  if (auto upserted = reply.find("upserted")) {
    for (auto entry : upserted->get_array()) {
      if (entry.type() != bson::Type::kDocument) {
        throw Error(errc::bson_type_mismatch, "an 'upserted' entry is " +
                                                  std::string(bson::type_name(entry.type())) +
                                                  ", expected a document");
      }
      bson::View upsert = entry.get_document();
      const std::int64_t index = integer_field(upsert, "index");
      if (index < 0 || index > INT32_MAX) {
        throw Error(errc::bson_type_mismatch,
                    "an 'upserted' entry's index " + std::to_string(index) + " is out of range");
      }
      auto id = upsert["_id"];  // bson_key_missing when absent
      bson::Document id_document = bson::Builder{}.append("_id", id).build();
      if (!result.result.upserted_id) result.result.upserted_id = id_document;
      result.upserted.push_back({static_cast<std::int32_t>(index), std::move(id_document)});
      ++result.result.upserted_count;
    }
  }
  // The server counts an upserted document in n; the CRUD spec's matched count does not.
  if (write.n < result.result.upserted_count) {
    throw Error(errc::bson_type_mismatch, "field 'n' (" + std::to_string(write.n) +
                                              ") is less than the documents upserted (" +
                                              std::to_string(result.result.upserted_count) + ")");
  }
  result.result.matched_count = write.n - result.result.upserted_count;
  return result;
}

DeleteReply parse_delete_reply(bson::View reply) {
  WriteReply write = parse_write_reply(reply);
  return {DeleteResult{write.n}, std::move(write.write_errors),
          std::move(write.write_concern_error)};
}

}  // namespace mongoslice::wire
