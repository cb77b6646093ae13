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
// Closing: close(), or the destructor, stops the kill-cursors executor, sends the killCursors
// still queued (each round trip bounded by min(socketTimeoutMS, 10 s)), then closes the
// monitors and pools. Afterwards every operation of this client, its Databases and Collections
// throws Error(errc::client_closed).
//
// Cursors that outlive their client: this is safe, and defined as follows.
//  - Iterating on: getMore throws Error(errc::client_closed). Cursor::close() likewise.
//  - Destroying it: the cursor pushes its kill record onto the client's kill queue, which the
//    cursor co-owns, so no freed memory is touched. The queue is closed, so the record is only
//    counted (KillQueue::dropped_after_close()) and freed with the queue when the last cursor
//    goes; nobody is left to send or report it. The server reaps such cursors after its
//    cursorTimeoutMillis (10 minutes by default). To have them killed, destroy or close your
//    cursors before the client.
//  - A cursor destroyed while close() runs either makes it into the final kill run (and is
//    sent), or is reported as dropped (CursorsDroppedEvent, reason client_closed), or is
//    counted as above if it comes after the final run.
//
// After fork(): the child must not use the parent's client (its sockets are shared with the
// parent); make a new one. A cursor inherited from the parent and destroyed in the child is never
// killed: its record carries the parent's fork generation, and the kill-cursors task reports it
// dropped (reason after_fork) instead of killing the parent's server cursor.

#include <memory>
#include <string_view>

#include "driver/client_options.hpp"
#include "driver/database.hpp"

namespace mongoslice {

class ClientCore;
class PeriodicExecutor;

class MongoClient {
 public:
  // Parses the URI (throws Error(errc::invalid_uri)), starts monitoring and the kill-cursors
  // executor. Does not wait for a server: the first operation does (serverSelectionTimeoutMS).
  explicit MongoClient(std::string_view uri, ClientOptions options = {});
  ~MongoClient();
  MongoClient(MongoClient&&) noexcept = default;
  MongoClient& operator=(MongoClient&&) noexcept;
  MongoClient(const MongoClient&) = delete;
  MongoClient& operator=(const MongoClient&) = delete;

  Database database(std::string_view name) const;
  Database operator[](std::string_view name) const { return database(name); }

  // See "Closing" above. Idempotent.
  void close() noexcept;

  // For tests and tools: the thread that sends killCursors.
  PeriodicExecutor& kill_cursors_executor() const;

 private:
  std::shared_ptr<ClientCore> core_;
};

}  // namespace mongoslice
