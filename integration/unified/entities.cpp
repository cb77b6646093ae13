#include "unified/entities.hpp"

#include "unified/api_mode.hpp"

namespace mongoslice::unified {

void CommandEventLog::on(const CommandStartedEvent& e) {
  add({CommandEventRecord::Kind::kStarted,
       e.request_id,
       std::string(e.command_name),
       std::string(e.database),
       bson::Document(e.command),
       {}});
}
void CommandEventLog::on(const CommandSucceededEvent& e) {
  add({CommandEventRecord::Kind::kSucceeded,
       e.request_id,
       std::string(e.command_name),
       std::string(e.database),
       bson::Document(e.reply),
       {}});
}
void CommandEventLog::on(const CommandFailedEvent& e) {
  add({CommandEventRecord::Kind::kFailed, e.request_id, std::string(e.command_name),
       std::string(e.database), bson::Document(), std::string(e.message)});
}
void CommandEventLog::add(CommandEventRecord record) {
  std::lock_guard lock(mutex_);
  events_.push_back(std::move(record));
}
std::vector<CommandEventRecord> CommandEventLog::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}
void CommandEventLog::clear() {
  std::lock_guard lock(mutex_);
  events_.clear();
}

void EntityMap::claim(const std::string& id) {
  if (!ids_.insert(id).second) throw TestFailure("entity id '" + id + "' is defined twice");
}

ClientEntity& EntityMap::add_client(const std::string& id, ClientEntity client) {
  claim(id);
  return clients_.emplace(id, std::move(client)).first->second;
}
void EntityMap::add_database(const std::string& id, Database db) {
  claim(id);
  databases_.emplace(id, std::move(db));
}
void EntityMap::add_collection(const std::string& id, Collection coll) {
  claim(id);
  collections_.emplace(id, std::move(coll));
}
void EntityMap::add_value(const std::string& id, Value value) {
  claim(id);
  values_.emplace(id, std::move(value));
}
void EntityMap::add_cursor(const std::string& id, Cursor cursor) {
  claim(id);
  auto entity = std::make_unique<CursorEntity>();
  entity->cursor = std::move(cursor);
  cursors_.emplace(id, std::move(entity));
}

std::optional<bson::View> next_document(Cursor& cursor) {
  // A cursor of the other API would mean the mode switch missed an operation.
  if (cursor.async_only() != async_api()) {
    throw TestFailure(std::string("the runner drives the ") + (async_api() ? "async" : "sync") +
                      " API but got a cursor of the " + (async_api() ? "sync" : "async") + " one");
  }
  return MONGOSLICE_UNIFIED_CALL(cursor, next);
}

std::optional<bson::Document> CursorEntity::next() {
  auto doc = next_document(cursor);
  if (!doc) return std::nullopt;
  return bson::Document(*doc);
}

void EntityMap::add_not_built(const std::string& id, std::string reason) {
  claim(id);
  not_built_.emplace(id, std::move(reason));
}

const std::string* EntityMap::not_built(const std::string& id) const {
  auto it = not_built_.find(id);
  return it == not_built_.end() ? nullptr : &it->second;
}

namespace {
template <typename Map>
auto& find_entity(Map& map, const std::string& id, const char* kind, const EntityMap& all) {
  auto it = map.find(id);
  if (it != map.end()) return it->second;
  if (const std::string* reason = all.not_built(id)) {
    throw Unsupported("entity '" + id + "': " + *reason);
  }
  const std::string actual = all.kind_of(id);
  throw TestFailure("no " + std::string(kind) + " entity '" + id + "'" +
                    (actual.empty() ? "" : " (it is a " + actual + ")"));
}
}  // namespace

ClientEntity& EntityMap::client(const std::string& id) {
  return find_entity(clients_, id, "client", *this);
}
const Database& EntityMap::database(const std::string& id) const {
  return find_entity(databases_, id, "database", *this);
}
const Collection& EntityMap::collection(const std::string& id) const {
  return find_entity(collections_, id, "collection", *this);
}

CursorEntity& EntityMap::cursor(const std::string& id) {
  return *find_entity(cursors_, id, "cursor", *this);
}

std::string EntityMap::kind_of(const std::string& id) const {
  if (clients_.count(id)) return "client";
  if (cursors_.count(id)) return "cursor";
  if (databases_.count(id)) return "database";
  if (collections_.count(id)) return "collection";
  if (values_.count(id)) return "value";
  if (not_built_.count(id)) return "not built";
  return {};
}

std::optional<Value> EntityMap::value(std::string_view id) const {
  auto it = values_.find(std::string(id));
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> EntityMap::not_built_reasons() const {
  std::vector<std::string> out;
  for (const auto& [id, reason] : not_built_) out.push_back("entity '" + id + "': " + reason);
  return out;
}

void EntityMap::close() {
  made_cursor_.reset();
  cursors_.clear();
  for (auto& [id, c] : clients_) {
    if (c.client) c.client->close();
  }
}

}  // namespace mongoslice::unified
