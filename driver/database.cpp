// Database's operations: run_command, run_cursor_command and the catalog commands, each run
// through the operation engine (driver/operation_engine.hpp) as an operation of
// ops/catalog_operations.hpp.
#include "driver/database.hpp"

#include <variant>

#include "driver/client_core.hpp"
#include "driver/comment_holder.hpp"
#include "driver/engines.hpp"
#include "driver/names.hpp"
#include "ops/catalog_operations.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

// A {comment: value} document, so the ops layer can take the comment as a BSON element.
std::optional<bson::Document> comment_holder(const std::optional<std::string>& comment) {
  if (!comment) return std::nullopt;
  return bson::Builder{}.append("comment", *comment).build();
}

}  // namespace

// The bodies of the operations, each written once for both engines (driver/engines.hpp).
struct DatabaseBodies {
  template <typename Engine>
  static typename Engine::template Task<bson::Document> run_command(
      Engine engine, const Database& self, bson::View command,
      const ReadPreference& read_preference) {
    auto op = ops::run_command_operation(self.name_, command);
    auto ran = co_await engine.execute(op, read_preference);
    co_return std::move(ran.result);
  }

  template <typename Engine>
  static typename Engine::template Task<Cursor> list_collections(
      Engine engine, const Database& self, const ListCollectionsOptions& options) {
    if (options.batch_size < 0) {
      throw Error(errc::invalid_argument, "list_collections: batch_size must be >= 0");
    }
    const auto comment = comment_holder(options.comment);
    wire::ListCollectionsCommand command;
    if (options.filter) command.filter = options.filter->view();
    command.name_only = options.name_only;
    command.authorized_collections = options.authorized_collections;
    if (options.batch_size > 0) command.batch_size = options.batch_size;
    if (comment) command.comment = (*comment)["comment"];
    auto op = ops::list_collections_operation(self.name_, command);
    auto ran = co_await engine.execute(op, ReadPreference{});
    co_return engine.make_cursor(std::move(ran.result), {options.batch_size, 0}, ran.server,
                                 std::move(ran.session));
  }

  template <typename Engine>
  static typename Engine::template Task<Cursor> run_cursor_command(
      Engine engine, const Database& self, bson::View command,
      const RunCursorCommandOptions& options) {
    if (options.batch_size < 0) {
      throw Error(errc::invalid_argument, "run_cursor_command: batch_size must be >= 0");
    }
    if (options.max_time && options.max_time->count() < 0) {
      throw Error(errc::invalid_argument, "run_cursor_command: max_time must be >= 0");
    }
    if (options.cursor_type != CursorType::kNonTailable) {
      throw Error(errc::invalid_argument,
                  "run_cursor_command: tailable cursors are not supported by mongoslice yet");
    }
    auto op = ops::run_command_operation(self.name_, command);  // refuses an empty command
    const ReadPreference read_preference = options.read_preference.value_or(ReadPreference{});
    auto ran = co_await engine.execute(op, read_preference);
    CursorOptions cursor;
    cursor.batch_size = options.batch_size;
    if (options.max_time) cursor.max_time_ms = static_cast<std::int64_t>(options.max_time->count());
    cursor.comment = comment_holder(options.comment);
    // Throws Error(errc::cursor_error) for a reply without a cursor.
    co_return engine.make_cursor(std::move(ran.result), std::move(cursor), ran.server,
                                 std::move(ran.session));
  }

  template <typename Engine>
  static typename Engine::template Task<Collection> create_collection(
      Engine engine, const Database& self, std::string_view name,
      const CreateCollectionOptions& options) {
    check_collection_name(name);  // before the create command goes out
    const auto comment = comment_holder(options.comment);
    wire::CreateCommand command;
    command.capped = options.capped;
    command.size = options.size;
    command.max = options.max;
    if (options.validator) command.validator = options.validator->view();
    if (options.validation_level) command.validation_level = *options.validation_level;
    if (options.validation_action) command.validation_action = *options.validation_action;
    if (options.collation) command.collation = options.collation->view();
    if (comment) command.comment = (*comment)["comment"];
    if (self.options_.write_concern) command.write_concern = *self.options_.write_concern;
    auto op = ops::create_collection_operation(self.name_, name, command);
    co_await engine.execute(op);
    co_return self.collection(name);
  }

  template <typename Engine>
  static typename Engine::template Task<std::vector<std::string>> list_collection_names(
      Engine engine, const Database& self, const bson::Document& filter) {
    ListCollectionsOptions options;
    if (!filter.view().empty()) options.filter = filter;
    options.name_only = true;
    Cursor cursor = co_await list_collections(engine, self, options);
    std::vector<std::string> names;
    for (;;) {
      std::optional<bson::View> entry = co_await Engine::next(cursor);
      if (!entry) break;
      names.emplace_back(wire::collection_name_of(*entry));
    }
    co_return names;
  }

  template <typename Engine>
  static typename Engine::template Task<Unit> drop(Engine engine, const Database& self) {
    auto op = ops::drop_database_operation(self.name_,
                                           self.options_.write_concern.value_or(WriteConcern{}));
    co_await engine.execute(op);
    co_return Unit{};
  }
};

Database::Database(std::shared_ptr<ClientCore> core, std::string name, HandleOptions options)
    : core_(std::move(core)), name_(std::move(name)), options_(std::move(options)) {
  check_database_name(name_);
}

std::optional<boost::asio::any_io_executor> Database::async_executor() const {
  return core_->async_executor();
}

Database Database::with_options(const HandleOptions& overrides) const {
  Database copy(core_, name_, options_.merged_with(overrides));
  copy.session_ = session_;
  return copy;
}

bson::Document Database::run_command(bson::View command) const {
  return run_command(command, ReadPreference{});  // primary, whatever the client's default
}

bson::Document Database::run_command(bson::View command,
                                     const ReadPreference& read_preference) const {
  return DatabaseBodies::run_command(SyncEngine{*core_, session_.get()}, *this, command,
                                     read_preference)
      .run_now();
}

boost::asio::awaitable<bson::Document> Database::co_run_command(Database self, bson::View command,
                                                                ReadPreference read_preference) {
  co_return co_await DatabaseBodies::run_command(AsyncEngine{self.core_, self.session_}, self,
                                                 command, read_preference);
}

Cursor Database::run_cursor_command(bson::View command,
                                    const RunCursorCommandOptions& options) const {
  return DatabaseBodies::run_cursor_command(SyncEngine{*core_, session_.get()}, *this, command,
                                            options)
      .run_now();
}

boost::asio::awaitable<Cursor> Database::co_run_cursor_command(Database self, bson::View command,
                                                               RunCursorCommandOptions options) {
  co_return co_await DatabaseBodies::run_cursor_command(AsyncEngine{self.core_, self.session_},
                                                        self, command, options);
}

Cursor Database::list_collections(const ListCollectionsOptions& options) const {
  return DatabaseBodies::list_collections(SyncEngine{*core_, session_.get()}, *this, options)
      .run_now();
}

boost::asio::awaitable<Cursor> Database::co_list_collections(Database self,
                                                             ListCollectionsOptions options) {
  co_return co_await DatabaseBodies::list_collections(AsyncEngine{self.core_, self.session_}, self,
                                                      options);
}

std::vector<std::string> Database::list_collection_names(const bson::Document& filter) const {
  return DatabaseBodies::list_collection_names(SyncEngine{*core_, session_.get()}, *this, filter)
      .run_now();
}

boost::asio::awaitable<std::vector<std::string>> Database::co_list_collection_names(
    Database self, bson::Document filter) {
  co_return co_await DatabaseBodies::list_collection_names(AsyncEngine{self.core_, self.session_},
                                                           self, filter);
}

Collection Database::create_collection(std::string_view name,
                                       const CreateCollectionOptions& options) const {
  return DatabaseBodies::create_collection(SyncEngine{*core_, session_.get()}, *this, name, options)
      .run_now();
}

boost::asio::awaitable<Collection> Database::co_create_collection(Database self, std::string name,
                                                                  CreateCollectionOptions options) {
  co_return co_await DatabaseBodies::create_collection(AsyncEngine{self.core_, self.session_}, self,
                                                       name, options);
}

void Database::drop() const {
  DatabaseBodies::drop(SyncEngine{*core_, session_.get()}, *this).run_now();
}

boost::asio::awaitable<void> Database::co_drop(Database self) {
  co_await DatabaseBodies::drop(AsyncEngine{self.core_, self.session_}, self);
}

}  // namespace mongoslice
