#pragma once
// The entities of one unified test (clients, databases, collections, saved values), made from
// its file's createEntities, and the command events each client entity records.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "driver/events.hpp"
#include "mongoslice.hpp"
#include "unified/value.hpp"

namespace mongoslice::unified {

// One command event as a client entity saw it (copied out of the event).
struct CommandEventRecord {
  enum class Kind { kStarted, kSucceeded, kFailed } kind;
  std::int32_t request_id = 0;  // pairs a started event with its succeeded / failed one
  std::string command_name;
  std::string database;
  bson::Document document;  // the command (started) or the reply (succeeded); {} for failed
  std::string message;      // failed: the error
};

// Records every command event of one client (thread-safe: events arrive on the operation's
// thread and on the kill-cursors executor's).
class CommandEventLog : public EventListener {
 public:
  void on(const CommandStartedEvent& e) override;
  void on(const CommandSucceededEvent& e) override;
  void on(const CommandFailedEvent& e) override;
  std::vector<CommandEventRecord> events() const;
  void clear();

 private:
  void add(CommandEventRecord record);
  mutable std::mutex mutex_;
  std::vector<CommandEventRecord> events_;
};

struct ClientEntity {
  std::shared_ptr<CommandEventLog> log;
  std::unique_ptr<MongoClient> client;
  std::set<std::string> observe;           // observeEvents
  std::set<std::string> ignored_commands;  // ignoreCommandMonitoringEvents
  bool observe_sensitive = false;
};

// The cursor's next document (getMore when the batch is used up), or nothing at the end: next()
// in sync mode, async_next in async mode (unified/api_mode.hpp). The view is valid until the
// next call.
std::optional<bson::View> next_document(Cursor& cursor);

// A cursor entity (createFindCursor, createCommandCursor). Each iteration consumes the document
// it moves to.
struct CursorEntity {
  Cursor cursor;
  // Moves to the next document and returns it (a copy), or nullopt at the end. Throws what
  // iteration throws (getMore errors).
  std::optional<bson::Document> next();
};

class EntityMap {
 public:
  // Each throws TestFailure for an id already taken.
  ClientEntity& add_client(const std::string& id, ClientEntity client);
  void add_database(const std::string& id, Database db);
  void add_collection(const std::string& id, Collection coll);
  void add_value(const std::string& id, Value value);
  void add_cursor(const std::string& id, Cursor cursor);
  // An entity of a type (or with an option) that is not built: using it skips the test.
  void add_not_built(const std::string& id, std::string reason);

  // Each throws TestFailure when no entity of that id and type exists, and Unsupported when the
  // id names a not-built entity.
  ClientEntity& client(const std::string& id);
  const Database& database(const std::string& id) const;
  const Collection& collection(const std::string& id) const;
  CursorEntity& cursor(const std::string& id);

  // The cursor the last operation made (createFindCursor, createCommandCursor), which the
  // runner saves as the entity its saveResultAsEntity names; an unsaved one is dropped (an
  // abandoned cursor: the kill-cursors queue kills it).
  void set_made_cursor(Cursor cursor) { made_cursor_.emplace(std::move(cursor)); }
  std::optional<Cursor> take_made_cursor() { return std::exchange(made_cursor_, std::nullopt); }

  bool has_client(const std::string& id) const { return clients_.count(id) > 0; }
  bool has_database(const std::string& id) const { return databases_.count(id) > 0; }
  bool has_collection(const std::string& id) const { return collections_.count(id) > 0; }
  // The reason of a not-built entity, or nullptr.
  const std::string* not_built(const std::string& id) const;
  // What kind of entity `id` is ("client", "database", "collection", "cursor", "value",
  // "not built"), or empty when none.
  std::string kind_of(const std::string& id) const;
  std::optional<Value> value(std::string_view id) const;

  std::map<std::string, ClientEntity>& clients() { return clients_; }
  // The reasons of the not-built entities.
  std::vector<std::string> not_built_reasons() const;

  // Drops every cursor (a live one goes to its client's kill-cursors queue), then closes every
  // client (their events stop).
  void close();

 private:
  void claim(const std::string& id);
  std::set<std::string> ids_;
  std::map<std::string, ClientEntity> clients_;
  std::map<std::string, Database> databases_;
  std::map<std::string, Collection> collections_;
  std::map<std::string, Value> values_;
  // Held by pointer: a CursorEntity's iterator points at its cursor.
  std::map<std::string, std::unique_ptr<CursorEntity>> cursors_;
  std::optional<Cursor> made_cursor_;
  std::map<std::string, std::string> not_built_;
};

}  // namespace mongoslice::unified
