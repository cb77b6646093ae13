#pragma once
// A database of a MongoClient: a cheap handle (the client's shared state and a name). Like the
// client, it may be copied and used from any number of threads at once. Operations throw
// mongoslice::Error (network, server selection, client closed) and ServerError ({ok: 0}).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cursor/cursor.hpp"
#include "driver/collection.hpp"
#include "driver/names.hpp"
#include "ops/read_preference.hpp"
#include "wire/bson.hpp"

namespace mongoslice {

class ClientCore;

// Options of Database::list_collections (the listCollections command's).
struct ListCollectionsOptions {
  std::optional<bson::Document> filter;  // on the entries: name, type, options, info
  bool name_only = false;                // entries hold only name and type
  bool authorized_collections = false;   // with name_only: only what the user may read
  std::int32_t batch_size = 0;           // >= 0; 0: the server's default
  // The comment the command carries. The spec allows any BSON value; this driver takes a
  // string (servers before 4.4 refuse a comment on listCollections).
  std::optional<std::string> comment;
};

// Options of Database::create_collection: a documented subset of the create command's.
struct CreateCollectionOptions {
  std::optional<bool> capped;
  std::optional<std::int64_t> size;  // bytes; servers require it for a capped collection
  std::optional<std::int64_t> max;   // documents, for a capped collection
  std::optional<bson::Document> validator;
  std::optional<std::string> validation_level;   // "off", "strict", "moderate"
  std::optional<std::string> validation_action;  // "error", "warn"
  std::optional<bson::Document> collation;       // the collection's default collation
  std::optional<std::string> comment;
};

// The kind of cursor a run_cursor_command creates (the CRUD spec's cursorType). The caller's
// command must ask for it (tailable: true, awaitData: true); mongoslice's Cursor iterates
// non-tailable cursors only for now.
enum class CursorType { kNonTailable, kTailable, kTailableAwait };

// Options of Database::run_cursor_command (the run-command spec's runCursorCommand). Only
// read_preference concerns the command itself; batch_size, max_time and comment are sent on
// the cursor's getMore commands only (the command carries whatever the caller put in it).
struct RunCursorCommandOptions {
  // Selects the server (the command and every getMore run there); default primary, as for
  // run_command. The handle's read preference does not apply.
  std::optional<ReadPreference> read_preference;
  CursorType cursor_type = CursorType::kNonTailable;  // only kNonTailable is supported yet
  std::int32_t batch_size = 0;                        // getMore's batchSize; >= 0, 0: not sent
  std::optional<std::chrono::milliseconds> max_time;  // getMore's maxTimeMS (>= 0)
  // getMore's comment; sent only to servers that take one (MongoDB 4.4+).
  std::optional<Comment> comment;
};

class Database {
 public:
  // Throws Error(errc::invalid_argument) for a name that is empty, holds a NUL, one of
  // the characters / \ . " $ or a space (servers refuse them in database names), is not
  // UTF-8 or is longer than 63 bytes (driver/names.hpp).
  Database(std::shared_ptr<ClientCore> core, std::string name, HandleOptions options = {});

  const std::string& name() const noexcept { return name_; }

  // A copy of this handle with `overrides` applied over its options; its collections inherit
  // them.
  Database with_options(const HandleOptions& overrides) const;
  const HandleOptions& options() const noexcept { return options_; }

  // Throws Error(errc::invalid_argument) for a collection name driver/names.hpp refuses.
  Collection collection(std::string_view name) const {
    check_collection_name(name);
    Collection collection(core_, name_, name, options_);
    collection.session_ = session_;
    return collection;
  }

  // A copy of this handle whose operations, and its collections', run in `session`
  // (driver/client_session.hpp; see Collection::with_session).
  Database with_session(const ClientSession& session) const;
  bson::Document run_command(const ClientSession& session, bson::View command) const;
  Cursor aggregate(const ClientSession& session, bson::View pipeline,
                   const AggregateOptions& options = {}) const;
  Collection operator[](std::string_view name) const { return collection(name); }

  // Runs `command` (its first key names it; $db is added) and returns the reply. As the
  // server-selection spec says of a generic command method, it is a read for server selection
  // with read preference primary unless one is given here; the client's readPreference does not
  // apply (a command may write). The server is selected by that read preference, and the
  // command carries `$readPreference` where the spec says so (a secondary, a mongos, a direct
  // connection; never to a standalone), unless it names its own. It is the caller's choice to
  // send only commands that can run where the read preference leads. The handle's options
  // (write concern, read concern, read preference) are not applied: the command goes as given.
  // Throws ServerError for {ok: 0}, with the server's code and message.
  // Not retried. Throws Error(errc::invalid_argument) for an empty command, before anything is
  // sent.
  bson::Document run_command(bson::View command) const;
  bson::Document run_command(bson::View command, const ReadPreference& read_preference) const;

  // Runs a command that answers with a cursor ({cursor: {id, ns, firstBatch}}: find,
  // aggregate, listCollections, ...), as run_command does (a read, read preference primary
  // unless options say otherwise, $db added, no concern, not retried), and returns the same
  // Cursor find returns: getMore on the same server (with options' batch_size, max_time and
  // comment), and an abandoned live cursor is killed through the kill-cursors queue.
  // Throws Error(errc::invalid_argument) for an empty command, a negative batch_size or
  // max_time, or a tailable cursor_type (not supported yet), before anything is sent;
  // ServerError for {ok: 0}; Error(errc::cursor_error) when the reply holds no cursor.
  Cursor run_cursor_command(bson::View command, const RunCursorCommandOptions& options = {}) const;

  // The collections (and views) of this database: a Cursor over the listCollections entries
  // ({name, type, options, info, idIndex}; with name_only {name, type}). Sent to the primary
  // (read preference primary, as for run_command; the client's readPreference does not apply).
  // The cursor runs getMore on the same server; abandoned with a live server cursor, it is
  // killed through the client's kill-cursors queue, like a find cursor.
  // Throws Error(errc::invalid_argument) for a negative batch_size before anything is sent,
  // ServerError for {ok: 0}, Error(errc::cursor_error) for a malformed reply.
  Cursor list_collections(const ListCollectionsOptions& options = {}) const;

  // The names of the collections (and views) matching `filter` (listCollections with
  // nameOnly: true, every batch read). Throws as list_collections, and
  // Error(errc::bson_key_missing / bson_type_mismatch) for an entry without a string name.
  std::vector<std::string> list_collection_names(const bson::Document& filter = {}) const;

  // Creates the collection explicitly (the create command, on the primary, with the handle's
  // write concern) and returns its handle. An existing name is the server's error: ServerError
  // (MongoDB: NamespaceExists, 48). A name driver/names.hpp refuses is
  // Error(errc::invalid_argument), before anything is sent.
  Collection create_collection(std::string_view name,
                               const CreateCollectionOptions& options = {}) const;

  // Runs a database-level aggregation ({aggregate: 1}: e.g. $currentOp, $listLocalSessions,
  // $documents) and returns a cursor over its results.
  Cursor aggregate(bson::View pipeline, const AggregateOptions& options = {}) const;
  Cursor aggregate(const std::vector<bson::Document>& pipeline,
                   const AggregateOptions& options = {}) const;

  // Drops this database and every collection in it (dropDatabase, on the primary, with the
  // handle's write concern). A database
  // that does not exist is not an error (servers answer ok: 1). Throws ServerError for {ok: 0}.
  void drop() const;

  // ---- the asynchronous twins (see Collection's, and cursor/async_completion.hpp) ----------
  template <typename Token>
  auto async_run_command(bson::View command, const ReadPreference& read_preference,
                         Token&& token) const {
    return complete_async<bson::Document>(async_executor(),
                                          co_run_command(*this, command, read_preference),
                                          std::forward<Token>(token));
  }
  template <typename Token>
  auto async_run_command(bson::View command, Token&& token) const {
    return async_run_command(command, ReadPreference{}, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_list_collections(const ListCollectionsOptions& options, Token&& token) const {
    return complete_async<Cursor>(async_executor(), co_list_collections(*this, options),
                                  std::forward<Token>(token));
  }
  template <typename Token>
  auto async_list_collections(Token&& token) const {
    return async_list_collections(ListCollectionsOptions{}, std::forward<Token>(token));
  }
  // The filter is copied.
  template <typename Token>
  auto async_list_collection_names(const bson::Document& filter, Token&& token) const {
    return complete_async<std::vector<std::string>>(
        async_executor(), co_list_collection_names(*this, filter), std::forward<Token>(token));
  }
  template <typename Token>
  auto async_list_collection_names(Token&& token) const {
    return async_list_collection_names(bson::Document(), std::forward<Token>(token));
  }
  template <typename Token>
  auto async_aggregate(bson::View pipeline, const AggregateOptions& options, Token&& token) const {
    return complete_async<Cursor>(async_executor(), co_aggregate(*this, pipeline, options),
                                  std::forward<Token>(token));
  }
  template <typename Token>
  auto async_aggregate(bson::View pipeline, Token&& token) const {
    return async_aggregate(pipeline, AggregateOptions{}, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_run_cursor_command(bson::View command, const RunCursorCommandOptions& options,
                                Token&& token) const {
    return complete_async<Cursor>(async_executor(), co_run_cursor_command(*this, command, options),
                                  std::forward<Token>(token));
  }
  template <typename Token>
  auto async_run_cursor_command(bson::View command, Token&& token) const {
    return async_run_cursor_command(command, RunCursorCommandOptions{}, std::forward<Token>(token));
  }
  template <typename Token>
  auto async_create_collection(std::string_view name, const CreateCollectionOptions& options,
                               Token&& token) const {
    return complete_async<Collection>(async_executor(),
                                      co_create_collection(*this, std::string(name), options),
                                      std::forward<Token>(token));
  }
  template <typename Token>
  auto async_create_collection(std::string_view name, Token&& token) const {
    return async_create_collection(name, CreateCollectionOptions{}, std::forward<Token>(token));
  }
  // Completes with void(error_code).
  template <typename Token>
  auto async_drop(Token&& token) const {
    return complete_async<void>(async_executor(), co_drop(*this), std::forward<Token>(token));
  }

 private:
  friend struct DatabaseBodies;
  std::optional<boost::asio::any_io_executor> async_executor() const;
  static boost::asio::awaitable<bson::Document> co_run_command(Database self, bson::View command,
                                                               ReadPreference read_preference);
  static boost::asio::awaitable<Cursor> co_list_collections(Database self,
                                                            ListCollectionsOptions options);
  static boost::asio::awaitable<Cursor> co_aggregate(Database self, bson::View pipeline,
                                                     AggregateOptions options);
  static boost::asio::awaitable<void> co_drop(Database self);
  static boost::asio::awaitable<std::vector<std::string>> co_list_collection_names(
      Database self, bson::Document filter);
  static boost::asio::awaitable<Cursor> co_run_cursor_command(Database self, bson::View command,
                                                              RunCursorCommandOptions options);
  static boost::asio::awaitable<Collection> co_create_collection(Database self, std::string name,
                                                                 CreateCollectionOptions options);

  std::shared_ptr<ClientCore> core_;
  std::string name_;
  HandleOptions options_;
  std::shared_ptr<ClientSessionState> session_;  // with_session's; none: implicit sessions
};

}  // namespace mongoslice
