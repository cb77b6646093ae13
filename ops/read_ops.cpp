#include "ops/read_ops.hpp"

#include <string>

#include "ops/commands.hpp"
#include "wire/error.hpp"

namespace mongoslice::wire {
namespace {

[[noreturn]] void invalid(const std::string& what) {
  throw Error(errc::invalid_argument, what);
}

void check_not_negative(std::string_view command, std::string_view option,
                        const std::optional<std::int64_t>& value) {
  if (value && *value < 0) {
    invalid(std::string(command) + ": " + std::string(option) + " must be >= 0, not " +
            std::to_string(*value));
  }
}

std::int64_t number_field(bson::View document, std::string_view key) {
  auto element = document[key];  // bson_key_missing when absent
  if (!element.is_number()) {
    throw Error(errc::bson_type_mismatch, "field '" + std::string(key) + "' is " +
                                              std::string(bson::type_name(element.type())) +
                                              ", expected a number");
  }
  return element.as_int64();
}

// The body of either aggregate; `target` is the collection's name, or nullopt for {aggregate: 1}.
bson::Document make_aggregate_body(std::string_view db, std::optional<std::string_view> target,
                                   const AggregateCommand& command) {
  check_pipeline(command.pipeline);
  if (command.batch_size && *command.batch_size < 0) {
    invalid("aggregate: batch_size must be >= 0, not " + std::to_string(*command.batch_size));
  }
  check_not_negative("aggregate", "max_time", command.max_time_ms);
  const bool write = is_write_pipeline(command.pipeline);

  bson::Builder builder;
  if (target) {
    builder.append("aggregate", *target);
  } else {
    builder.append("aggregate", std::int32_t{1});
  }
  builder.append_array("pipeline", command.pipeline);
  builder.open_document("cursor");
  if (command.batch_size && !write) builder.append("batchSize", *command.batch_size);
  builder.close();
  if (command.allow_disk_use) builder.append("allowDiskUse", *command.allow_disk_use);
  if (command.bypass_document_validation)
    builder.append("bypassDocumentValidation", *command.bypass_document_validation);
  if (command.collation) builder.append("collation", *command.collation);
  if (command.max_time_ms) builder.append("maxTimeMS", *command.max_time_ms);
  append_string_or_document(builder, "hint", command.hint);
  if (command.let) builder.append("let", *command.let);
  append_string_or_document(builder, "comment", command.comment);
  if (write) {
    append_write_concern(builder, command.write_concern);
  } else {
    append_read_concern(builder, command.read_concern);
  }
  builder.append("$db", db);
  return builder.build();
}

}  // namespace

void append_string_or_document(bson::Builder& builder, std::string_view key,
                               const StringOrDocumentView& value) {
  if (const auto* text = std::get_if<std::string_view>(&value)) {
    builder.append(key, *text);
  } else if (const auto* document = std::get_if<bson::View>(&value)) {
    builder.append(key, *document);
  }
}

// ---- Pipelines ---------------------------------------------------------------------------------

void check_pipeline(bson::View pipeline) {
  std::size_t index = 0;
  for (auto stage : pipeline) {
    const std::string position = std::to_string(index++);
    if (stage.key() != position) {
      invalid("aggregate: the pipeline is not an array (key '" + std::string(stage.key()) +
              "' where '" + position + "' belongs); pass a BSON array of stages");
    }
    if (stage.type() != bson::Type::kDocument) {
      invalid("aggregate: pipeline stage " + position + " is a " +
              std::string(bson::type_name(stage.type())) + ", expected a document");
    }
    bson::View fields = stage.get_document();
    auto first = fields.begin();
    if (first == fields.end()) invalid("aggregate: pipeline stage " + position + " is empty");
    if (!(*first).key().starts_with('$')) {
      invalid("aggregate: pipeline stage " + position + " begins with '" +
              std::string((*first).key()) + "', not a '$' stage name");
    }
    if (++first != fields.end()) {
      invalid("aggregate: pipeline stage " + position + " has more than one field ('" +
              std::string((*first).key()) + "' after the stage name)");
    }
  }
}

bool is_write_pipeline(bson::View pipeline) noexcept {
  std::string_view last;
  for (auto stage : pipeline) {
    last = {};
    if (stage.type() != bson::Type::kDocument) continue;
    bson::View fields = stage.get_document();
    if (fields.begin() != fields.end()) last = (*fields.begin()).key();
  }
  return last == "$out" || last == "$merge";
}

bson::Document pipeline_of(std::span<const bson::Document> stages) {
  bson::Builder builder;
  for (const bson::Document& stage : stages)
    builder.append(std::to_string(&stage - stages.data()), stage.view());
  return builder.build();
}

// ---- aggregate ---------------------------------------------------------------------------------

bson::Document make_aggregate(std::string_view db, std::string_view collection,
                              const AggregateCommand& command) {
  return make_aggregate_body(db, collection, command);
}

bson::Document make_database_aggregate(std::string_view db, const AggregateCommand& command) {
  return make_aggregate_body(db, std::nullopt, command);
}

Aggregate::Aggregate(std::string_view db, std::optional<std::string_view> collection,
                     const AggregateCommand& command)
    : db_(db),
      body_(collection ? make_aggregate(db, *collection, command)
                       : make_database_aggregate(db, command)),
      write_(is_write_pipeline(command.pipeline)),
      read_concern_(write_ ? command.read_concern : ReadConcern{}) {
}

ops::Step Aggregate::start(const ops::ServerLimits& limits) {
  constexpr std::int32_t kMongoDB42 = 8;  // the first wire version that takes both concerns
  if (write_ && !read_concern_.is_server_default() && limits.max_wire_version >= kMongoDB42 &&
      !body_.view().contains("readConcern")) {
    bson::Builder builder;  // the body with readConcern before $db
    for (auto element : body_.view()) {
      if (element.key() != "$db") builder.append(element.key(), element);
    }
    append_read_concern(builder, read_concern_);
    builder.append("$db", db_);
    body_ = builder.build();
  }
  return ops::Send{{db_, body_.view(), {}}};
}

ops::Step Aggregate::on_reply(bson::Document reply) {
  reply_ = std::move(reply);
  return ops::Done{};
}

// ---- distinct ----------------------------------------------------------------------------------

bson::Document make_distinct(std::string_view db, std::string_view collection,
                             const DistinctCommand& command) {
  if (command.key.empty()) invalid("distinct: the field name is empty");
  if (command.key.find('\0') != std::string_view::npos)
    invalid("distinct: the field name holds a NUL byte");
  check_not_negative("distinct", "max_time", command.max_time_ms);
  bson::Builder builder;
  builder.append("distinct", collection).append("key", command.key);
  if (command.query) builder.append("query", *command.query);
  if (command.collation) builder.append("collation", *command.collation);
  if (command.max_time_ms) builder.append("maxTimeMS", *command.max_time_ms);
  append_string_or_document(builder, "hint", command.hint);
  append_string_or_document(builder, "comment", command.comment);
  append_read_concern(builder, command.read_concern);
  builder.append("$db", db);
  return builder.build();
}

bson::Document parse_distinct_reply(bson::View reply) {
  throw_if_command_failed(reply);
  auto values = reply["values"];  // bson_key_missing when absent
  if (values.type() != bson::Type::kArray) {
    throw Error(
        errc::bson_type_mismatch,
        "field 'values' is " + std::string(bson::type_name(values.type())) + ", expected array");
  }
  return bson::Document(values.get_array());
}

// ---- count -------------------------------------------------------------------------------------

bson::Document make_count(std::string_view db, std::string_view collection,
                          const CountCommand& command) {
  check_not_negative("count", "skip", command.skip);
  check_not_negative("count", "limit", command.limit);
  check_not_negative("count", "max_time", command.max_time_ms);
  bson::Builder builder;
  builder.append("count", collection);
  if (command.query) builder.append("query", *command.query);
  if (command.skip) builder.append("skip", *command.skip);
  if (command.limit) builder.append("limit", *command.limit);
  if (command.collation) builder.append("collation", *command.collation);
  if (command.max_time_ms) builder.append("maxTimeMS", *command.max_time_ms);
  append_string_or_document(builder, "hint", command.hint);
  append_string_or_document(builder, "comment", command.comment);
  append_read_concern(builder, command.read_concern);
  builder.append("$db", db);
  return builder.build();
}

std::int64_t parse_count_reply(bson::View reply) {
  throw_if_command_failed(reply);
  return number_field(reply, "n");
}

bson::Document make_count_aggregate(std::string_view db, std::string_view collection,
                                    const CountAggregateCommand& command) {
  check_not_negative("count_documents", "skip", command.skip);
  check_not_negative("count_documents", "limit", command.limit);
  check_not_negative("count_documents", "max_time", command.max_time_ms);
  bson::Builder stages;
  int index = 0;
  auto next = [&index] { return std::to_string(index++); };
  stages.open_document(next()).append("$match", command.filter).close();
  if (command.skip && *command.skip > 0)
    stages.open_document(next()).append("$skip", *command.skip).close();
  if (command.limit && *command.limit > 0)
    stages.open_document(next()).append("$limit", *command.limit).close();
  stages.open_document(next())
      .open_document("$group")
      .append("_id", std::int32_t{1})
      .open_document("n")
      .append("$sum", std::int32_t{1})
      .close()
      .close()
      .close();
  const bson::Document pipeline = stages.build();

  AggregateCommand aggregate;
  aggregate.pipeline = pipeline.view();
  aggregate.collation = command.collation;
  aggregate.max_time_ms = command.max_time_ms;
  aggregate.hint = command.hint;
  aggregate.comment = command.comment;
  aggregate.read_concern = command.read_concern;
  return make_aggregate(db, collection, aggregate);  // nothing left for it to refuse
}

std::int64_t parse_count_aggregate_reply(bson::View reply) {
  CursorReply cursor = parse_cursor_reply(reply);
  auto first = cursor.batch.begin();
  if (first == cursor.batch.end()) return 0;  // $group yields nothing when nothing matched
  return number_field((*first).get_document(), "n");
}

}  // namespace mongoslice::wire
