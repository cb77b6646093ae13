// Collection's read operations: find, find_one, count_documents, estimated_document_count,
// distinct, aggregate and the find_one_and_* family (findAndModify). Each runs through the
// operation engine (driver/operation_engine.hpp).
#include <algorithm>
#include <limits>
#include <variant>

#include "driver/client_core.hpp"
#include "driver/collection.hpp"
#include "driver/comment_holder.hpp"
#include "driver/engines.hpp"
#include "ops/commands.hpp"
#include "ops/find_and_modify.hpp"
#include "ops/read_ops.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

wire::StringOrDocumentView view_of(
    const std::optional<std::variant<std::string, bson::Document>>& value) {
  if (!value) return std::monostate{};
  if (const auto* text = std::get_if<std::string>(&*value)) return std::string_view(*text);
  return std::get<bson::Document>(*value).view();
}

std::optional<bson::View> view_of(const std::optional<bson::Document>& document) {
  if (!document) return std::nullopt;
  return document->view();
}

std::optional<std::int64_t> millis_of(const std::optional<std::chrono::milliseconds>& time) {
  if (!time) return std::nullopt;
  return static_cast<std::int64_t>(time->count());
}

// A reply's writeConcernError as the BulkWriteError the other writes throw (no write errors,
// nothing counted).
[[noreturn]] void throw_write_concern_error(const wire::WriteConcernError& error) {
  throw BulkWriteError({}, WriteErrorDetail{0, error.code, error.errmsg}, 0, 0);
}

}  // namespace

const ReadPreference& Collection::read_preference() const noexcept {
  return options_.read_preference ? *options_.read_preference : core_->uri().read_preference;
}

const WriteConcern& Collection::write_concern() const noexcept {
  static const WriteConcern server_default;
  return options_.write_concern ? *options_.write_concern : server_default;
}

const ReadConcern& Collection::read_concern() const noexcept {
  static const ReadConcern server_default;
  return options_.read_concern ? *options_.read_concern : server_default;
}

// ---- find ----------------------------------------------------------------------------------

// The bodies of the reads, each written once for both engines (driver/engines.hpp).
struct CollectionReadBodies {
  // The find command's operation. A plain function, not part of a body: what it builds on the
  // way (wire::FindOptions, ~340 bytes) stays on the stack instead of in every suspended
  // operation's coroutine frame (GCC keeps all of a coroutine's locals in its frame).
  static auto find_operation(const Collection& self, bson::View filter,
                             const FindOptions& options) {
    if (options.skip < 0) throw Error(errc::invalid_argument, "find: skip must be >= 0");
    if (options.batch_size < 0)
      throw Error(errc::invalid_argument, "find: batch_size must be >= 0");
    if (options.limit == std::numeric_limits<std::int64_t>::min()) {
      throw Error(errc::invalid_argument,
                  "find: limit must be greater than INT64_MIN (a negative limit is negated)");
    }
    wire::FindOptions find;
    find.filter = filter;
    find.projection = view_of(options.projection);
    find.sort = view_of(options.sort);
    if (options.skip > 0) find.skip = options.skip;
    if (options.limit != 0) find.limit = options.limit < 0 ? -options.limit : options.limit;
    find.single_batch = options.limit < 0;
    if (options.batch_size > 0) {
      std::int64_t first = options.batch_size;
      // A first batch that may hold the whole limit asks for one more (limit + 1), as the CRUD
      // spec says: the server then returns the limit and closes the cursor, instead of leaving it
      // open for a killCursors.
      if (options.limit > 0 && first >= options.limit &&
          options.limit < std::numeric_limits<std::int32_t>::max()) {
        first = options.limit + 1;
      }
      find.batch_size = static_cast<std::int32_t>(first);
    }
    find.hint = view_of(options.hint);
    find.comment = view_of(options.comment);
    find.max_time_ms = millis_of(options.max_time);
    find.collation = view_of(options.collation);
    find.allow_disk_use = options.allow_disk_use;
    find.let = view_of(options.let);
    find.min = view_of(options.min);
    find.max = view_of(options.max);
    find.return_key = options.return_key;
    find.show_record_id = options.show_record_id;
    find.no_cursor_timeout = options.no_cursor_timeout;
    find.allow_partial_results = options.allow_partial_results;
    find.read_concern = self.read_concern();
    return ops::single_command<bson::Document>(ops::OperationKind::kRead, self.db_,
                                               wire::make_find(self.db_, self.name_, find),
                                               ops::KeepReply{},
                                               /*retryable=*/true);
  }

  static CursorOptions cursor_options(const FindOptions& options) {
    return {.batch_size = options.batch_size,
            .limit = options.limit,
            .comment = comment_holder(options.comment)};
  }

  template <typename Engine>
  static typename Engine::template Task<Cursor> find(
      Engine engine, typename Engine::template Hold<Collection> self, bson::View filter,
      typename Engine::template Hold<FindOptions> options) {
    auto op = find_operation(self, filter, options);
    auto ran = co_await engine.execute(op, self.read_preference());
    co_return engine.make_cursor(std::move(ran.result), cursor_options(options), ran.server,
                                 std::move(ran.session));
  }

  // The first document of a find's single batch (limit -1: no getMore), copied out; a server
  // cursor left open anyway is handed to the kill queue by the cursor's destruction.
  static std::optional<bson::Document> first_of(ClientCore& core, bson::Document reply,
                                                const CursorOptions& options,
                                                const HostAndPort& server) {
    Cursor cursor = core.make_cursor(std::move(reply), options, server);
    std::optional<bson::View> first = cursor.next();
    if (!first) return std::nullopt;
    return bson::Document(*first);
  }

  // What find_one's body needs once the command is built. Prepared by a plain function before
  // the body starts, so that a suspended find_one's frame holds this (the operation, the cursor
  // options, the read preference) and neither the Collection handle nor the FindOptions.
  struct FindOne {
    ops::SingleCommand<bson::Document, ops::KeepReply> op;
    CursorOptions cursor;
    ReadPreference read_preference;
  };
  static FindOne prepare_find_one(const Collection& self, bson::View filter, FindOptions options) {
    options.limit = -1;
    options.batch_size = 0;
    return FindOne{find_operation(self, filter, options), cursor_options(options),
                   self.read_preference()};
  }
  static ClientCore& core_of(const SyncEngine& engine) noexcept { return engine.core; }
  static ClientCore& core_of(const AsyncEngine& engine) noexcept { return *engine.core; }

  template <typename Engine>
  static typename Engine::template Task<std::optional<bson::Document>> find_one(Engine engine,
                                                                                FindOne prepared) {
    auto ran = co_await engine.execute(prepared.op, prepared.read_preference);
    co_return first_of(core_of(engine), std::move(ran.result), prepared.cursor, ran.server);
  }
};

Cursor Collection::find(bson::View filter, const FindOptions& options) const {
  return CollectionReadBodies::find(SyncEngine{*core_, session_.get()}, *this, filter, options)
      .run_now();
}

std::optional<bson::Document> Collection::find_one(bson::View filter, FindOptions options) const {
  // Named: GCC 12 destroys an aggregate prvalue given to a coroutine's by-value parameter twice.
  CollectionReadBodies::FindOne prepared =
      CollectionReadBodies::prepare_find_one(*this, filter, std::move(options));
  return CollectionReadBodies::find_one(SyncEngine{*core_, session_.get()}, std::move(prepared))
      .run_now();
}

// Not coroutines: each returns its body, which owns the handle and the options (Hold).
boost::asio::awaitable<Cursor> Collection::co_find(Collection self, bson::View filter,
                                                   FindOptions options) {
  auto core = self.core_;
  auto session = self.session_;
  return CollectionReadBodies::find(AsyncEngine{std::move(core), std::move(session)},
                                    std::move(self), filter, std::move(options));
}

boost::asio::awaitable<std::optional<bson::Document>> Collection::co_find_one(
    const Collection& self, bson::View filter, const FindOptions& options) {
  CollectionReadBodies::FindOne prepared =
      CollectionReadBodies::prepare_find_one(self, filter, options);
  return CollectionReadBodies::find_one(AsyncEngine{self.core_, self.session_},
                                        std::move(prepared));
}

// ---- counts and distinct -------------------------------------------------------------------

// The bodies of the counts and distinct, written once for both engines (driver/engines.hpp).
struct CollectionCountBodies {
  template <typename Engine>
  static typename Engine::template Task<std::int64_t> count_documents(Engine engine,
                                                                      const Collection& self,
                                                                      bson::View filter,
                                                                      const CountOptions& options) {
    wire::CountAggregateCommand command;
    command.filter = filter;
    command.skip = options.skip;
    command.limit = options.limit;
    command.collation = view_of(options.collation);
    command.max_time_ms = millis_of(options.max_time);
    command.hint = view_of(options.hint);
    command.comment = view_of(options.comment);
    command.read_concern = self.read_concern();
    auto op = ops::single_command<std::int64_t>(
        ops::OperationKind::kRead, self.db_,
        wire::make_count_aggregate(self.db_, self.name_, command),
        [](const bson::Document& reply) { return wire::parse_count_aggregate_reply(reply.view()); },
        /*retryable=*/true);
    auto ran = co_await engine.execute(op, self.read_preference());
    co_return std::move(ran.result);
  }

  template <typename Engine>
  static typename Engine::template Task<std::int64_t> estimated_document_count(
      Engine engine, const Collection& self, const EstimatedDocumentCountOptions& options) {
    wire::CountCommand command;
    command.max_time_ms = millis_of(options.max_time);
    command.comment = view_of(options.comment);
    command.read_concern = self.read_concern();
    auto op = ops::single_command<std::int64_t>(
        ops::OperationKind::kRead, self.db_, wire::make_count(self.db_, self.name_, command),
        [](const bson::Document& reply) { return wire::parse_count_reply(reply.view()); },
        /*retryable=*/true);
    auto ran = co_await engine.execute(op, self.read_preference());
    co_return std::move(ran.result);
  }

  template <typename Engine>
  static typename Engine::template Task<bson::Document> distinct(Engine engine,
                                                                 const Collection& self,
                                                                 std::string_view field,
                                                                 bson::View filter,
                                                                 const DistinctOptions& options) {
    wire::DistinctCommand command;
    command.key = field;
    if (!filter.empty()) command.query = filter;
    command.collation = view_of(options.collation);
    command.max_time_ms = millis_of(options.max_time);
    command.hint = view_of(options.hint);
    command.comment = view_of(options.comment);
    command.read_concern = self.read_concern();
    auto op = ops::single_command<bson::Document>(
        ops::OperationKind::kRead, self.db_, wire::make_distinct(self.db_, self.name_, command),
        [](const bson::Document& reply) { return wire::parse_distinct_reply(reply.view()); },
        /*retryable=*/true);
    auto ran = co_await engine.execute(op, self.read_preference());
    co_return std::move(ran.result);
  }
};

std::int64_t Collection::count_documents(bson::View filter, const CountOptions& options) const {
  return CollectionCountBodies::count_documents(SyncEngine{*core_, session_.get()}, *this, filter,
                                                options)
      .run_now();
}

std::int64_t Collection::estimated_document_count(
    const EstimatedDocumentCountOptions& options) const {
  return CollectionCountBodies::estimated_document_count(SyncEngine{*core_, session_.get()}, *this,
                                                         options)
      .run_now();
}

bson::Document Collection::distinct(std::string_view field, bson::View filter,
                                    const DistinctOptions& options) const {
  return CollectionCountBodies::distinct(SyncEngine{*core_, session_.get()}, *this, field, filter,
                                         options)
      .run_now();
}

boost::asio::awaitable<std::int64_t> Collection::co_count_documents(Collection self,
                                                                    bson::View filter,
                                                                    CountOptions options) {
  co_return co_await CollectionCountBodies::count_documents(AsyncEngine{self.core_, self.session_},
                                                            self, filter, options);
}

boost::asio::awaitable<std::int64_t> Collection::co_estimated_document_count(
    Collection self, EstimatedDocumentCountOptions options) {
  co_return co_await CollectionCountBodies::estimated_document_count(
      AsyncEngine{self.core_, self.session_}, self, options);
}

boost::asio::awaitable<bson::Document> Collection::co_distinct(Collection self, std::string field,
                                                               bson::View filter,
                                                               DistinctOptions options) {
  co_return co_await CollectionCountBodies::distinct(AsyncEngine{self.core_, self.session_}, self,
                                                     field, filter, options);
}

// ---- aggregate -----------------------------------------------------------------------------

namespace {

template <typename Engine>
typename Engine::template Task<Cursor> aggregate_body(
    Engine engine, std::string_view db, std::optional<std::string_view> collection,
    bson::View pipeline, const AggregateOptions& options, const ReadPreference& read_preference,
    const ReadConcern& read_concern, const WriteConcern& write_concern) {
  if (options.max_await_time) {
    throw Error(errc::invalid_argument,
                "aggregate: max_await_time is for tailable await cursors, which mongoslice does "
                "not support yet");
  }
  wire::AggregateCommand command;
  command.pipeline = pipeline;
  command.allow_disk_use = options.allow_disk_use;
  if (options.batch_size != 0) command.batch_size = options.batch_size;
  command.bypass_document_validation = options.bypass_document_validation;
  command.collation = view_of(options.collation);
  command.max_time_ms = millis_of(options.max_time);
  command.hint = view_of(options.hint);
  command.let = view_of(options.let);
  command.comment = view_of(options.comment);
  command.read_concern = read_concern;
  command.write_concern = write_concern;
  wire::Aggregate op(db, collection, command);  // checks the pipeline and options
  const bool write = op.kind() == ops::OperationKind::kWrite;
  auto ran = co_await engine.execute(op, write ? ReadPreference{} : read_preference);
  co_return engine.make_cursor(
      std::move(ran.result),
      {.batch_size = options.batch_size, .comment = comment_holder(options.comment)}, ran.server,
      std::move(ran.session));
}

}  // namespace

Cursor detail::run_aggregate(ClientCore& core, const std::string& db,
                             std::optional<std::string_view> collection, bson::View pipeline,
                             const AggregateOptions& options, const ReadPreference& read_preference,
                             const ReadConcern& read_concern, const WriteConcern& write_concern,
                             ClientSessionState* session) {
  return aggregate_body(SyncEngine{core, session}, db, collection, pipeline, options,
                        read_preference, read_concern, write_concern)
      .run_now();
}

// Defined in its namespace, not as detail::co_run_aggregate: GCC 12 emits no external ramp
// function for a coroutine defined with a qualified name.
namespace detail {
boost::asio::awaitable<Cursor> co_run_aggregate(std::shared_ptr<ClientCore> core, std::string db,
                                                std::optional<std::string> collection,
                                                bson::View pipeline, AggregateOptions options,
                                                ReadPreference read_preference,
                                                ReadConcern read_concern,
                                                WriteConcern write_concern,
                                                std::shared_ptr<ClientSessionState> session) {
  std::optional<std::string_view> name;
  if (collection) name = *collection;
  co_return co_await aggregate_body(AsyncEngine{std::move(core), std::move(session)}, db, name,
                                    pipeline, options, read_preference, read_concern,
                                    write_concern);
}
}  // namespace detail

boost::asio::awaitable<Cursor> Collection::co_aggregate(Collection self, bson::View pipeline,
                                                        AggregateOptions options) {
  co_return co_await detail::co_run_aggregate(
      self.core_, self.db_, self.name_, pipeline, std::move(options), self.read_preference(),
      self.read_concern(), self.write_concern(), self.session_);
}

Cursor Collection::aggregate(bson::View pipeline, const AggregateOptions& options) const {
  return detail::run_aggregate(*core_, db_, name_, pipeline, options, read_preference(),
                               read_concern(), write_concern(), session_.get());
}

Cursor Collection::aggregate(const std::vector<bson::Document>& pipeline,
                             const AggregateOptions& options) const {
  return aggregate(wire::pipeline_of(pipeline).view(), options);
}

// ---- findAndModify -------------------------------------------------------------------------

namespace {

template <typename Engine>
typename Engine::template Task<std::optional<bson::Document>> run_find_and_modify(
    Engine engine, const std::string& db, const std::string& collection,
    const wire::FindAndModifyCommand& command) {
  wire::FindAndModify op(db, collection, command);
  auto ran = co_await engine.execute(op);
  wire::FindAndModifyReply reply = std::move(ran.result);
  if (reply.write_concern_error) throw_write_concern_error(*reply.write_concern_error);
  co_return std::move(reply.value);
}

// The fields all three FindOneAnd*Options share. The command views `options`, which must
// outlive it.
template <typename Options>
wire::FindAndModifyCommand find_and_modify_command(wire::FindAndModifyKind kind, bson::View filter,
                                                   const Options& options) {
  wire::FindAndModifyCommand command;
  command.kind = kind;
  command.query = filter;
  command.fields = view_of(options.projection);
  command.sort = view_of(options.sort);
  command.collation = view_of(options.collation);
  command.hint = view_of(options.hint);
  command.let = view_of(options.let);
  command.comment = view_of(options.comment);
  command.max_time_ms = millis_of(options.max_time);
  return command;
}

// The fields an update and a replacement share besides those.
template <typename Options>
wire::FindAndModifyCommand modifying_command(wire::FindAndModifyKind kind, bson::View filter,
                                             bson::View update, const Options& options) {
  wire::FindAndModifyCommand command = find_and_modify_command(kind, filter, options);
  command.update = update;
  command.return_new = options.return_document == ReturnDocument::kAfter;
  command.upsert = options.upsert;
  command.bypass_document_validation = options.bypass_document_validation;
  return command;
}

}  // namespace

// The bodies of the findAndModify helpers, written once for both engines.
struct CollectionFindAndModifyBodies {
  template <typename Engine>
  static typename Engine::template Task<std::optional<bson::Document>> update(
      Engine engine, const Collection& self, bson::View filter, bson::View update,
      const FindOneAndUpdateOptions& options) {
    std::vector<bson::View> array_filters;
    array_filters.reserve(options.array_filters.size());
    for (const auto& f : options.array_filters) array_filters.push_back(f.view());
    wire::FindAndModifyCommand command =
        modifying_command(wire::FindAndModifyKind::kUpdate, filter, update, options);
    command.array_filters = array_filters;
    command.write_concern = self.write_concern();
    co_return co_await run_find_and_modify(engine, self.db_, self.name_, command);
  }

  template <typename Engine>
  static typename Engine::template Task<std::optional<bson::Document>> replace(
      Engine engine, const Collection& self, bson::View filter, bson::View replacement,
      const FindOneAndReplaceOptions& options) {
    wire::FindAndModifyCommand command =
        modifying_command(wire::FindAndModifyKind::kReplace, filter, replacement, options);
    command.write_concern = self.write_concern();
    co_return co_await run_find_and_modify(engine, self.db_, self.name_, command);
  }

  template <typename Engine>
  static typename Engine::template Task<std::optional<bson::Document>> remove(
      Engine engine, const Collection& self, bson::View filter,
      const FindOneAndDeleteOptions& options) {
    wire::FindAndModifyCommand command =
        find_and_modify_command(wire::FindAndModifyKind::kDelete, filter, options);
    command.write_concern = self.write_concern();
    co_return co_await run_find_and_modify(engine, self.db_, self.name_, command);
  }
};

std::optional<bson::Document> Collection::find_one_and_update(
    bson::View filter, bson::View update, const FindOneAndUpdateOptions& options) const {
  return CollectionFindAndModifyBodies::update(SyncEngine{*core_, session_.get()}, *this, filter,
                                               update, options)
      .run_now();
}

std::optional<bson::Document> Collection::find_one_and_replace(
    bson::View filter, bson::View replacement, const FindOneAndReplaceOptions& options) const {
  return CollectionFindAndModifyBodies::replace(SyncEngine{*core_, session_.get()}, *this, filter,
                                                replacement, options)
      .run_now();
}

std::optional<bson::Document> Collection::find_one_and_delete(
    bson::View filter, const FindOneAndDeleteOptions& options) const {
  return CollectionFindAndModifyBodies::remove(SyncEngine{*core_, session_.get()}, *this, filter,
                                               options)
      .run_now();
}

boost::asio::awaitable<std::optional<bson::Document>> Collection::co_find_one_and_update(
    Collection self, bson::View filter, bson::View update, FindOneAndUpdateOptions options) {
  co_return co_await CollectionFindAndModifyBodies::update(AsyncEngine{self.core_, self.session_},
                                                           self, filter, update, options);
}

boost::asio::awaitable<std::optional<bson::Document>> Collection::co_find_one_and_replace(
    Collection self, bson::View filter, bson::View replacement, FindOneAndReplaceOptions options) {
  co_return co_await CollectionFindAndModifyBodies::replace(AsyncEngine{self.core_, self.session_},
                                                            self, filter, replacement, options);
}

boost::asio::awaitable<std::optional<bson::Document>> Collection::co_find_one_and_delete(
    Collection self, bson::View filter, FindOneAndDeleteOptions options) {
  co_return co_await CollectionFindAndModifyBodies::remove(AsyncEngine{self.core_, self.session_},
                                                           self, filter, options);
}

}  // namespace mongoslice
