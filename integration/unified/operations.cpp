#include "unified/operations.hpp"

#include <functional>
#include <initializer_list>
#include <map>
#include <type_traits>
#include <utility>

#include "unified/api_mode.hpp"
#include "unified/arguments.hpp"
#include "unified/skips.hpp"

// Operations of driver/collection.hpp and driver/database.hpp whose implementation is committed
// (1) or not yet (0: the call would not link; skips.hpp lists them as not built). Flip a flag
// and remove its line from kNotBuiltOperations when the implementation lands.
#define MONGOSLICE_UNIFIED_HAVE_AGGREGATE 1
#define MONGOSLICE_UNIFIED_HAVE_DISTINCT 1
#define MONGOSLICE_UNIFIED_HAVE_ESTIMATED_COUNT 1
#define MONGOSLICE_UNIFIED_HAVE_FIND_ONE_AND 1
#define MONGOSLICE_UNIFIED_HAVE_BULK_WRITE 1
#define MONGOSLICE_UNIFIED_HAVE_INDEXES 1

namespace mongoslice::unified {

namespace {

using Handler = std::function<OperationResult(EntityMap&, const std::string&, bson::View)>;

Value documents_value(Cursor cursor) {
  std::vector<bson::Document> docs;
  while (auto d = next_document(cursor)) docs.emplace_back(*d);
  return array_of(docs);
}

// insert_one's result as the CRUD spec shapes it ({insertedId}), whatever mongoslice's return
// type is (the document {_id} today, InsertOneResult with inserted_id {_id} later).
template <typename R>
Value insert_one_result(const R& r) {
  if constexpr (std::is_same_v<R, bson::Document>) {
    return Value::of_document(bson::Builder{}.append("insertedId", r["_id"]).build());
  } else {
    return Value::of_document(bson::Builder{}.append("insertedId", r.inserted_id["_id"]).build());
  }
}

// insert_many's result: {insertedCount} from a count, or {insertedCount, insertedIds} from an
// InsertManyResult.
template <typename R>
Value insert_many_result(const R& r) {
  if constexpr (std::is_integral_v<R>) {
    return Value::of_document(
        bson::Builder{}.append("insertedCount", static_cast<std::int64_t>(r)).build());
  } else {
    bson::Builder b;
    b.append("insertedCount", r.inserted_count);
    b.open_document("insertedIds");
    for (const auto& [index, id] : r.inserted_ids) b.append(std::to_string(index), id["_id"]);
    b.close();
    return Value::of_document(b.build());
  }
}

Value update_result(const UpdateResult& r) {
  bson::Builder b;
  b.append("matchedCount", r.matched_count)
      .append("modifiedCount", r.modified_count)
      .append("upsertedCount", r.upserted_count);
  if (r.upserted_id) b.append("upsertedId", (*r.upserted_id)["_id"]);
  return Value::of_document(b.build());
}

Value delete_result(const DeleteResult& r) {
  return Value::of_document(bson::Builder{}.append("deletedCount", r.deleted_count).build());
}

ReadPreference read_preference_of(bson::View doc, const std::string& where) {
  ReadPreference rp;
  const std::string mode = required_string(doc, "mode", where);
  auto parsed = parse_read_preference_mode(mode);
  if (!parsed) throw TestFailure(where + ": unknown read preference mode '" + mode + "'");
  rp.mode = *parsed;
  for (bson::Element field : doc) {
    const std::string_view key = field.key();
    if (key == "mode") continue;
    if (key == "tagSets" && field.type() == bson::Type::kArray) {
      for (bson::Element tags : field.get_array()) rp.tag_sets.emplace_back(tags.get_document());
    } else if (key == "maxStalenessSeconds" && is_plain_number(field)) {
      rp.max_staleness = std::chrono::seconds(field.as_int64());
    } else {
      throw Unsupported(where + ": read preference field '" + std::string(key) + "'");
    }
  }
  return rp;
}

// ---- client --------------------------------------------------------------------------------

OperationResult list_databases(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "listDatabases",
         {"filter", "nameOnly", "authorizedDatabases", "comment", "session"});
  ListDatabasesOptions o;
  o.filter = a.document("filter");
  o.name_only = a.boolean("nameOnly").value_or(false);
  o.authorized_databases = a.boolean("authorizedDatabases").value_or(false);
  if (auto c = a.take("comment")) {
    if (c->type() != bson::Type::kString) throw Unsupported("listDatabases: a non-string comment");
    o.comment = std::string(c->get_string());
  }
  a.finish();
  return array_of(MONGOSLICE_UNIFIED_CALL(*e.client(object).client, list_databases, o));
}

OperationResult list_database_names(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "listDatabaseNames", {"filter", "authorizedDatabases", "comment", "session"});
  a.finish();
  bson::Builder b;
  b.open_array("v");
  for (const auto& name : MONGOSLICE_UNIFIED_CALL(*e.client(object).client, list_database_names))
    b.append_value(name);
  b.close();
  return Value(b.build()["v"]);
}

// ---- database ------------------------------------------------------------------------------

OperationResult run_command(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "runCommand", {"commandName", "command", "readPreference", "session"});
  const std::string name = a.required_string("commandName");
  const bson::Document command = a.required_document("command");
  auto rp = a.document("readPreference");
  a.finish();
  if (command.view().empty() || (*command.begin()).key() != name) {
    throw TestFailure("runCommand: commandName '" + name + "' is not the command's first key");
  }
  const Database& db = e.database(object);
  if (rp) {
    const ReadPreference preference = read_preference_of(*rp, "runCommand");
    return Value::of_document(MONGOSLICE_UNIFIED_CALL(db, run_command, command, preference));
  }
  return Value::of_document(MONGOSLICE_UNIFIED_CALL(db, run_command, command));
}

OperationResult create_collection(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "createCollection",
         {"collection",
          "session",
          "capped",
          "size",
          "max",
          "validator",
          "validationLevel",
          "validationAction",
          "collation",
          "comment",
          "timeseries",
          "expireAfterSeconds",
          "clusteredIndex",
          "changeStreamPreAndPostImages",
          "encryptedFields",
          "viewOn",
          "pipeline",
          "storageEngine",
          "indexOptionDefaults",
          "autoIndexId"});
  const std::string name = a.required_string("collection");
  CreateCollectionOptions o;
  o.capped = a.boolean("capped");
  o.size = a.integer("size");
  o.max = a.integer("max");
  o.validator = a.document("validator");
  o.validation_level = a.string("validationLevel");
  o.validation_action = a.string("validationAction");
  o.collation = a.document("collation");
  o.comment = a.string("comment");
  a.finish();
  MONGOSLICE_UNIFIED_CALL(e.database(object), create_collection, name, o);
  return std::nullopt;
}

OperationResult drop_collection(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "dropCollection",
         {"collection", "session", "encryptedFields", "comment", "rawData"});
  const std::string name = a.required_string("collection");
  a.finish();
  const Collection collection = e.database(object).collection(name);
  MONGOSLICE_UNIFIED_CALL(collection, drop);
  return std::nullopt;
}

OperationResult list_collections(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "listCollections",
         {"filter", "batchSize", "nameOnly", "authorizedCollections", "comment", "session",
          "timeoutMode", "rawData"});
  ListCollectionsOptions o;
  o.filter = a.document("filter");
  o.batch_size = static_cast<std::int32_t>(a.integer("batchSize").value_or(0));
  o.name_only = a.boolean("nameOnly").value_or(false);
  o.authorized_collections = a.boolean("authorizedCollections").value_or(false);
  if (auto c = a.take("comment")) {
    if (c->type() != bson::Type::kString)
      throw Unsupported("listCollections: a non-string comment");
    o.comment = std::string(c->get_string());
  }
  a.finish();
  return documents_value(MONGOSLICE_UNIFIED_CALL(e.database(object), list_collections, o));
}

OperationResult list_collection_names(EntityMap& e, const std::string& object,
                                      bson::View arguments) {
  Args a(arguments, "listCollectionNames",
         {"filter", "batchSize", "authorizedCollections", "comment", "session"});
  auto filter = a.document("filter");
  a.finish();
  bson::Builder b;
  b.open_array("v");
  const bson::Document names_filter = filter.value_or(bson::Document());
  for (const auto& name :
       MONGOSLICE_UNIFIED_CALL(e.database(object), list_collection_names, names_filter))
    b.append_value(name);
  b.close();
  return Value(b.build()["v"]);
}

// ---- collection: writes ----------------------------------------------------------------------

OperationResult insert_one(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "insertOne",
         {"document", "session", "bypassDocumentValidation", "comment", "rawData"});
  const bson::Document doc = a.required_document("document");
  InsertOneOptions o;
  o.bypass_document_validation = a.boolean("bypassDocumentValidation");
  o.comment = a.comment("comment");
  a.finish();
  return insert_one_result(MONGOSLICE_UNIFIED_CALL(e.collection(object), insert_one, doc, o));
}

OperationResult insert_many(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "insertMany",
         {"documents", "ordered", "session", "bypassDocumentValidation", "comment", "rawData"});
  const auto docs = a.required_documents("documents");
  InsertManyOptions o;
  o.ordered = a.boolean("ordered").value_or(true);
  o.bypass_document_validation = a.boolean("bypassDocumentValidation");
  o.comment = a.comment("comment");
  a.finish();
  return insert_many_result(MONGOSLICE_UNIFIED_CALL(e.collection(object), insert_many, docs, o));
}

UpdateOptions update_options(Args& a) {
  UpdateOptions o;
  o.upsert = a.boolean("upsert").value_or(false);
  if (auto filters = a.documents("arrayFilters")) o.array_filters = std::move(*filters);
  o.collation = a.document("collation");
  o.hint = a.hint("hint");
  o.bypass_document_validation = a.boolean("bypassDocumentValidation");
  o.let = a.document("let");
  o.comment = a.comment("comment");
  return o;
}

OperationResult update(EntityMap& e, const std::string& object, bson::View arguments, bool many) {
  Args a(arguments, many ? "updateMany" : "updateOne",
         {"filter", "update", "upsert", "arrayFilters", "collation", "hint",
          "bypassDocumentValidation", "let", "comment", "session", "sort", "timeoutMS", "rawData"});
  const bson::Document filter = a.required_document("filter");
  const bson::Document update = a.required_document_or_array("update");
  const UpdateOptions o = update_options(a);
  a.finish();
  const Collection& c = e.collection(object);
  if (many) return update_result(MONGOSLICE_UNIFIED_CALL(c, update_many, filter, update, o));
  return update_result(MONGOSLICE_UNIFIED_CALL(c, update_one, filter, update, o));
}

OperationResult replace_one(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "replaceOne",
         {"filter", "replacement", "upsert", "collation", "hint", "bypassDocumentValidation", "let",
          "comment", "session", "sort", "timeoutMS", "rawData"});
  const bson::Document filter = a.required_document("filter");
  const bson::Document replacement = a.required_document("replacement");
  ReplaceOptions o;
  o.upsert = a.boolean("upsert").value_or(false);
  o.collation = a.document("collation");
  o.hint = a.hint("hint");
  o.bypass_document_validation = a.boolean("bypassDocumentValidation");
  o.let = a.document("let");
  o.comment = a.comment("comment");
  a.finish();
  return update_result(
      MONGOSLICE_UNIFIED_CALL(e.collection(object), replace_one, filter, replacement, o));
}

OperationResult delete_op(EntityMap& e, const std::string& object, bson::View arguments,
                          bool many) {
  Args a(arguments, many ? "deleteMany" : "deleteOne",
         {"filter", "collation", "hint", "let", "comment", "session", "timeoutMS", "rawData"});
  const bson::Document filter = a.required_document("filter");
  DeleteOptions o;
  o.collation = a.document("collation");
  o.hint = a.hint("hint");
  o.let = a.document("let");
  o.comment = a.comment("comment");
  a.finish();
  const Collection& c = e.collection(object);
  if (many) return delete_result(MONGOSLICE_UNIFIED_CALL(c, delete_many, filter, o));
  return delete_result(MONGOSLICE_UNIFIED_CALL(c, delete_one, filter, o));
}

// ---- collection: reads -----------------------------------------------------------------------

// find's and createFindCursor's arguments (the CRUD spec's find options).
const std::initializer_list<std::string_view> kFindArguments = {"filter",
                                                                "sort",
                                                                "projection",
                                                                "skip",
                                                                "limit",
                                                                "batchSize",
                                                                "session",
                                                                "comment",
                                                                "hint",
                                                                "collation",
                                                                "let",
                                                                "allowDiskUse",
                                                                "maxTimeMS",
                                                                "min",
                                                                "max",
                                                                "returnKey",
                                                                "showRecordId",
                                                                "noCursorTimeout",
                                                                "allowPartialResults",
                                                                "cursorType",
                                                                "maxAwaitTimeMS",
                                                                "timeoutMode",
                                                                "timeoutMS",
                                                                "singleBatch",
                                                                "oplogReplay",
                                                                "maxScan",
                                                                "snapshot",
                                                                "modifiers",
                                                                "rawData"};

FindOptions find_options(Args& a) {
  FindOptions o;
  o.sort = a.document("sort");
  o.projection = a.document("projection");
  o.skip = a.integer("skip").value_or(0);
  o.limit = a.integer("limit").value_or(0);
  o.batch_size = static_cast<std::int32_t>(a.integer("batchSize").value_or(0));
  o.hint = a.hint("hint");
  o.comment = a.comment("comment");
  o.max_time = a.millis("maxTimeMS");
  o.collation = a.document("collation");
  o.allow_disk_use = a.boolean("allowDiskUse");
  o.let = a.document("let");
  o.min = a.document("min");
  o.max = a.document("max");
  o.return_key = a.boolean("returnKey");
  o.show_record_id = a.boolean("showRecordId");
  o.no_cursor_timeout = a.boolean("noCursorTimeout");
  o.allow_partial_results = a.boolean("allowPartialResults");
  return o;
}

OperationResult find(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "find", kFindArguments);
  const bson::Document filter = a.required_document("filter");
  const FindOptions o = find_options(a);
  a.finish();
  return documents_value(MONGOSLICE_UNIFIED_CALL(e.collection(object), find, filter, o));
}

// ---- cursors -------------------------------------------------------------------------------

// createFindCursor: the cursor becomes the entity saveResultAsEntity names (the runner takes it
// from EntityMap::take_made_cursor).
OperationResult create_find_cursor(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "createFindCursor", kFindArguments);
  const bson::Document filter = a.required_document("filter");
  const FindOptions o = find_options(a);
  a.finish();
  e.set_made_cursor(MONGOSLICE_UNIFIED_CALL(e.collection(object), find, filter, o));
  return std::nullopt;
}

// runCursorCommand's and createCommandCursor's arguments, as run_cursor_command takes them.
struct CursorCommand {
  bson::Document command;
  RunCursorCommandOptions options;
};

CursorCommand cursor_command(bson::View arguments, const std::string& operation) {
  Args a(arguments, operation,
         {"commandName", "command", "readPreference", "session", "batchSize", "maxTimeMS",
          "comment", "cursorType", "timeoutMode", "timeoutMS"});
  const std::string name = a.required_string("commandName");
  CursorCommand out{a.required_document("command"), {}};
  if (out.command.view().empty() || (*out.command.begin()).key() != name) {
    throw TestFailure(operation + ": commandName '" + name + "' is not the command's first key");
  }
  if (auto rp = a.document("readPreference")) {
    out.options.read_preference = read_preference_of(*rp, operation);
  }
  if (auto n = a.integer("batchSize")) out.options.batch_size = static_cast<std::int32_t>(*n);
  out.options.max_time = a.millis("maxTimeMS");
  out.options.comment = a.comment("comment");
  if (auto type = a.string("cursorType")) {
    if (*type == "tailable" || *type == "tailableAwait") {
      throw Unsupported(operation + ": cursorType " + *type +
                        ": tailable cursors are not built in mongoslice");
    }
    if (*type != "nonTailable") {
      throw TestFailure(operation + ": unknown cursorType '" + *type + "'");
    }
  }
  a.finish();
  return out;
}

OperationResult run_cursor_command(EntityMap& e, const std::string& object, bson::View arguments) {
  const CursorCommand c = cursor_command(arguments, "runCursorCommand");
  return documents_value(
      MONGOSLICE_UNIFIED_CALL(e.database(object), run_cursor_command, c.command, c.options));
}

OperationResult create_command_cursor(EntityMap& e, const std::string& object,
                                      bson::View arguments) {
  const CursorCommand c = cursor_command(arguments, "createCommandCursor");
  e.set_made_cursor(
      MONGOSLICE_UNIFIED_CALL(e.database(object), run_cursor_command, c.command, c.options));
  return std::nullopt;
}

// iterateUntilDocumentOrError: the next document; at the end of a (non-tailable) cursor there
// is none to wait for, which fails the test rather than waiting forever.
OperationResult iterate_until_document_or_error(EntityMap& e, const std::string& object,
                                                bson::View arguments) {
  Args a(arguments, "iterateUntilDocumentOrError", {});
  a.finish();
  auto doc = e.cursor(object).next();
  if (!doc) {
    throw TestFailure("iterateUntilDocumentOrError: cursor '" + object +
                      "' is exhausted (a non-tailable cursor gets no more documents)");
  }
  return Value::of_document(*doc);
}

// iterateOnce: one step (a getMore when the batch is used up); a document it moves to is not
// returned, and an exhausted cursor stays exhausted.
OperationResult iterate_once(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "iterateOnce", {});
  a.finish();
  (void)e.cursor(object).next();
  return std::nullopt;
}

OperationResult close_cursor(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "close", {});
  a.finish();
  e.cursor(object).cursor.close();
  return std::nullopt;
}

OperationResult count_documents(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "countDocuments",
         {"filter", "skip", "limit", "collation", "hint", "maxTimeMS", "comment", "session",
          "timeoutMS", "rawData"});
  const bson::Document filter = a.required_document("filter");
  CountOptions o;
  o.skip = a.integer("skip");
  o.limit = a.integer("limit");
  o.collation = a.document("collation");
  o.hint = a.hint("hint");
  o.max_time = a.millis("maxTimeMS");
  o.comment = a.comment("comment");
  a.finish();
  return Value::of(MONGOSLICE_UNIFIED_CALL(e.collection(object), count_documents, filter, o));
}

#if MONGOSLICE_UNIFIED_HAVE_ESTIMATED_COUNT
OperationResult estimated_document_count(EntityMap& e, const std::string& object,
                                         bson::View arguments) {
  Args a(arguments, "estimatedDocumentCount",
         {"maxTimeMS", "comment", "session", "timeoutMS", "rawData"});
  EstimatedDocumentCountOptions o;
  o.max_time = a.millis("maxTimeMS");
  o.comment = a.comment("comment");
  a.finish();
  return Value::of(MONGOSLICE_UNIFIED_CALL(e.collection(object), estimated_document_count, o));
}
#endif

#if MONGOSLICE_UNIFIED_HAVE_DISTINCT
OperationResult distinct(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "distinct",
         {"fieldName", "filter", "collation", "maxTimeMS", "comment", "hint", "session",
          "timeoutMS", "rawData"});
  const std::string field = a.required_string("fieldName");
  const bson::Document filter = a.required_document("filter");
  DistinctOptions o;
  o.collation = a.document("collation");
  o.max_time = a.millis("maxTimeMS");
  o.comment = a.comment("comment");
  o.hint = a.hint("hint");
  a.finish();
  const bson::Document values =
      MONGOSLICE_UNIFIED_CALL(e.collection(object), distinct, field, filter, o);
  return Value::of_array(values);
}
#endif

#if MONGOSLICE_UNIFIED_HAVE_AGGREGATE
AggregateOptions aggregate_options(Args& a) {
  AggregateOptions o;
  o.allow_disk_use = a.boolean("allowDiskUse");
  o.batch_size = static_cast<std::int32_t>(a.integer("batchSize").value_or(0));
  o.bypass_document_validation = a.boolean("bypassDocumentValidation");
  o.collation = a.document("collation");
  o.max_time = a.millis("maxTimeMS");
  o.max_await_time = a.millis("maxAwaitTimeMS");
  o.hint = a.hint("hint");
  o.let = a.document("let");
  o.comment = a.comment("comment");
  return o;
}

OperationResult aggregate(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "aggregate",
         {"pipeline", "allowDiskUse", "batchSize", "bypassDocumentValidation", "collation",
          "maxTimeMS", "maxAwaitTimeMS", "hint", "let", "comment", "session", "timeoutMS",
          "timeoutMode", "rawData"});
  const bson::Document pipeline = a.required_array("pipeline");
  const AggregateOptions o = aggregate_options(a);
  a.finish();
  if (e.has_collection(object)) {
    return documents_value(MONGOSLICE_UNIFIED_CALL(e.collection(object), aggregate, pipeline, o));
  }
  return documents_value(MONGOSLICE_UNIFIED_CALL(e.database(object), aggregate, pipeline, o));
}
#endif

#if MONGOSLICE_UNIFIED_HAVE_FIND_ONE_AND
ReturnDocument return_document_of(Args& a) {
  auto text = a.string("returnDocument");
  if (!text || *text == "Before") return ReturnDocument::kBefore;
  if (*text == "After") return ReturnDocument::kAfter;
  throw TestFailure(a.operation() + ": returnDocument must be 'Before' or 'After', not '" + *text +
                    "'");
}

Value optional_document_value(const std::optional<bson::Document>& d) {
  if (!d) return Value::of(nullptr);
  return Value::of_document(*d);
}

OperationResult find_one_and_update(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "findOneAndUpdate",
         {"filter", "update", "arrayFilters", "bypassDocumentValidation", "collation", "maxTimeMS",
          "projection", "returnDocument", "sort", "upsert", "hint", "let", "comment", "session",
          "timeoutMS", "rawData"});
  const bson::Document filter = a.required_document("filter");
  const bson::Document update = a.required_document_or_array("update");
  FindOneAndUpdateOptions o;
  if (auto filters = a.documents("arrayFilters")) o.array_filters = std::move(*filters);
  o.bypass_document_validation = a.boolean("bypassDocumentValidation");
  o.collation = a.document("collation");
  o.max_time = a.millis("maxTimeMS");
  o.projection = a.document("projection");
  o.return_document = return_document_of(a);
  o.sort = a.document("sort");
  o.upsert = a.boolean("upsert").value_or(false);
  o.hint = a.hint("hint");
  o.let = a.document("let");
  o.comment = a.comment("comment");
  a.finish();
  return optional_document_value(
      MONGOSLICE_UNIFIED_CALL(e.collection(object), find_one_and_update, filter, update, o));
}

OperationResult find_one_and_replace(EntityMap& e, const std::string& object,
                                     bson::View arguments) {
  Args a(arguments, "findOneAndReplace",
         {"filter", "replacement", "bypassDocumentValidation", "collation", "maxTimeMS",
          "projection", "returnDocument", "sort", "upsert", "hint", "let", "comment", "session",
          "timeoutMS", "rawData"});
  const bson::Document filter = a.required_document("filter");
  const bson::Document replacement = a.required_document("replacement");
  FindOneAndReplaceOptions o;
  o.bypass_document_validation = a.boolean("bypassDocumentValidation");
  o.collation = a.document("collation");
  o.max_time = a.millis("maxTimeMS");
  o.projection = a.document("projection");
  o.return_document = return_document_of(a);
  o.sort = a.document("sort");
  o.upsert = a.boolean("upsert").value_or(false);
  o.hint = a.hint("hint");
  o.let = a.document("let");
  o.comment = a.comment("comment");
  a.finish();
  return optional_document_value(
      MONGOSLICE_UNIFIED_CALL(e.collection(object), find_one_and_replace, filter, replacement, o));
}

OperationResult find_one_and_delete(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "findOneAndDelete",
         {"filter", "collation", "maxTimeMS", "projection", "sort", "hint", "let", "comment",
          "session", "timeoutMS", "rawData"});
  const bson::Document filter = a.required_document("filter");
  FindOneAndDeleteOptions o;
  o.collation = a.document("collation");
  o.max_time = a.millis("maxTimeMS");
  o.projection = a.document("projection");
  o.sort = a.document("sort");
  o.hint = a.hint("hint");
  o.let = a.document("let");
  o.comment = a.comment("comment");
  a.finish();
  return optional_document_value(
      MONGOSLICE_UNIFIED_CALL(e.collection(object), find_one_and_delete, filter, o));
}
#endif

#if MONGOSLICE_UNIFIED_HAVE_BULK_WRITE
WriteModel write_model(bson::Element request, std::size_t index) {
  const std::string where = "bulkWrite request " + std::to_string(index);
  if (request.type() != bson::Type::kDocument) throw TestFailure(where + ": must be a document");
  bson::View doc = request.get_document();
  auto it = doc.begin();
  if (it == doc.end()) throw TestFailure(where + ": empty");
  bson::Element model = *it;
  if (model.type() != bson::Type::kDocument) throw TestFailure(where + ": must hold a document");
  const std::string kind(model.key());
  bson::View args = model.get_document();
  if (kind == "insertOne") {
    Args a(args, where + " insertOne", {"document"});
    InsertOneModel m{a.required_document("document")};
    a.finish();
    return m;
  }
  if (kind == "updateOne" || kind == "updateMany") {
    Args a(args, where + " " + kind,
           {"filter", "update", "upsert", "arrayFilters", "collation", "hint", "sort"});
    bson::Document filter = a.required_document("filter");
    bson::Document update = a.required_document_or_array("update");
    UpdateOptions o;
    o.upsert = a.boolean("upsert").value_or(false);
    if (auto filters = a.documents("arrayFilters")) o.array_filters = std::move(*filters);
    o.collation = a.document("collation");
    o.hint = a.hint("hint");
    a.finish();
    if (kind == "updateOne") return UpdateOneModel{std::move(filter), std::move(update), o};
    return UpdateManyModel{std::move(filter), std::move(update), o};
  }
  if (kind == "replaceOne") {
    Args a(args, where + " replaceOne",
           {"filter", "replacement", "upsert", "collation", "hint", "sort"});
    bson::Document filter = a.required_document("filter");
    bson::Document replacement = a.required_document("replacement");
    ReplaceOptions o;
    o.upsert = a.boolean("upsert").value_or(false);
    o.collation = a.document("collation");
    o.hint = a.hint("hint");
    a.finish();
    return ReplaceOneModel{std::move(filter), std::move(replacement), o};
  }
  if (kind == "deleteOne" || kind == "deleteMany") {
    Args a(args, where + " " + kind, {"filter", "collation", "hint"});
    bson::Document filter = a.required_document("filter");
    DeleteOptions o;
    o.collation = a.document("collation");
    o.hint = a.hint("hint");
    a.finish();
    if (kind == "deleteOne") return DeleteOneModel{std::move(filter), o};
    return DeleteManyModel{std::move(filter), o};
  }
  throw TestFailure(where + ": unknown write model '" + kind + "'");
}

}  // namespace

Value bulk_write_result_value(const BulkWriteResult& r) {
  bson::Builder b;
  b.append("insertedCount", r.inserted_count)
      .append("matchedCount", r.matched_count)
      .append("modifiedCount", r.modified_count)
      .append("deletedCount", r.deleted_count)
      .append("upsertedCount", r.upserted_count);
  b.open_document("upsertedIds");
  for (const auto& [index, id] : r.upserted_ids) b.append(std::to_string(index), id["_id"]);
  b.close();
  b.open_document("insertedIds");
  for (const auto& [index, id] : r.inserted_ids) b.append(std::to_string(index), id["_id"]);
  b.close();
  return Value::of_document(b.build());
}

namespace {

OperationResult bulk_write(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "bulkWrite",
         {"requests", "ordered", "bypassDocumentValidation", "let", "comment", "session",
          "timeoutMS", "rawData"});
  auto requests = a.take("requests");
  if (!requests || requests->type() != bson::Type::kArray) {
    throw TestFailure("bulkWrite: 'requests' must be an array");
  }
  std::vector<WriteModel> models;
  std::size_t i = 0;
  for (bson::Element r : requests->get_array()) models.push_back(write_model(r, i++));
  BulkWriteOptions o;
  o.ordered = a.boolean("ordered").value_or(true);
  o.bypass_document_validation = a.boolean("bypassDocumentValidation");
  o.let = a.document("let");
  o.comment = a.comment("comment");
  a.finish();
  return bulk_write_result_value(
      MONGOSLICE_UNIFIED_CALL(e.collection(object), bulk_write, models, o));
}
#endif

#if MONGOSLICE_UNIFIED_HAVE_INDEXES
OperationResult create_index(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "createIndex",
         {"keys",
          "name",
          "unique",
          "sparse",
          "hidden",
          "expireAfterSeconds",
          "partialFilterExpression",
          "collation",
          "wildcardProjection",
          "version",
          "session",
          "maxTimeMS",
          "comment",
          "commitQuorum",
          "timeoutMS",
          "background",
          "bits",
          "min",
          "max",
          "storageEngine",
          "weights",
          "default_language",
          "language_override",
          "textIndexVersion",
          "2dsphereIndexVersion",
          "bucketSize",
          "rawData"});
  const bson::Document keys = a.required_document("keys");
  IndexOptions o;
  o.name = a.string("name");
  o.unique = a.boolean("unique");
  o.sparse = a.boolean("sparse");
  o.hidden = a.boolean("hidden");
  if (auto s = a.integer("expireAfterSeconds")) o.expire_after = std::chrono::seconds(*s);
  o.partial_filter_expression = a.document("partialFilterExpression");
  o.collation = a.document("collation");
  o.wildcard_projection = a.document("wildcardProjection");
  if (auto v = a.integer("version")) o.version = static_cast<std::int32_t>(*v);
  a.finish();
  return Value::of(MONGOSLICE_UNIFIED_CALL(e.collection(object), create_index, keys, o));
}

OperationResult list_indexes(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "listIndexes", {"batchSize", "comment", "session", "timeoutMS", "rawData"});
  ListIndexesOptions o;
  o.batch_size = static_cast<std::int32_t>(a.integer("batchSize").value_or(0));
  o.comment = a.comment("comment");
  a.finish();
  return documents_value(MONGOSLICE_UNIFIED_CALL(e.collection(object), list_indexes, o));
}

OperationResult drop_index(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "dropIndex",
         {"name", "session", "maxTimeMS", "comment", "timeoutMS", "rawData"});
  const std::string name = a.required_string("name");
  DropIndexOptions o;
  o.max_time = a.millis("maxTimeMS");
  o.comment = a.comment("comment");
  a.finish();
  MONGOSLICE_UNIFIED_CALL(e.collection(object), drop_index, name, o);
  return std::nullopt;
}

OperationResult drop_indexes(EntityMap& e, const std::string& object, bson::View arguments) {
  Args a(arguments, "dropIndexes", {"session", "maxTimeMS", "comment", "timeoutMS", "rawData"});
  DropIndexOptions o;
  o.max_time = a.millis("maxTimeMS");
  o.comment = a.comment("comment");
  a.finish();
  MONGOSLICE_UNIFIED_CALL(e.collection(object), drop_indexes, o);
  return std::nullopt;
}
#endif

// (entity kind, operation name) -> handler.
const std::map<std::pair<std::string, std::string>, Handler>& handlers() {
  using namespace std::placeholders;
  static const std::map<std::pair<std::string, std::string>, Handler> table = {
    {{"client", "listDatabases"}, list_databases},
    {{"client", "listDatabaseNames"}, list_database_names},
    {{"database", "runCommand"}, run_command},
    {{"database", "createCollection"}, create_collection},
    {{"database", "dropCollection"}, drop_collection},
    {{"database", "listCollections"}, list_collections},
    {{"database", "listCollectionNames"}, list_collection_names},
    {{"collection", "insertOne"}, insert_one},
    {{"collection", "insertMany"}, insert_many},
    {{"collection", "updateOne"},
     [](EntityMap& e, const std::string& o, bson::View a) { return update(e, o, a, false); }},
    {{"collection", "updateMany"},
     [](EntityMap& e, const std::string& o, bson::View a) { return update(e, o, a, true); }},
    {{"collection", "replaceOne"}, replace_one},
    {{"collection", "deleteOne"},
     [](EntityMap& e, const std::string& o, bson::View a) { return delete_op(e, o, a, false); }},
    {{"collection", "deleteMany"},
     [](EntityMap& e, const std::string& o, bson::View a) { return delete_op(e, o, a, true); }},
    {{"collection", "find"}, find},
    {{"collection", "createFindCursor"}, create_find_cursor},
    {{"database", "runCursorCommand"}, run_cursor_command},
    {{"database", "createCommandCursor"}, create_command_cursor},
    {{"cursor", "iterateUntilDocumentOrError"}, iterate_until_document_or_error},
    {{"cursor", "iterateOnce"}, iterate_once},
    {{"cursor", "close"}, close_cursor},
    {{"collection", "countDocuments"}, count_documents},
#if MONGOSLICE_UNIFIED_HAVE_ESTIMATED_COUNT
    {{"collection", "estimatedDocumentCount"}, estimated_document_count},
#endif
#if MONGOSLICE_UNIFIED_HAVE_DISTINCT
    {{"collection", "distinct"}, distinct},
#endif
#if MONGOSLICE_UNIFIED_HAVE_AGGREGATE
    {{"collection", "aggregate"}, aggregate},
    {{"database", "aggregate"}, aggregate},
#endif
#if MONGOSLICE_UNIFIED_HAVE_FIND_ONE_AND
    {{"collection", "findOneAndUpdate"}, find_one_and_update},
    {{"collection", "findOneAndReplace"}, find_one_and_replace},
    {{"collection", "findOneAndDelete"}, find_one_and_delete},
#endif
#if MONGOSLICE_UNIFIED_HAVE_BULK_WRITE
    {{"collection", "bulkWrite"}, bulk_write},
#endif
#if MONGOSLICE_UNIFIED_HAVE_INDEXES
    {{"collection", "createIndex"}, create_index},
    {{"collection", "listIndexes"}, list_indexes},
    {{"collection", "dropIndex"}, drop_index},
    {{"collection", "dropIndexes"}, drop_indexes},
#endif
  };
  return table;
}

}  // namespace

OperationResult run_entity_operation(EntityMap& entities, const std::string& object,
                                     const std::string& name, bson::View arguments) {
  const std::string kind = entities.kind_of(object);
  if (kind.empty()) {
    throw TestFailure("operation " + name + ": no entity '" + object + "'");
  }
  if (const std::string* reason = entities.not_built(object)) {
    throw Unsupported("operation " + name + " on entity '" + object + "': " + *reason);
  }
  const auto& table = handlers();
  if (auto it = table.find({kind, name}); it != table.end()) {
    return it->second(entities, object, arguments);
  }
  if (auto reason = reason_in(kNotBuiltOperations, name); !reason.empty()) {
    throw Unsupported("operation " + name + ": " + std::string(reason));
  }
  throw TestFailure("'" + name + "' is not an operation of the unified format on a " + kind +
                    " entity");
}

std::vector<std::string> mapped_operations() {
  std::vector<std::string> out;
  for (const auto& [key, handler] : handlers()) out.push_back(key.second);
  return out;
}

}  // namespace mongoslice::unified
