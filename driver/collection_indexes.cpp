// Collection's index management (create_index, create_indexes, list_indexes, drop_index,
// drop_indexes) and rename, each one operation of ops/index_ops.hpp run by the engine.
#include <variant>

#include "driver/client_core.hpp"
#include "driver/collection.hpp"
#include "driver/engines.hpp"
#include "ops/index_ops.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

wire::StringOrDocumentView comment_of(const std::optional<Comment>& comment) {
  if (!comment) return std::monostate{};
  if (const auto* text = std::get_if<std::string>(&*comment)) return std::string_view(*text);
  return std::get<bson::Document>(*comment).view();
}

template <typename T>
std::optional<bson::View> view_of(const std::optional<T>& document) {
  if (!document) return std::nullopt;
  return document->view();
}

std::optional<std::string_view> text_of(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  return std::string_view(*text);
}

std::optional<std::int64_t> millis_of(const std::optional<std::chrono::milliseconds>& time) {
  if (!time) return std::nullopt;
  return static_cast<std::int64_t>(time->count());
}

bson::Document entry_of(const IndexModel& index) {
  const IndexOptions& o = index.options;
  wire::IndexEntryOptions entry;
  entry.name = text_of(o.name);
  entry.unique = o.unique;
  entry.sparse = o.sparse;
  entry.hidden = o.hidden;
  entry.background = o.background;
  if (o.expire_after) entry.expire_after_seconds = o.expire_after->count();
  entry.partial_filter_expression = view_of(o.partial_filter_expression);
  entry.collation = view_of(o.collation);
  entry.wildcard_projection = view_of(o.wildcard_projection);
  entry.storage_engine = view_of(o.storage_engine);
  entry.version = o.version;
  entry.weights = view_of(o.weights);
  entry.default_language = text_of(o.default_language);
  entry.language_override = text_of(o.language_override);
  entry.text_index_version = o.text_index_version;
  entry.sphere_index_version = o.sphere_index_version;
  entry.bits = o.bits;
  entry.min = o.min;
  entry.max = o.max;
  entry.extra = view_of(o.extra);
  return wire::make_index_entry(index.keys.view(), entry);
}

wire::DropIndexesCommand drop_command_of(const DropIndexOptions& options) {
  return {millis_of(options.max_time), comment_of(options.comment)};
}

template <typename Engine>
typename Engine::template Task<Unit> run_drop_indexes(Engine engine, std::string_view db,
                                                      bson::Document command) {
  auto op = ops::single_command<wire::DropIndexesReply>(
      ops::OperationKind::kWrite, db, std::move(command),
      [](const bson::Document& reply) { return wire::parse_drop_indexes_reply(reply.view()); });
  co_await engine.execute(op);
  co_return Unit{};
}

}  // namespace

// The bodies of the index operations and rename, written once for both engines.
struct CollectionIndexBodies {
  template <typename Engine>
  static typename Engine::template Task<std::vector<std::string>> create_indexes(
      Engine engine, const Collection& self, const std::vector<IndexModel>& indexes,
      const CreateIndexesOptions& options) {
    if (indexes.empty()) throw Error(errc::invalid_argument, "create_indexes: no indexes given");
    std::vector<bson::Document> entries;
    std::vector<bson::View> views;
    std::vector<std::string> names;
    entries.reserve(indexes.size());
    for (const IndexModel& index : indexes) {
      entries.push_back(entry_of(index));
      names.emplace_back(wire::index_name_of(entries.back().view()));
    }
    for (const auto& entry : entries) views.push_back(entry.view());

    wire::CreateIndexesCommand command;
    command.max_time_ms = millis_of(options.max_time);
    if (options.commit_quorum) {
      if (const auto* count = std::get_if<std::int32_t>(&*options.commit_quorum)) {
        command.commit_quorum = *count;
      } else {
        command.commit_quorum = std::string_view(std::get<std::string>(*options.commit_quorum));
      }
    }
    command.comment = comment_of(options.comment);
    ops::CreateIndexesOperation op(
        self.db_,
        wire::make_create_indexes(self.db_, self.name_, views, command, self.write_concern()));
    co_await engine.execute(op);
    co_return names;
  }

  template <typename Engine>
  static typename Engine::template Task<Cursor> list_indexes(Engine engine, const Collection& self,
                                                             const ListIndexesOptions& options) {
    if (options.batch_size < 0) {
      throw Error(errc::invalid_argument, "list_indexes: batch_size must be >= 0");
    }
    wire::ListIndexesCommand command;
    if (options.batch_size > 0) command.batch_size = options.batch_size;
    command.comment = comment_of(options.comment);
    auto op = ops::single_command<bson::Document>(
        ops::OperationKind::kRead, self.db_, wire::make_list_indexes(self.db_, self.name_, command),
        ops::KeepReply{}, /*retryable=*/true);  // a retryable read (the retryable reads spec)
    std::optional<Executed<bson::Document>> ran;
    try {
      // listIndexes goes to the primary whatever the handle's read preference (as
      // list_collections does).
      ReadPreference primary;
      ran = co_await engine.execute(op, primary);
    } catch (const ServerError& e) {
      // The index-management spec: a collection that does not exist has no indexes.
      if (e.server_code() != server_code::kNamespaceNotFound) throw;
    }
    if (!ran) co_return Cursor();
    co_return engine.make_cursor(std::move(ran->result), {options.batch_size, 0}, ran->server,
                                 std::move(ran->session));
  }

  template <typename Engine>
  static typename Engine::template Task<Collection> rename(Engine engine, const Collection& self,
                                                           std::string_view to_collection,
                                                           const RenameOptions& options) {
    if (options.to_database && options.to_database->empty()) {
      throw Error(errc::invalid_argument, "rename: the target database name is empty");
    }
    const std::string& to_db = options.to_database ? *options.to_database : self.db_;
    // The target handle first: a name it refuses throws before anything is sent.
    Collection target(self.core_, to_db, to_collection, self.options_);
    wire::RenameCollectionCommand command;
    command.drop_target = options.drop_target;
    command.comment = comment_of(options.comment);
    auto op = ops::single_command<std::monostate>(
        ops::OperationKind::kWrite, "admin",
        wire::make_rename_collection(self.db_, self.name_, to_db, to_collection, command,
                                     self.write_concern()),
        [](const bson::Document& reply) {
          wire::parse_rename_collection_reply(reply.view());
          return std::monostate{};
        });
    co_await engine.execute(op);
    co_return target;
  }
};

std::string Collection::create_index(bson::View keys, const IndexOptions& options) const {
  return create_indexes({IndexModel{bson::Document(keys), options}}).front();
}

std::vector<std::string> Collection::create_indexes(const std::vector<IndexModel>& indexes,
                                                    const CreateIndexesOptions& options) const {
  return CollectionIndexBodies::create_indexes(SyncEngine{*core_, session_.get()}, *this, indexes,
                                               options)
      .run_now();
}

Cursor Collection::list_indexes(const ListIndexesOptions& options) const {
  return CollectionIndexBodies::list_indexes(SyncEngine{*core_, session_.get()}, *this, options)
      .run_now();
}

void Collection::drop_index(std::string_view name, const DropIndexOptions& options) const {
  run_drop_indexes(
      SyncEngine{*core_, session_.get()}, db_,
      wire::make_drop_index(db_, name_, name, drop_command_of(options), write_concern()))
      .run_now();
}

void Collection::drop_index(bson::View keys, const DropIndexOptions& options) const {
  run_drop_indexes(
      SyncEngine{*core_, session_.get()}, db_,
      wire::make_drop_index(db_, name_, keys, drop_command_of(options), write_concern()))
      .run_now();
}

void Collection::drop_indexes(const DropIndexOptions& options) const {
  run_drop_indexes(
      SyncEngine{*core_, session_.get()}, db_,
      wire::make_drop_all_indexes(db_, name_, drop_command_of(options), write_concern()))
      .run_now();
}

Collection Collection::rename(std::string_view to_collection, const RenameOptions& options) const {
  return CollectionIndexBodies::rename(SyncEngine{*core_, session_.get()}, *this, to_collection,
                                       options)
      .run_now();
}

boost::asio::awaitable<std::vector<std::string>> Collection::co_create_indexes(
    Collection self, std::vector<IndexModel> indexes, CreateIndexesOptions options) {
  co_return co_await CollectionIndexBodies::create_indexes(AsyncEngine{self.core_, self.session_},
                                                           self, indexes, options);
}

boost::asio::awaitable<std::string> Collection::co_create_index(Collection self,
                                                                bson::Document keys,
                                                                IndexOptions options) {
  std::vector<IndexModel> indexes;
  indexes.push_back(IndexModel{std::move(keys), std::move(options)});
  CreateIndexesOptions none;
  auto names = co_await CollectionIndexBodies::create_indexes(
      AsyncEngine{self.core_, self.session_}, self, indexes, none);
  co_return names.front();
}

boost::asio::awaitable<Cursor> Collection::co_list_indexes(Collection self,
                                                           ListIndexesOptions options) {
  co_return co_await CollectionIndexBodies::list_indexes(AsyncEngine{self.core_, self.session_},
                                                         self, options);
}

boost::asio::awaitable<void> Collection::co_drop_index(Collection self,
                                                       std::optional<std::string> name,
                                                       std::optional<bson::Document> keys,
                                                       DropIndexOptions options) {
  bson::Document command =
      name   ? wire::make_drop_index(self.db_, self.name_, *name, drop_command_of(options),
                                     self.write_concern())
      : keys ? wire::make_drop_index(self.db_, self.name_, keys->view(), drop_command_of(options),
                                     self.write_concern())
             : wire::make_drop_all_indexes(self.db_, self.name_, drop_command_of(options),
                                           self.write_concern());
  co_await run_drop_indexes(AsyncEngine{self.core_, self.session_}, self.db_, std::move(command));
}

boost::asio::awaitable<Collection> Collection::co_rename(Collection self, std::string to_collection,
                                                         RenameOptions options) {
  co_return co_await CollectionIndexBodies::rename(AsyncEngine{self.core_, self.session_}, self,
                                                   to_collection, options);
}

}  // namespace mongoslice
