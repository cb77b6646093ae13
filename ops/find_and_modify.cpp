#include "ops/find_and_modify.hpp"

#include <string>

#include "ops/read_ops.hpp"  // append_string_or_document
#include "wire/error.hpp"

namespace mongoslice::wire {
namespace {

[[noreturn]] void invalid(const std::string& what) {
  throw Error(errc::invalid_argument, what);
}

[[noreturn]] void type_mismatch(std::string_view field, const bson::Element& element,
                                std::string_view expected) {
  throw Error(errc::bson_type_mismatch, "findAndModify reply: field '" + std::string(field) +
                                            "' is " + std::string(bson::type_name(element.type())) +
                                            ", expected " + std::string(expected));
}

std::string_view operation_name(FindAndModifyKind kind) noexcept {
  switch (kind) {
    case FindAndModifyKind::kUpdate:
      return "find_one_and_update";
    case FindAndModifyKind::kReplace:
      return "find_one_and_replace";
    case FindAndModifyKind::kDelete:
      break;
  }
  return "find_one_and_delete";
}

void check(const FindAndModifyCommand& command) {
  const std::string name(operation_name(command.kind));
  if (command.kind == FindAndModifyKind::kDelete) {
    if (command.return_new) invalid(name + ": there is no document after a delete (new)");
    if (command.upsert) invalid(name + ": a delete cannot upsert");
    if (!command.array_filters.empty()) invalid(name + ": a delete takes no array filters");
    if (command.bypass_document_validation)
      invalid(name + ": a delete takes no bypass_document_validation");
  } else {
    check_update(command.update, command.kind == FindAndModifyKind::kUpdate
                                     ? UpdateKind::kUpdate
                                     : UpdateKind::kReplacement);
    if (command.kind == FindAndModifyKind::kReplace && !command.array_filters.empty())
      invalid(name + ": a replacement takes no array filters");
  }
  if (command.max_time_ms && *command.max_time_ms < 0)
    invalid(name + ": max_time must be >= 0, not " + std::to_string(*command.max_time_ms));
}

}  // namespace

bson::Document make_find_and_modify(std::string_view db, std::string_view collection,
                                    const FindAndModifyCommand& command) {
  check(command);
  bson::Builder builder;
  builder.append("findAndModify", collection).append("query", command.query);
  if (command.kind == FindAndModifyKind::kDelete) {
    builder.append("remove", true);
  } else if (command.kind == FindAndModifyKind::kUpdate &&
             !(*command.update.begin()).key().starts_with('$')) {
    builder.append_array("update", command.update);  // a pipeline (check_update said so)
  } else {
    builder.append("update", command.update);
  }
  if (command.return_new) builder.append("new", true);
  if (command.fields) builder.append("fields", *command.fields);
  if (command.sort) builder.append("sort", *command.sort);
  if (command.upsert) builder.append("upsert", true);
  if (!command.array_filters.empty()) {
    builder.open_array("arrayFilters");
    for (bson::View filter : command.array_filters) builder.append_value(filter);
    builder.close();
  }
  if (command.bypass_document_validation)
    builder.append("bypassDocumentValidation", *command.bypass_document_validation);
  if (command.collation) builder.append("collation", *command.collation);
  append_string_or_document(builder, "hint", command.hint);
  if (command.let) builder.append("let", *command.let);
  append_string_or_document(builder, "comment", command.comment);
  if (command.max_time_ms) builder.append("maxTimeMS", *command.max_time_ms);
  append_write_concern(builder, command.write_concern);
  builder.append("$db", db);
  return builder.build();
}

FindAndModifyReply parse_find_and_modify_reply(bson::View reply) {
  throw_if_command_failed(reply);
  FindAndModifyReply result;
  auto value = reply["value"];  // bson_key_missing when absent
  if (value.type() == bson::Type::kDocument) {
    result.value = bson::Document(value.get_document());
  } else if (value.type() != bson::Type::kNull) {
    type_mismatch("value", value, "document or null");
  }
  if (auto last_error = reply.find("lastErrorObject");
      last_error && last_error->type() != bson::Type::kDocument) {
    type_mismatch("lastErrorObject", *last_error, "document");
  }
  if (auto concern = reply.find("writeConcernError")) {
    if (concern->type() != bson::Type::kDocument)
      type_mismatch("writeConcernError", *concern, "document");
    bson::View error = concern->get_document();
    auto code = error["code"];
    if (code.type() != bson::Type::kInt32 && code.type() != bson::Type::kInt64)
      type_mismatch("writeConcernError.code", code, "int");
    WriteConcernError parsed;
    parsed.code = code.as_int32();
    if (auto message = error.find("errmsg"); message && message->type() == bson::Type::kString)
      parsed.errmsg = std::string(message->get_string());
    result.write_concern_error = std::move(parsed);
  }
  return result;
}

FindAndModify::FindAndModify(std::string_view db, std::string_view collection,
                             const FindAndModifyCommand& command)
    : db_(db),
      body_(make_find_and_modify(db, collection, command)),
      has_hint_(!std::holds_alternative<std::monostate>(command.hint)),
      acknowledged_(command.write_concern.is_acknowledged()) {
}

ops::Step FindAndModify::start(const ops::ServerLimits& limits) {
  if (has_hint_ && !acknowledged_ && limits.max_wire_version < kUnacknowledgedHintMinWireVersion) {
    throw Error(errc::invalid_argument,
                "findAndModify: the server (wire version " +
                    std::to_string(limits.max_wire_version) +
                    ") is older than MongoDB 4.4 and cannot take a hint with an unacknowledged "
                    "write concern (w: 0)");
  }
  if (has_hint_ && limits.max_wire_version < kHintMinWireVersion) {
    throw Error(errc::invalid_argument, "findAndModify: the server (wire version " +
                                            std::to_string(limits.max_wire_version) +
                                            ") is older than MongoDB 4.2 and cannot take a hint");
  }
  return ops::Send{{db_, body_.view(), {}}};
}

ops::Step FindAndModify::on_reply(bson::Document reply) {
  FindAndModifyReply parsed = parse_find_and_modify_reply(reply.view());
  // An unacknowledged write reports nothing (MongoDB sends no reply to w: 0 with moreToCome;
  // this driver reads the reply but does not pass its document on).
  if (!acknowledged_) parsed.value.reset();
  result_ = std::move(parsed);
  return ops::Done{};
}

}  // namespace mongoslice::wire
