#include "ops/commands.hpp"

#include <string>

#include "ops/read_ops.hpp"  // append_string_or_document
#include "wire/error.hpp"

namespace mongoslice::wire {

// ---- Builders ---------------------------------------------------------------------------------

bson::Document make_hello(const HelloOptions& options) {
  bson::Builder builder;
  builder.append("hello", std::int32_t{1}).append("helloOk", true);
  if (options.client) builder.append("client", *options.client);
  if (options.topology_version) builder.append("topologyVersion", *options.topology_version);
  if (options.max_await_time_ms) builder.append("maxAwaitTimeMS", *options.max_await_time_ms);
  builder.append("$db", options.db);
  return builder.build();
}

bson::Document make_ping(std::string_view db) {
  bson::Builder builder;
  builder.append("ping", std::int32_t{1}).append("$db", db);
  return builder.build();
}

bson::Document make_find(std::string_view db, std::string_view collection,
                         const FindOptions& options) {
  bson::Builder builder;
  builder.append("find", collection);
  if (options.filter) builder.append("filter", *options.filter);
  if (options.projection) builder.append("projection", *options.projection);
  if (options.sort) builder.append("sort", *options.sort);
  if (options.skip) builder.append("skip", *options.skip);
  if (options.limit) builder.append("limit", *options.limit);
  if (options.batch_size) builder.append("batchSize", *options.batch_size);
  if (options.single_batch) builder.append("singleBatch", true);
  append_string_or_document(builder, "hint", options.hint);
  append_string_or_document(builder, "comment", options.comment);
  if (options.max_time_ms) {
    if (*options.max_time_ms < 0) {
      throw Error(errc::invalid_argument,
                  "find: max_time must be >= 0, not " + std::to_string(*options.max_time_ms));
    }
    builder.append("maxTimeMS", *options.max_time_ms);
  }
  if (options.collation) builder.append("collation", *options.collation);
  if (options.allow_disk_use) builder.append("allowDiskUse", *options.allow_disk_use);
  if (options.let) builder.append("let", *options.let);
  if (options.min) builder.append("min", *options.min);
  if (options.max) builder.append("max", *options.max);
  if (options.return_key) builder.append("returnKey", *options.return_key);
  if (options.show_record_id) builder.append("showRecordId", *options.show_record_id);
  if (options.no_cursor_timeout) builder.append("noCursorTimeout", *options.no_cursor_timeout);
  if (options.allow_partial_results)
    builder.append("allowPartialResults", *options.allow_partial_results);
  append_read_concern(builder, options.read_concern);
  builder.append("$db", db);
  return builder.build();
}

bson::Document make_get_more(std::string_view db, std::string_view collection,
                             std::int64_t cursor_id, std::optional<std::int32_t> batch_size) {
  bson::Builder builder;
  builder.append("getMore", cursor_id).append("collection", collection);
  if (batch_size) builder.append("batchSize", *batch_size);
  builder.append("$db", db);
  return builder.build();
}

bson::Document make_get_more(std::string_view db, std::string_view collection,
                             std::int64_t cursor_id, const GetMoreCommand& command) {
  if (command.batch_size && *command.batch_size <= 0) {
    throw Error(errc::invalid_argument,
                "getMore: batchSize must be > 0, not " + std::to_string(*command.batch_size));
  }
  if (command.max_time_ms && *command.max_time_ms < 0) {
    throw Error(errc::invalid_argument,
                "getMore: maxTimeMS must be >= 0, not " + std::to_string(*command.max_time_ms));
  }
  bson::Builder builder;
  builder.append("getMore", cursor_id).append("collection", collection);
  if (command.batch_size) builder.append("batchSize", *command.batch_size);
  if (command.max_time_ms) builder.append("maxTimeMS", *command.max_time_ms);
  if (command.comment) builder.append("comment", *command.comment);
  if (command.lsid) builder.append("lsid", *command.lsid);
  builder.append("$db", db);
  return builder.build();
}

bson::Document make_kill_cursors(std::string_view db, std::string_view collection,
                                 std::span<const std::int64_t> cursor_ids) {
  bson::Builder builder;
  builder.append("killCursors", collection).open_array("cursors");
  for (std::int64_t id : cursor_ids) builder.append_value(id);
  builder.close().append("$db", db);
  return builder.build();
}

bson::Document make_insert(std::string_view db, std::string_view collection, bool ordered) {
  bson::Builder builder;
  builder.append("insert", collection).append("ordered", ordered).append("$db", db);
  return builder.build();
}

bson::Document make_drop(std::string_view db, std::string_view collection,
                         const WriteConcern& write_concern) {
  bson::Builder builder;
  builder.append("drop", collection);
  append_write_concern(builder, write_concern);
  builder.append("$db", db);
  return builder.build();
}

// ---- Reply parsers ----------------------------------------------------------------------------

namespace {

[[noreturn]] void cursor_error(const std::string& what, bson::View reply) {
  throw Error(errc::cursor_error, what + " in reply " + reply.to_json());
}

bool is_integer(const bson::Element& element) noexcept {
  return element.type() == bson::Type::kInt32 || element.type() == bson::Type::kInt64;
}

std::vector<std::int64_t> id_list(bson::View reply, std::string_view key) {
  std::vector<std::int64_t> ids;
  auto field = reply.find(key);
  if (!field) return ids;
  for (auto element : field->get_array()) {
    if (!is_integer(element)) {
      throw Error(errc::bson_type_mismatch, "'" + std::string(key) + "' holds a " +
                                                std::string(bson::type_name(element.type())) +
                                                ", expected cursor ids");
    }
    ids.push_back(element.as_int64());
  }
  return ids;
}

std::int32_t int32_field(bson::View document, std::string_view key) {
  auto element = document[key];
  if (!is_integer(element)) {
    throw Error(errc::bson_type_mismatch, "field '" + std::string(key) + "' is " +
                                              std::string(bson::type_name(element.type())) +
                                              ", expected int");
  }
  return element.as_int32();  // range-checked: a peer's int64 that does not fit is an error
}

std::string optional_string(bson::View document, std::string_view key) {
  auto element = document.find(key);
  return element ? std::string(element->get_string()) : std::string();
}

}  // namespace

void throw_if_command_failed(bson::View reply) {
  if (auto error = ServerError::from_reply(reply)) throw *error;
}

CursorReply parse_cursor_reply(bson::View reply) {
  throw_if_command_failed(reply);
  auto cursor = reply.find("cursor");
  if (!cursor) cursor_error("no 'cursor' field", reply);
  if (cursor->type() != bson::Type::kDocument) cursor_error("'cursor' is not a document", reply);
  bson::View fields = cursor->get_document();

  CursorReply result;
  bool have_id = false, have_ns = false, have_batch = false;
  for (auto element : fields) {
    auto key = element.key();
    if (key == "id") {
      if (!is_integer(element)) cursor_error("'cursor.id' is not an integer", reply);
      result.id = element.as_int64();
      have_id = true;
    } else if (key == "ns") {
      if (element.type() != bson::Type::kString) cursor_error("'cursor.ns' is not a string", reply);
      result.ns = element.get_string();
      have_ns = true;
    } else if (key == "firstBatch" || key == "nextBatch") {
      if (have_batch) cursor_error("both 'firstBatch' and 'nextBatch'", reply);
      if (element.type() != bson::Type::kArray)
        cursor_error("'cursor." + std::string(key) + "' is not an array", reply);
      result.batch = element.get_array();
      result.first_batch = key == "firstBatch";
      have_batch = true;
    }
  }
  if (!have_id) cursor_error("no 'cursor.id'", reply);
  if (!have_ns) cursor_error("no 'cursor.ns'", reply);
  if (!have_batch) cursor_error("no 'cursor.firstBatch' or 'cursor.nextBatch'", reply);
  if (result.id != 0 && result.ns.find('.') == std::string_view::npos)
    cursor_error("'cursor.ns' is not <database>.<collection>", reply);
  for (auto document : result.batch) {
    if (document.type() != bson::Type::kDocument)
      cursor_error("batch element " + std::string(document.key()) + " is not a document", reply);
  }
  return result;
}

KillCursorsReply parse_kill_cursors_reply(bson::View reply) {
  throw_if_command_failed(reply);
  KillCursorsReply result;
  result.killed = id_list(reply, "cursorsKilled");
  result.not_found = id_list(reply, "cursorsNotFound");
  result.alive = id_list(reply, "cursorsAlive");
  result.unknown = id_list(reply, "cursorsUnknown");
  return result;
}

WriteReply parse_write_reply(bson::View reply) {
  throw_if_command_failed(reply);
  WriteReply result;
  auto errors = reply.find("writeErrors");
  // FerretDB leaves n out of a reply with writeErrors; the errors are then what the reply says.
  if (auto n = reply.find("n"); n || !errors) {
    auto count = reply["n"];
    if (!is_integer(count)) {
      throw Error(errc::bson_type_mismatch,
                  "field 'n' is " + std::string(bson::type_name(count.type())) + ", expected int");
    }
    result.n = count.as_int64();
  }
  if (errors) {
    for (auto entry : errors->get_array()) {
      bson::View error = entry.get_document();
      // mongo-java-server leaves code out of some write errors (a replacement with a dotted
      // key); the error is still the server's, so it is kept with code 0 (unknown).
      const std::int32_t code = error.contains("code") ? int32_field(error, "code") : 0;
      result.write_errors.push_back(
          {int32_field(error, "index"), code, optional_string(error, "errmsg")});
    }
  }
  if (auto concern = reply.find("writeConcernError")) {
    bson::View error = concern->get_document();
    result.write_concern_error =
        WriteConcernError{int32_field(error, "code"), optional_string(error, "errmsg")};
  }
  return result;
}

}  // namespace mongoslice::wire
