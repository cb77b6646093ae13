#include "driver/collection.hpp"

#include <deque>
#include <type_traits>
#include <variant>

#include "driver/client_core.hpp"
#include "driver/engines.hpp"
#include "driver/names.hpp"
#include "ops/bulk_write_op.hpp"
#include "ops/catalog_operations.hpp"
#include "ops/commands.hpp"
#include "ops/write_ops.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

// The document with an _id in front when it has none.
bson::Document with_id(bson::View document) {
  if (document.contains("_id")) return bson::Document(document);
  bson_oid_t oid;
  bson_oid_init(&oid, nullptr);
  return bson::Builder{}.append("_id", oid).concat(document).build();
}

bson::Document id_of(bson::View document) {
  return bson::Builder{}.append("_id", document["_id"]).build();
}

wire::StringOrDocumentView view_of(
    const std::optional<std::variant<std::string, bson::Document>>& v) {
  if (!v) return std::monostate{};
  if (const auto* text = std::get_if<std::string>(&*v)) return std::string_view(*text);
  return std::get<bson::Document>(*v).view();
}

std::optional<bson::View> view_of(const std::optional<bson::Document>& document) {
  if (!document) return std::nullopt;
  return document->view();
}

// The statements of a write and the bytes they point into (a deque: its elements never move).
struct Statements {
  std::deque<bson::Document> owned;
  std::vector<ops::WriteStatement> list;

  void add(ops::StatementKind kind, bson::View statement) { list.push_back({kind, statement}); }
  void add(ops::StatementKind kind, bson::Document statement) {
    owned.push_back(std::move(statement));
    list.push_back({kind, owned.back().view()});
  }
  // An insert: the document as it is when it has an _id, else a copy with one.
  void add_insert(bson::View document) {
    if (document.contains("_id")) {
      add(ops::StatementKind::kInsert, document);
    } else {
      add(ops::StatementKind::kInsert, with_id(document));
    }
  }
  void add_update(bson::View filter, bson::View update, wire::UpdateKind kind, bool multi,
                  bool upsert, const std::vector<bson::Document>* array_filters,
                  const std::optional<bson::Document>& collation, const std::optional<Hint>& hint) {
    std::vector<bson::View> filters;
    if (array_filters) {
      for (const auto& f : *array_filters) filters.push_back(f.view());
    }
    wire::UpdateStatement statement;
    statement.filter = filter;
    statement.update = update;
    statement.upsert = upsert;
    statement.multi = multi;
    statement.array_filters = filters;
    statement.collation = view_of(collation);
    statement.hint = view_of(hint);
    add(kind == wire::UpdateKind::kReplacement ? ops::StatementKind::kReplace
                                               : ops::StatementKind::kUpdate,
        wire::make_update_statement(statement, kind));  // validates the update
  }
  void add_delete(bson::View filter, bool just_one, const DeleteOptions& o) {
    wire::DeleteStatement statement;
    statement.filter = filter;
    statement.just_one = just_one;
    statement.collation = view_of(o.collation);
    statement.hint = view_of(o.hint);
    add(ops::StatementKind::kDelete, wire::make_delete_statement(statement));
  }
};

// Runs the statements as one BulkWrite on the engine; throws BulkWriteError when the server
// reported write errors or write-concern errors.
template <typename Engine>
typename Engine::template Task<BulkWriteResult> run_bulk(Engine engine, std::string_view db,
                                                         std::string_view collection,
                                                         Statements statements,
                                                         wire::WriteCommandOptions options) {
  ops::BulkWrite op(db, collection, std::move(statements.list), options);
  auto ran = co_await engine.execute(op);
  ops::BulkWriteOutcome outcome = std::move(ran.result);
  if (outcome.has_errors()) {
    throw BulkWriteError(std::move(outcome.write_errors), std::move(outcome.write_concern_errors),
                         std::move(outcome.result));
  }
  co_return std::move(outcome.result);
}

UpdateResult to_update_result(BulkWriteResult result) {
  UpdateResult out;
  out.matched_count = result.matched_count;
  out.modified_count = result.modified_count;
  out.upserted_count = result.upserted_count;
  if (!result.upserted_ids.empty())
    out.upserted_id = std::move(result.upserted_ids.begin()->second);
  out.acknowledged = result.acknowledged;
  return out;
}

}  // namespace

Collection::Collection(std::shared_ptr<ClientCore> core, std::string db, std::string_view name,
                       HandleOptions options)
    : core_(std::move(core)), db_(std::move(db)), name_(name), options_(std::move(options)) {
  check_database_name(db_);
  check_collection_name(name_);
}

std::optional<boost::asio::any_io_executor> Collection::async_executor() const {
  return core_->async_executor();
}

Collection Collection::with_options(const HandleOptions& overrides) const {
  Collection copy(core_, db_, name_, options_.merged_with(overrides));
  copy.session_ = session_;
  return copy;
}

// What update_one, update_many and replace_one share.
struct Collection::UpdateCall {
  bson::View filter;
  bson::View update;
  wire::UpdateKind kind;
  bool multi;
  bool upsert;
  const std::vector<bson::Document>* array_filters;  // nullptr: none
  const std::optional<bson::Document>& collation;
  const std::optional<Hint>& hint;
  const std::optional<bool>& bypass_document_validation;
  const std::optional<bson::Document>& let;
  const std::optional<Comment>& comment;
};

// The bodies of the operations, each written once for both engines (driver/engines.hpp).
struct CollectionWriteBodies {
  template <typename Engine>
  static typename Engine::template Task<InsertOneResult> insert_one(
      Engine engine, const Collection& self, bson::View document, const InsertOneOptions& options) {
    Statements statements;
    statements.add_insert(document);
    InsertOneResult out{id_of(statements.list.front().statement)};
    wire::WriteCommandOptions command;
    command.comment = view_of(options.comment);
    command.bypass_document_validation = options.bypass_document_validation;
    command.write_concern = self.write_concern();
    BulkWriteResult result =
        co_await run_bulk(engine, self.db_, self.name_, std::move(statements), command);
    out.acknowledged = result.acknowledged;
    co_return out;
  }

  template <typename Engine>
  static typename Engine::template Task<InsertManyResult> insert_many(
      Engine engine, const Collection& self, std::span<const bson::View> documents,
      const InsertManyOptions& options) {
    if (documents.empty()) throw Error(errc::invalid_argument, "insert_many of no documents");
    Statements statements;
    statements.list.reserve(documents.size());
    for (bson::View d : documents) statements.add_insert(d);
    InsertManyResult out;
    for (std::size_t i = 0; i < statements.list.size(); ++i)
      out.inserted_ids.emplace(static_cast<std::int64_t>(i), id_of(statements.list[i].statement));
    wire::WriteCommandOptions command;
    command.ordered = options.ordered;
    command.comment = view_of(options.comment);
    command.bypass_document_validation = options.bypass_document_validation;
    command.write_concern = self.write_concern();
    BulkWriteResult result =
        co_await run_bulk(engine, self.db_, self.name_, std::move(statements), command);
    out.inserted_count = result.inserted_count;
    out.acknowledged = result.acknowledged;
    co_return out;
  }

  template <typename Engine>
  static typename Engine::template Task<BulkWriteResult> bulk_write(
      Engine engine, const Collection& self, std::span<const WriteModel> requests,
      const BulkWriteOptions& options);

  template <typename Engine>
  static typename Engine::template Task<UpdateResult> update(Engine engine, const Collection& self,
                                                             const Collection::UpdateCall& call) {
    Statements statements;
    statements.add_update(call.filter, call.update, call.kind, call.multi, call.upsert,
                          call.array_filters, call.collation, call.hint);
    wire::WriteCommandOptions options;
    options.let = view_of(call.let);
    options.comment = view_of(call.comment);
    options.bypass_document_validation = call.bypass_document_validation;
    options.write_concern = self.write_concern();
    co_return to_update_result(
        co_await run_bulk(engine, self.db_, self.name_, std::move(statements), options));
  }

  template <typename Engine>
  static typename Engine::template Task<DeleteResult> remove(Engine engine, const Collection& self,
                                                             bson::View filter, bool just_one,
                                                             const DeleteOptions& o) {
    Statements statements;
    statements.add_delete(filter, just_one, o);
    wire::WriteCommandOptions options;
    options.let = view_of(o.let);
    options.comment = view_of(o.comment);
    options.write_concern = self.write_concern();
    BulkWriteResult result =
        co_await run_bulk(engine, self.db_, self.name_, std::move(statements), options);
    co_return DeleteResult{result.deleted_count, result.acknowledged};
  }
};

InsertOneResult Collection::insert_one(bson::View document, const InsertOneOptions& options) const {
  return CollectionWriteBodies::insert_one(SyncEngine{*core_, session_.get()}, *this, document,
                                           options)
      .run_now();
}

boost::asio::awaitable<InsertOneResult> Collection::co_insert_one(Collection self,
                                                                  bson::View document,
                                                                  InsertOneOptions options) {
  co_return co_await CollectionWriteBodies::insert_one(AsyncEngine{self.core_, self.session_}, self,
                                                       document, options);
}

InsertManyResult Collection::insert_many(const std::vector<bson::Document>& documents,
                                         const InsertManyOptions& options) const {
  std::vector<bson::View> views;
  views.reserve(documents.size());
  for (const auto& d : documents) views.push_back(d.view());
  return insert_many(views, options);
}

InsertManyResult Collection::insert_many(std::span<const bson::View> documents,
                                         const InsertManyOptions& options) const {
  return CollectionWriteBodies::insert_many(SyncEngine{*core_, session_.get()}, *this, documents,
                                            options)
      .run_now();
}

boost::asio::awaitable<InsertManyResult> Collection::co_insert_many(
    Collection self, std::vector<bson::Document> documents, InsertManyOptions options) {
  std::vector<bson::View> views;
  views.reserve(documents.size());
  for (const auto& d : documents) views.push_back(d.view());
  co_return co_await CollectionWriteBodies::insert_many(AsyncEngine{self.core_, self.session_},
                                                        self, views, options);
}

BulkWriteResult Collection::bulk_write(const std::vector<WriteModel>& requests,
                                       const BulkWriteOptions& options) const {
  return bulk_write(std::span<const WriteModel>(requests), options);
}

template <typename Engine>
typename Engine::template Task<BulkWriteResult> CollectionWriteBodies::bulk_write(
    Engine engine, const Collection& self, std::span<const WriteModel> requests,
    const BulkWriteOptions& options) {
  if (requests.empty()) throw Error(errc::invalid_argument, "bulk_write of no requests");
  Statements statements;
  statements.list.reserve(requests.size());
  for (const WriteModel& request : requests) {
    std::visit(
        [&](const auto& m) {
          using Model = std::decay_t<decltype(m)>;
          if constexpr (std::is_same_v<Model, InsertOneModel>) {
            statements.add_insert(m.document.view());
          } else if constexpr (std::is_same_v<Model, UpdateOneModel> ||
                               std::is_same_v<Model, UpdateManyModel>) {
            statements.add_update(m.filter.view(), m.update.view(), wire::UpdateKind::kUpdate,
                                  std::is_same_v<Model, UpdateManyModel>, m.options.upsert,
                                  &m.options.array_filters, m.options.collation, m.options.hint);
          } else if constexpr (std::is_same_v<Model, ReplaceOneModel>) {
            statements.add_update(m.filter.view(), m.replacement.view(),
                                  wire::UpdateKind::kReplacement, false, m.options.upsert, nullptr,
                                  m.options.collation, m.options.hint);
          } else {
            statements.add_delete(m.filter.view(), std::is_same_v<Model, DeleteOneModel>,
                                  m.options);
          }
        },
        request);
  }
  wire::WriteCommandOptions command;
  command.ordered = options.ordered;
  command.let = view_of(options.let);
  command.comment = view_of(options.comment);
  command.bypass_document_validation = options.bypass_document_validation;
  command.write_concern = self.write_concern();
  co_return co_await run_bulk(engine, self.db_, self.name_, std::move(statements), command);
}

BulkWriteResult Collection::bulk_write(std::span<const WriteModel> requests,
                                       const BulkWriteOptions& options) const {
  return CollectionWriteBodies::bulk_write(SyncEngine{*core_, session_.get()}, *this, requests,
                                           options)
      .run_now();
}

boost::asio::awaitable<BulkWriteResult> Collection::co_bulk_write(Collection self,
                                                                  std::vector<WriteModel> requests,
                                                                  BulkWriteOptions options) {
  co_return co_await CollectionWriteBodies::bulk_write(
      AsyncEngine{self.core_, self.session_}, self, std::span<const WriteModel>(requests), options);
}

UpdateResult Collection::run_update(const UpdateCall& call) const {
  return CollectionWriteBodies::update(SyncEngine{*core_, session_.get()}, *this, call).run_now();
}

UpdateResult Collection::update_one(bson::View filter, bson::View update,
                                    const UpdateOptions& o) const {
  return run_update({filter, update, wire::UpdateKind::kUpdate, false, o.upsert, &o.array_filters,
                     o.collation, o.hint, o.bypass_document_validation, o.let, o.comment});
}

UpdateResult Collection::update_many(bson::View filter, bson::View update,
                                     const UpdateOptions& o) const {
  return run_update({filter, update, wire::UpdateKind::kUpdate, true, o.upsert, &o.array_filters,
                     o.collation, o.hint, o.bypass_document_validation, o.let, o.comment});
}

UpdateResult Collection::replace_one(bson::View filter, bson::View replacement,
                                     const ReplaceOptions& o) const {
  return run_update({filter, replacement, wire::UpdateKind::kReplacement, false, o.upsert, nullptr,
                     o.collation, o.hint, o.bypass_document_validation, o.let, o.comment});
}

DeleteResult Collection::run_delete(bson::View filter, bool just_one,
                                    const DeleteOptions& o) const {
  return CollectionWriteBodies::remove(SyncEngine{*core_, session_.get()}, *this, filter, just_one,
                                       o)
      .run_now();
}

DeleteResult Collection::delete_one(bson::View filter, const DeleteOptions& options) const {
  return run_delete(filter, true, options);
}

DeleteResult Collection::delete_many(bson::View filter, const DeleteOptions& options) const {
  return run_delete(filter, false, options);
}

boost::asio::awaitable<UpdateResult> Collection::co_update(Collection self, bson::View filter,
                                                           bson::View update, UpdateOptions o,
                                                           bool multi) {
  co_return co_await CollectionWriteBodies::update(
      AsyncEngine{self.core_, self.session_}, self,
      {filter, update, wire::UpdateKind::kUpdate, multi, o.upsert, &o.array_filters, o.collation,
       o.hint, o.bypass_document_validation, o.let, o.comment});
}

boost::asio::awaitable<UpdateResult> Collection::co_replace_one(Collection self, bson::View filter,
                                                                bson::View replacement,
                                                                ReplaceOptions o) {
  co_return co_await CollectionWriteBodies::update(
      AsyncEngine{self.core_, self.session_}, self,
      {filter, replacement, wire::UpdateKind::kReplacement, false, o.upsert, nullptr, o.collation,
       o.hint, o.bypass_document_validation, o.let, o.comment});
}

boost::asio::awaitable<DeleteResult> Collection::co_delete(Collection self, bson::View filter,
                                                           DeleteOptions options, bool just_one) {
  co_return co_await CollectionWriteBodies::remove(AsyncEngine{self.core_, self.session_}, self,
                                                   filter, just_one, options);
}

namespace {

// A missing collection is already dropped. Servers say so with NamespaceNotFound (26); older
// ones and mongo-java-server may give only the message.
bool already_dropped(const ServerError& e) {
  return e.server_code() == server_code::kNamespaceNotFound ||
         e.errmsg().find("ns not found") != std::string::npos;
}

template <typename Engine>
typename Engine::template Task<Unit> drop_body(Engine engine, const std::string& db,
                                               const std::string& name,
                                               const WriteConcern& write_concern) {
  try {
    auto op = ops::drop_collection_operation(db, name, write_concern);
    co_await engine.execute(op);
  } catch (const ServerError& e) {
    if (!already_dropped(e)) throw;
  }
  co_return Unit{};
}

}  // namespace

void Collection::drop() const {
  drop_body(SyncEngine{*core_, session_.get()}, db_, name_, write_concern()).run_now();
}

boost::asio::awaitable<void> Collection::co_drop(Collection self) {
  co_await drop_body(AsyncEngine{self.core_, self.session_}, self.db_, self.name_,
                     self.write_concern());
}

}  // namespace mongoslice
