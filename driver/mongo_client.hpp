#pragma once
// The entry point of the driver.
//
//   mongoslice::MongoClient client{"mongodb://localhost:27017/?appName=demo"};
//   auto coll = client["db"]["coll"];
//   coll.insert_one(bson::Document::from_json(R"({"x": 1})"));
//   for (bson::View doc : coll.find({}, {.batch_size = 100})) { ... }
//
// A client owns its topology (one monitor thread per server, one connection pool per server)
// and one kill-cursors executor thread. It is thread-safe: share one client (or Databases and
// Collections made from it) between threads; each thread iterates its own cursors.
//
// Closing: close(), or the destructor, returns within about 1.2 s (ClientCore::kCloseBound:
// 200 ms for a kill run in progress, then 1 s for the final kill run), whatever the servers do,
// provided event listeners return promptly. It interrupts every operation in flight (they fail
// with Error(errc::client_closed)), sends the killCursors still queued on fresh connections
// within that budget (what cannot be sent is reported dropped: CursorsDroppedEvent and a log
// line), then closes the monitors and pools. When it returns, no thread of this client runs and
// no listener of it is called again. Afterwards every operation of this client, its Databases
// and Collections throws Error(errc::client_closed). A listener may call close() (it then
// returns at once).
//
// Cursors that outlive their client: this is safe, and defined as follows.
//  - Iterating on: getMore throws Error(errc::client_closed). Cursor::close() likewise.
//  - Destroying it: the cursor pushes its kill record onto the client's kill queue, which the
//    cursor co-owns, so no freed memory is touched. After the final kill run nobody sends it:
//    the cursor's destructor logs a warning (component "cursor": id, namespace, server) and
//    orphaned_kills() counts it; the server reaps such cursors after its cursorTimeoutMillis
//    (10 minutes by default). To have them killed, destroy or close your cursors first.
//  - A cursor destroyed while close() runs either makes it into the final kill run (and is
//    sent), or is reported as dropped (CursorsDroppedEvent, reason client_closed), or is
//    logged as above if it comes after the final run.
//  - A client never destroyed (leaked, or a static): at process exit its threads are stopped
//    and its queued kills reported dropped (reason client_closed).
//
// After fork(): the child may close or destroy the client it inherited (whatever its URI), and
// doing so never disturbs the parent: the inherited sockets are closed in the child only (never
// shut down or written to), no killCursors goes out for the parent's cursors (a cursor
// inherited from the parent and destroyed in the child is reported dropped, reason after_fork),
// and nothing waits for the parent's threads. To talk to the server, the child makes a new
// client.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "driver/client_options.hpp"
#include "driver/client_session.hpp"
#include "driver/connection_string.hpp"
#include "driver/database.hpp"

namespace mongoslice {

class ClientCore;
class PeriodicExecutor;

// Options of MongoClient::list_databases (the listDatabases command's).
struct ListDatabasesOptions {
  std::optional<bson::Document> filter;  // on the entries: name, sizeOnDisk, empty
  bool name_only = false;                // entries hold only the name
  bool authorized_databases = false;     // only the databases the user may read
  // The comment the command carries. The spec allows any BSON value; this driver takes a
  // string (servers before 4.4 refuse a comment on listDatabases).
  std::optional<std::string> comment;
};

class MongoClient {
 public:
  // Parses the URI (throws Error(errc::invalid_uri)), starts monitoring and the kill-cursors
  // executor. Does not wait for a server: the first operation does (serverSelectionTimeoutMS).
  // A mongodb+srv:// URI's SRV and TXT records are looked up here, within connectTimeoutMS,
  // through ClientOptions::dns (driver/seedlist.hpp); their errors are thrown from here.
  explicit MongoClient(std::string_view uri, ClientOptions options = {});
  ~MongoClient();
  MongoClient(MongoClient&&) noexcept = default;
  MongoClient& operator=(MongoClient&&) noexcept;
  MongoClient(const MongoClient&) = delete;
  MongoClient& operator=(const MongoClient&) = delete;

  // The connection string the client runs with: as parsed, with a mongodb+srv:// seed list
  // resolved (hosts filled, the TXT record's options applied). Throws Error(errc::client_closed)
  // on a moved-from client.
  const ConnectionString& uri() const;

  // A handle on the database `name`, carrying the URI's write concern (w, wTimeoutMS, journal),
  // read concern (readConcernLevel) and read preference as its options (see HandleOptions);
  // its collections inherit them. Throws Error(errc::invalid_argument) for a name
  // driver/names.hpp refuses, Error(errc::client_closed) on a moved-from client.
  Database database(std::string_view name) const;
  Database operator[](std::string_view name) const { return database(name); }

  // The databases of the deployment: listDatabases on the admin database, sent to the primary
  // (read preference primary, as for Database::run_command). The command has no cursor, so this
  // returns the whole `databases` array as documents ({name, sizeOnDisk, empty, ...}; with
  // name_only {name}), copied out of the reply. Thread-safe, like every operation of the client.
  // Throws ServerError for {ok: 0}, Error(errc::bson_key_missing / bson_type_mismatch) for a
  // malformed reply, mongoslice::Error for network, server selection or a closed client.
  std::vector<bson::Document> list_databases(const ListDatabasesOptions& options = {}) const;
  // The names of the databases (listDatabases with nameOnly: true). Throws as list_databases.
  std::vector<std::string> list_database_names() const;

  // The asynchronous twin of list_databases (see Collection's twins and
  // cursor/async_completion.hpp).
  template <typename Token>
  auto async_list_databases(const ListDatabasesOptions& options, Token&& token) const {
    return complete_async<std::vector<bson::Document>>(
        async_executor(), co_list_databases(core_, options), std::forward<Token>(token));
  }
  template <typename Token>
  auto async_list_databases(Token&& token) const {
    return async_list_databases(ListDatabasesOptions{}, std::forward<Token>(token));
  }

  template <typename Token>
  auto async_list_database_names(Token&& token) const {
    return complete_async<std::vector<std::string>>(async_executor(), co_list_database_names(core_),
                                                    std::forward<Token>(token));
  }

  // An explicit session (driver/client_session.hpp): pass it as an operation's first argument,
  // or bind a handle to it with with_session(). Its server session comes from the client's pool
  // at its first command. Throws Error(errc::client_closed) on a closed or moved-from client.
  ClientSession start_session(const SessionOptions& options = {}) const;

  // See "Closing" above. Idempotent. Operations of the async API still pending complete with
  // errc::client_closed.
  void close() noexcept;

  // For tests and tools: the thread that sends killCursors.
  PeriodicExecutor& kill_cursors_executor() const;

  // Cursors destroyed after close() had sent its final kills (see above).
  std::uint64_t orphaned_kills() const noexcept;

 private:
  friend struct ClientBodies;
  std::optional<boost::asio::any_io_executor> async_executor() const;
  static boost::asio::awaitable<std::vector<bson::Document>> co_list_databases(
      std::shared_ptr<ClientCore> core, ListDatabasesOptions options);
  static boost::asio::awaitable<std::vector<std::string>> co_list_database_names(
      std::shared_ptr<ClientCore> core);

  std::shared_ptr<ClientCore> core_;
};

}  // namespace mongoslice
