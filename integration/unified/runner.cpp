#include "unified/runner.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <tuple>

#include "mongoslice.hpp"
#include "unified/entities.hpp"
#include "unified/matcher.hpp"
#include "unified/operations.hpp"
#include "unified/skips.hpp"

namespace mongoslice::unified {

namespace {

// The schema versions this runner reads: 1.x (the format's current minor is 1.29 at the
// spec-tests' commit). A feature of a version it does not build is skipped, never ignored.
constexpr int kSupportedMajor = 1;
constexpr int kSupportedMinor = 29;

using Version = std::tuple<int, int, int>;

Version parse_version(std::string_view text) {
  int parts[3] = {0, 0, 0};
  std::size_t i = 0;
  std::string number;
  for (std::size_t k = 0; k <= text.size() && i < 3; ++k) {
    const char c = k < text.size() ? text[k] : '.';
    if (std::isdigit(static_cast<unsigned char>(c))) {
      number += c;
    } else {
      parts[i++] = number.empty() ? 0 : std::stoi(number);
      number.clear();
      if (c != '.') break;  // "7.0.0-rc1": stop at the suffix
    }
  }
  return {parts[0], parts[1], parts[2]};
}

// What the runner knows of a server: its version (buildInfo), its topology type as the format
// names it (hello), and whether it needs authentication (a URI with credentials).
struct ServerFacts {
  std::string version_text;
  Version version;
  std::string topology;
  bool auth = false;
};

// The runner's own client of each server (no listeners), and its facts, made once.
struct ServerState {
  std::unique_ptr<MongoClient> client;
  ServerFacts facts;
};

ServerState& server_state(const ServerTarget& server) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<ServerState>> states;
  std::lock_guard lock(mutex);
  auto& state = states[server.uri];
  if (!state) {
    auto s = std::make_unique<ServerState>();
    s->client = std::make_unique<MongoClient>(server.uri);
    const Database admin = s->client->database("admin");
    const bson::Document build_info =
        admin.run_command(bson::Document::from_json(R"({"buildInfo": 1})"));
    s->facts.version_text = std::string(build_info["version"].get_string());
    s->facts.version = parse_version(s->facts.version_text);
    const bson::Document hello = admin.run_command(bson::Document::from_json(R"({"isMaster": 1})"));
    if (hello.find("setName")) {
      s->facts.topology = "replicaset";
    } else if (auto msg = hello.find("msg");
               msg && msg->type() == bson::Type::kString && msg->get_string() == "isdbgrid") {
      s->facts.topology = "sharded";
    } else {
      s->facts.topology = "single";
    }
    const auto scheme_end = server.uri.find("://");
    const auto at = server.uri.find('@');
    s->facts.auth = at != std::string::npos &&
                    (scheme_end == std::string::npos || at < server.uri.find('/', scheme_end + 3));
    state = std::move(s);
  }
  return *state;
}

// Why `requirement` is not met by the server, or empty when it is.
std::string unmet_reason(bson::View requirement, const ServerFacts& facts) {
  std::vector<std::string> reasons;
  for (bson::Element field : requirement) {
    const std::string_view key = field.key();
    if (key == "minServerVersion") {
      if (facts.version < parse_version(field.get_string())) {
        reasons.push_back("server version " + facts.version_text + " < minServerVersion " +
                          std::string(field.get_string()));
      }
    } else if (key == "maxServerVersion") {
      if (facts.version > parse_version(field.get_string())) {
        reasons.push_back("server version " + facts.version_text + " > maxServerVersion " +
                          std::string(field.get_string()));
      }
    } else if (key == "topologies") {
      bool found = false;
      std::string list;
      for (bson::Element t : field.get_array()) {
        std::string_view name = t.get_string();
        list += (list.empty() ? "" : ", ") + std::string(name);
        if (name == facts.topology || (name == "sharded-replicaset" && facts.topology == "sharded"))
          found = true;
      }
      if (!found) reasons.push_back("topology " + facts.topology + " is not one of " + list);
    } else if (key == "serverless") {
      if (field.get_string() == "require") reasons.push_back("the server is not serverless");
    } else if (key == "auth") {
      if (field.get_bool() != facts.auth) {
        reasons.push_back(facts.auth ? "the test needs a server without authentication"
                                     : "the test needs a server with authentication");
      }
    } else if (key == "authMechanism") {
      reasons.push_back("authMechanism requirements are not checked (no authentication here)");
    } else if (key == "serverParameters") {
      reasons.push_back("serverParameters requirements are not checked by this runner");
    } else if (key == "csfle") {
      reasons.push_back("client-side encryption (csfle) is not built in mongoslice");
    } else {
      reasons.push_back("unknown requirement '" + std::string(key) + "'");
    }
  }
  std::string out;
  for (const auto& r : reasons) out += (out.empty() ? "" : "; ") + r;
  return out;
}

// Throws Unsupported when no requirement of `requirements` (an array) is met.
void check_requirements(std::optional<bson::View> requirements, const ServerFacts& facts,
                        const std::string& level) {
  if (!requirements) return;
  std::string all;
  for (bson::Element r : *requirements) {
    const std::string reason = unmet_reason(r.get_document(), facts);
    if (reason.empty()) return;
    all += (all.empty() ? "" : " | ") + reason;
  }
  throw Unsupported("runOnRequirements of the " + level + " not met: " + all);
}

// ---- entities --------------------------------------------------------------------------------

std::string uri_with_options(const std::string& base, bson::View options) {
  std::string uri = base;
  bool first = uri.find('?') == std::string::npos;
  if (first && uri.find('/', uri.find("://") + 3) == std::string::npos) uri += '/';
  for (bson::Element field : options) {
    std::string value;
    switch (field.type()) {
      case bson::Type::kString:
        value = std::string(field.get_string());
        break;
      case bson::Type::kBool:
        value = field.get_bool() ? "true" : "false";
        break;
      case bson::Type::kInt32:
      case bson::Type::kInt64:
      case bson::Type::kDouble:
        value = std::to_string(field.as_int64());
        break;
      default:
        throw Unsupported("uriOptions '" + std::string(field.key()) + "' of type " +
                          std::string(unified_type_name(field.type())));
    }
    uri += (first ? "?" : "&") + std::string(field.key()) + "=" + value;
    first = false;
  }
  return uri;
}

WriteConcern write_concern_of(bson::View doc) {
  WriteConcern wc;
  for (bson::Element f : doc) {
    if (f.key() == "w") {
      if (f.type() == bson::Type::kString) {
        wc.w = std::string(f.get_string());
      } else {
        wc.w = f.as_int32();
      }
    } else if (f.key() == "j" || f.key() == "journal") {
      wc.journal = f.get_bool();
    } else if (f.key() == "wtimeoutMS" || f.key() == "wtimeout") {
      wc.wtimeout = std::chrono::milliseconds(f.as_int64());
    } else {
      throw Unsupported("writeConcern field '" + std::string(f.key()) + "'");
    }
  }
  return wc;
}

// A database's or collection's options; Unsupported for an option that is not built.
HandleOptions handle_options_of(bson::View doc, const std::string& where) {
  HandleOptions o;
  for (bson::Element f : doc) {
    const std::string_view key = f.key();
    if (key == "readConcern") {
      ReadConcern rc;
      if (auto level = f.get_document().find("level")) rc.level = std::string(level->get_string());
      o.read_concern = rc;
    } else if (key == "writeConcern") {
      o.write_concern = write_concern_of(f.get_document());
    } else if (key == "readPreference") {
      ReadPreference rp;
      bson::View d = f.get_document();
      auto mode = parse_read_preference_mode(required_string(d, "mode", where));
      if (!mode) throw TestFailure(where + ": unknown read preference mode");
      rp.mode = *mode;
      for (bson::Element x : d) {
        if (x.key() == "mode") continue;
        if (x.key() == "maxStalenessSeconds") {
          rp.max_staleness = std::chrono::seconds(x.as_int64());
        } else if (x.key() == "tagSets") {
          for (bson::Element t : x.get_array()) rp.tag_sets.emplace_back(t.get_document());
        } else {
          throw Unsupported(where + ": read preference field '" + std::string(x.key()) + "'");
        }
      }
      o.read_preference = rp;
    } else if (key == "timeoutMS") {
      throw Unsupported(where +
                        ": timeoutMS (client-side operation timeout) is not built in "
                        "mongoslice");
    } else {
      throw TestFailure(where + ": unknown option '" + std::string(key) + "'");
    }
  }
  return o;
}

const std::set<std::string> kCommandEventNames = {"commandStartedEvent", "commandSucceededEvent",
                                                  "commandFailedEvent"};

void create_client(EntityMap& entities, bson::View spec, const ServerTarget& server) {
  const std::string id = required_string(spec, "id", "client entity");
  for (bson::Element f : spec) {
    if (auto reason = reason_in(kNotBuiltClientOptions, f.key()); !reason.empty()) {
      entities.add_not_built(id, std::string(reason));
      return;
    }
  }
  ClientEntity c;
  c.log = std::make_shared<CommandEventLog>();
  if (auto observe = optional_array(spec, "observeEvents", "client " + id)) {
    for (bson::Element e : *observe) {
      const std::string name(e.get_string());
      if (!kCommandEventNames.count(name)) {
        entities.add_not_built(id, "observing " + name +
                                       " (CMAP/SDAM event expectations are not built in this "
                                       "runner)");
        return;
      }
      c.observe.insert(name);
    }
  }
  if (auto ignored = optional_array(spec, "ignoreCommandMonitoringEvents", "client " + id)) {
    for (bson::Element e : *ignored) c.ignored_commands.insert(std::string(e.get_string()));
  }
  c.observe_sensitive =
      optional_bool(spec, "observeSensitiveCommands", "client " + id).value_or(false);
  std::string uri = server.uri;
  if (auto options = optional_document(spec, "uriOptions", "client " + id)) {
    uri = uri_with_options(uri, *options);
  }
  try {
    c.client = std::make_unique<MongoClient>(uri, ClientOptions{{c.log}});
  } catch (const Error& e) {
    throw Unsupported("client " + id + ": mongoslice refuses its URI " + uri + ": " + e.what());
  }
  entities.add_client(id, std::move(c));
}

void create_entity(EntityMap& entities, bson::View entity, const ServerTarget& server) {
  const bson::Element top = *entity.begin();
  const std::string type(top.key());
  const bson::View spec = top.get_document();
  const std::string where = type + " entity";
  if (type == "client") {
    create_client(entities, spec, server);
    return;
  }
  const std::string id = required_string(spec, "id", where);
  // The entity this one is made from must exist (a not-built one makes this one not built).
  auto parent = [&](const std::string& key, const std::string& kind) -> const std::string* {
    const std::string ref = required_string(spec, key, where + " " + id);
    const std::string actual = entities.kind_of(ref);
    if (actual == "not built") return entities.not_built(ref);
    if (actual != kind) {
      throw TestFailure(where + " " + id + ": " + key + " '" + ref + "' is not a " + kind +
                        " entity");
    }
    return nullptr;
  };
  if (type == "database") {
    if (const std::string* reason = parent("client", "client")) {
      entities.add_not_built(id, *reason);
      return;
    }
    HandleOptions options;
    if (auto o = optional_document(spec, "databaseOptions", where)) {
      try {
        options = handle_options_of(*o, where + " " + id);
      } catch (const Unsupported& e) {
        entities.add_not_built(id, e.what());
        return;
      }
    }
    const std::string name = required_string(spec, "databaseName", where);
    Database db = entities.client(required_string(spec, "client", where)).client->database(name);
    entities.add_database(id, db.with_options(options));
    return;
  }
  if (type == "collection") {
    if (const std::string* reason = parent("database", "database")) {
      entities.add_not_built(id, *reason);
      return;
    }
    HandleOptions options;
    if (auto o = optional_document(spec, "collectionOptions", where)) {
      try {
        options = handle_options_of(*o, where + " " + id);
      } catch (const Unsupported& e) {
        entities.add_not_built(id, e.what());
        return;
      }
    }
    const std::string name = required_string(spec, "collectionName", where);
    const Database& db = entities.database(required_string(spec, "database", where));
    entities.add_collection(id, db.collection(name).with_options(options));
    return;
  }
  auto reason = reason_in(kNotBuiltEntities, type);
  if (reason.empty()) throw TestFailure("unknown entity type '" + type + "'");
  if (type == "session") parent("client", "client");
  if (type == "bucket") parent("database", "database");
  if (type == "clientEncryption") {
    const bson::View opts = required_document(spec, "clientEncryptionOpts", where);
    const std::string ref = required_string(opts, "keyVaultClient", where);
    if (entities.kind_of(ref) != "client" && entities.kind_of(ref) != "not built") {
      throw TestFailure(where + " " + id + ": keyVaultClient '" + ref + "' is not a client");
    }
  }
  entities.add_not_built(id, std::string(reason));
}

void create_entities(EntityMap& entities, bson::View list, const ServerTarget& server) {
  for (bson::Element e : list) create_entity(entities, e.get_document(), server);
}

// ---- data --------------------------------------------------------------------------------

void load_initial_data(MongoClient& client, bson::View list) {
  for (bson::Element e : list) {
    const bson::View data = e.get_document();
    const std::string db_name = required_string(data, "databaseName", "initialData");
    const std::string coll_name = required_string(data, "collectionName", "initialData");
    const Database db = client.database(db_name);
    db.collection(coll_name).drop();
    std::vector<bson::Document> docs;
    // Held in a local: a range-for over *optional_array(...) would iterate a view inside a
    // temporary destroyed before the loop body (C++20 range-for lifetime rules).
    const std::optional<bson::View> documents = optional_array(data, "documents", "initialData");
    if (!documents) throw TestFailure("initialData: an entry has no documents array");
    for (bson::Element d : *documents) docs.emplace_back(d.get_document());
    auto create_options = optional_document(data, "createOptions", "initialData");
    if (create_options || docs.empty()) {
      bson::Builder create;
      create.append("create", coll_name);
      if (create_options) create.concat(*create_options);
      db.run_command(create.build());
    }
    if (!docs.empty()) db.collection(coll_name).insert_many(docs);
  }
}

void check_outcome(MongoClient& client, bson::View list) {
  for (bson::Element e : list) {
    const bson::View data = e.get_document();
    const std::string db_name = required_string(data, "databaseName", "outcome");
    const std::string coll_name = required_string(data, "collectionName", "outcome");
    std::vector<bson::Document> docs;
    FindOptions o;
    o.sort = bson::Document::from_json(R"({"_id": 1})");
    for (bson::View d : client.database(db_name).collection(coll_name).find({}, o)) {
      docs.emplace_back(d);
    }
    const Value actual = array_of(docs);
    const bson::Element expected = data["documents"];
    if (auto error = match(expected, actual.get(), nullptr, false, false,
                           "outcome " + db_name + "." + coll_name);
        !error.empty()) {
      throw TestFailure(error);
    }
  }
}

// ---- errors -------------------------------------------------------------------------------

// What an operation threw, as expectError reads it.
struct ObservedError {
  enum class Kind { kClient, kServer, kBulkWrite } kind = Kind::kClient;
  std::string message;
  std::optional<std::int32_t> code;
  std::optional<std::string> code_name;
  std::optional<std::vector<std::string>> labels;  // nothing: this error carries none
  std::optional<bson::Document> response;
  std::error_code error_code;
  std::optional<Value> partial_result;  // a BulkWriteError's
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void check_error(bson::View expected, const ObservedError& error, const EntityValueLookup& lookup,
                 const std::string& op) {
  const std::string where = op + ": expectError: ";
  const std::string what = " (the error: " + error.message + ")";
  for (bson::Element f : expected) {
    const std::string_view key = f.key();
    if (key == "isError") continue;
    if (key == "isClientError") {
      const bool is_client = error.kind == ObservedError::Kind::kClient;
      if (f.get_bool() != is_client) {
        throw TestFailure(where +
                          (is_client ? "a client error, expected a server error"
                                     : "a server error, expected a client error") +
                          what);
      }
    } else if (key == "isTimeoutError") {
      const bool timeout = error.error_code == make_error_code(errc::timeout);
      if (f.get_bool()) throw Unsupported(std::string(reason_in(kNotBuiltExpectations, key)));
      if (timeout) throw TestFailure(where + "a timeout error, expected another error" + what);
    } else if (key == "errorContains") {
      if (lower(error.message).find(lower(std::string(f.get_string()))) == std::string::npos) {
        throw TestFailure(where + "the message does not contain '" + std::string(f.get_string()) +
                          "'" + what);
      }
    } else if (key == "errorCode") {
      if (!error.code || *error.code != f.as_int64()) {
        throw TestFailure(where + "expected code " + std::to_string(f.as_int64()) + ", got " +
                          (error.code ? std::to_string(*error.code) : "none") + what);
      }
    } else if (key == "errorCodeName") {
      if (error.kind == ObservedError::Kind::kBulkWrite) {
        throw Unsupported(
            std::string(reason_in(kNotBuiltExpectations, "errorCodeName:BulkWriteError")));
      }
      if (!error.code_name || *error.code_name != f.get_string()) {
        throw TestFailure(where + "expected codeName " + std::string(f.get_string()) + ", got " +
                          error.code_name.value_or("none") + what);
      }
    } else if (key == "errorLabelsContain" || key == "errorLabelsOmit") {
      if (!error.labels) {
        if (key == "errorLabelsOmit") continue;  // no labels: none of them is present
        if (error.kind == ObservedError::Kind::kBulkWrite) {
          throw Unsupported(
              std::string(reason_in(kNotBuiltExpectations, "errorLabelsContain:BulkWriteError")));
        }
        throw TestFailure(where + "the error has no labels" + what);
      }
      for (bson::Element label : f.get_array()) {
        const bool has = std::find(error.labels->begin(), error.labels->end(),
                                   label.get_string()) != error.labels->end();
        if (has != (key == "errorLabelsContain")) {
          throw TestFailure(where + "label " + std::string(label.get_string()) +
                            (has ? " is present" : " is missing") + what);
        }
      }
    } else if (key == "errorResponse") {
      if (!error.response) throw TestFailure(where + "the error carries no server response" + what);
      if (auto m = match_document(f.get_document(), *error.response, lookup, true, "errorResponse");
          !m.empty()) {
        throw TestFailure(where + m);
      }
    } else if (key == "expectResult") {
      // The partial result of a failed write (a BulkWriteError's); other errors carry none.
      std::optional<bson::Element> partial;
      if (error.partial_result) partial = error.partial_result->get();
      if (auto m = match(f, partial, lookup, true, false, "expectError.expectResult"); !m.empty()) {
        throw TestFailure(where + m + what);
      }
    } else if (auto reason = reason_in(kNotBuiltExpectations, key); !reason.empty()) {
      throw Unsupported(std::string(reason));
    } else {
      throw TestFailure(where + "unknown key '" + std::string(key) + "'");
    }
  }
}

// ---- events -----------------------------------------------------------------------------

const std::set<std::string> kSensitiveCommands = {
    "authenticate", "saslstart",      "saslcontinue",    "getnonce", "createuser",
    "updateuser",   "copydbgetnonce", "copydbsaslstart", "copydb"};

// Whether the command of a started event is security-sensitive (the command monitoring spec's
// list, and hello / legacy hello with speculativeAuthenticate).
bool is_sensitive_command(const CommandEventRecord& started) {
  const std::string name = lower(started.command_name);
  if (kSensitiveCommands.count(name)) return true;
  // A hello the driver redacted has an empty body (every command as sent has at least $db); one
  // still showing speculativeAuthenticate is a leak, which the caller reports.
  return (name == "hello" || name == "ismaster") &&
         (started.document.view().empty() ||
          started.document.find("speculativeAuthenticate").has_value());
}

// The request ids of the sensitive commands among `events` (their replies are sensitive too).
std::set<std::int32_t> sensitive_requests(const std::vector<CommandEventRecord>& events) {
  std::set<std::int32_t> out;
  for (const auto& e : events) {
    if (e.kind == CommandEventRecord::Kind::kStarted && is_sensitive_command(e)) {
      out.insert(e.request_id);
    }
  }
  return out;
}

std::string_view event_name(CommandEventRecord::Kind kind) {
  switch (kind) {
    case CommandEventRecord::Kind::kStarted:
      return "commandStartedEvent";
    case CommandEventRecord::Kind::kSucceeded:
      return "commandSucceededEvent";
    case CommandEventRecord::Kind::kFailed:
      return "commandFailedEvent";
  }
  return "";
}

std::string describe(const CommandEventRecord& e) {
  return std::string(event_name(e.kind)) + " " + e.command_name + " on " + e.database +
         (e.kind == CommandEventRecord::Kind::kFailed ? " (" + e.message + ")"
                                                      : " " + e.document.to_json());
}

void check_events(EntityMap& entities, bson::View expectations, const EntityValueLookup& lookup) {
  for (bson::Element x : expectations) {
    const bson::View spec = x.get_document();
    const std::string client_id = required_string(spec, "client", "expectEvents");
    ClientEntity& client = entities.client(client_id);
    const std::string type = optional_string(spec, "eventType", "expectEvents").value_or("command");
    if (type != "command") {
      throw Unsupported(std::string(reason_in(kNotBuiltExpectations, "eventType:" + type)));
    }
    const bool ignore_extra =
        optional_bool(spec, "ignoreExtraEvents", "expectEvents").value_or(false);
    std::vector<CommandEventRecord> actual;
    const std::vector<CommandEventRecord> all = client.log->events();
    const std::set<std::int32_t> sensitive = sensitive_requests(all);
    for (const auto& e : all) {
      if (!client.observe.count(std::string(event_name(e.kind)))) continue;
      if (client.ignored_commands.count(e.command_name)) continue;
      if (e.command_name == "configureFailPoint") continue;
      if (sensitive.count(e.request_id)) {
        if (!client.observe_sensitive) continue;
        // The driver redacts them (driver/sensitive_commands.hpp): a body here is a leak.
        if (!e.document.view().empty()) {
          throw TestFailure("a security-sensitive command's event is not redacted: " + describe(e));
        }
      }
      actual.push_back(e);
    }
    std::vector<bson::View> expected;
    for (bson::Element e : spec["events"].get_array()) expected.push_back(e.get_document());
    std::string listing;
    for (const auto& a : actual) listing += "\n    " + describe(a);
    const std::string context = "expectEvents for " + client_id + ": ";
    if (actual.size() < expected.size() || (!ignore_extra && actual.size() != expected.size())) {
      throw TestFailure(context + "expected " + std::to_string(expected.size()) +
                        " event(s), got " + std::to_string(actual.size()) + ":" + listing);
    }
    for (std::size_t i = 0; i < expected.size(); ++i) {
      const bson::Element want = *expected[i].begin();
      const CommandEventRecord& got = actual[i];
      const std::string at = context + "event " + std::to_string(i) + ": ";
      if (want.key() != event_name(got.kind)) {
        throw TestFailure(at + "expected a " + std::string(want.key()) + ", got " + describe(got));
      }
      for (bson::Element f : want.get_document()) {
        const std::string_view key = f.key();
        if (key == "command" || key == "reply") {
          if (auto m =
                  match_document(f.get_document(), got.document, lookup, true, std::string(key));
              !m.empty()) {
            throw TestFailure(at + m + "\n  actual: " + describe(got));
          }
        } else if (key == "commandName") {
          if (f.get_string() != got.command_name) {
            throw TestFailure(at + "expected command " + std::string(f.get_string()) + ", got " +
                              describe(got));
          }
        } else if (key == "databaseName") {
          if (f.get_string() != got.database) {
            throw TestFailure(at + "expected database " + std::string(f.get_string()) + ", got " +
                              describe(got));
          }
        } else if (key == "hasServiceId") {
          if (f.get_bool()) throw TestFailure(at + "no service id (not load balanced)");
        } else if (key == "hasServerConnectionId") {
          throw Unsupported(std::string(reason_in(kNotBuiltExpectations, key)));
        } else {
          throw TestFailure(at + "unknown key '" + std::string(key) + "'");
        }
      }
    }
  }
}

// ---- operations ---------------------------------------------------------------------------

void run_runner_operation(const std::string& name, bson::View arguments, EntityMap& entities,
                          MongoClient& internal, const ServerTarget& server) {
  const std::string where = "testRunner " + name;
  if (name == "createEntities") {
    create_entities(entities, *optional_array(arguments, "entities", where), server);
    return;
  }
  if (name == "assertCollectionExists" || name == "assertCollectionNotExists") {
    const std::string db = required_string(arguments, "databaseName", where);
    const std::string coll = required_string(arguments, "collectionName", where);
    const auto names = internal.database(db).list_collection_names();
    const bool exists = std::find(names.begin(), names.end(), coll) != names.end();
    if (exists != (name == "assertCollectionExists")) {
      throw TestFailure(where + ": " + db + "." + coll + (exists ? " exists" : " does not exist"));
    }
    return;
  }
  if (name == "assertIndexExists" || name == "assertIndexNotExists") {
    const std::string db = required_string(arguments, "databaseName", where);
    const std::string coll = required_string(arguments, "collectionName", where);
    const std::string index = required_string(arguments, "indexName", where);
    bson::Builder cmd;
    cmd.append("listIndexes", coll);
    const bson::Document reply = internal.database(db).run_command(cmd.build());
    bool exists = false;
    for (bson::Element i : reply["cursor"].get_document()["firstBatch"].get_array()) {
      if (i.get_document()["name"].get_string() == index) exists = true;
    }
    if (reply["cursor"].get_document()["id"].as_int64() != 0) {
      throw Unsupported(where + ": more indexes than one listIndexes batch");
    }
    if (exists != (name == "assertIndexExists")) {
      throw TestFailure(where + ": index " + index + " of " + db + "." + coll +
                        (exists ? " exists" : " does not exist"));
    }
    return;
  }
  if (name == "assertNumberConnectionsCheckedOut") {
    const std::string client = required_string(arguments, "client", where);
    entities.client(client);
    if (auto n = arguments.find("connections"); !n || !is_plain_number(*n)) {
      throw TestFailure(where + ": 'connections' must be a number");
    }
  }
  if (auto reason = reason_in(kNotBuiltOperations, name); !reason.empty()) {
    throw Unsupported(where + ": " + std::string(reason));
  }
  throw TestFailure("'" + name + "' is not an operation of the test runner");
}

void run_operation(bson::View op, EntityMap& entities, MongoClient& internal,
                   const ServerTarget& server, const EntityValueLookup& lookup) {
  const std::string name = required_string(op, "name", "operation");
  const std::string object = required_string(op, "object", "operation " + name);
  const bson::View arguments = optional_document(op, "arguments", name).value_or(bson::View());
  const std::string where = "operation " + name + " on " + object;
  if (object == "testRunner") {
    run_runner_operation(name, arguments, entities, internal, server);
    return;
  }
  const auto expect_error = optional_document(op, "expectError", where);
  const auto expect_result = op.find("expectResult");
  const bool ignore = optional_bool(op, "ignoreResultAndError", where).value_or(false);
  const auto save_as = optional_string(op, "saveResultAsEntity", where);

  OperationResult result;
  std::optional<ObservedError> error;
  // A cursor the operation made (createFindCursor, createCommandCursor): saved as the entity
  // saveResultAsEntity names, else dropped (its server cursor is killed through the queue).
  std::optional<Cursor> made_cursor;
  try {
    result = run_entity_operation(entities, object, name, arguments);
    made_cursor = entities.take_made_cursor();
  } catch (const Unsupported&) {
    throw;
  } catch (const TestFailure&) {
    throw;
  } catch (const BulkWriteError& e) {
    error = ObservedError{ObservedError::Kind::kBulkWrite,
                          e.what(),
                          e.server_code(),
                          std::nullopt,
                          std::nullopt,
                          std::nullopt,
                          e.code(),
                          bulk_write_result_value(e.partial_result())};
  } catch (const ServerError& e) {
    error = ObservedError{ObservedError::Kind::kServer,
                          e.what(),
                          e.server_code(),
                          e.code_name(),
                          e.error_labels(),
                          e.reply(),
                          e.code()};
  } catch (const Error& e) {
    error = ObservedError{ObservedError::Kind::kClient,
                          e.what(),
                          std::nullopt,
                          std::nullopt,
                          std::nullopt,
                          std::nullopt,
                          e.code()};
  } catch (const std::logic_error&) {
    throw;
  } catch (const std::exception& e) {
    error = ObservedError{ObservedError::Kind::kClient,
                          e.what(),
                          std::nullopt,
                          std::nullopt,
                          std::nullopt,
                          std::nullopt,
                          {}};
  }
  if (ignore) return;
  if (expect_error) {
    if (!error) {
      throw TestFailure(where + ": expected an error, got the result " +
                        (result ? result->to_json() : std::string("(none)")));
    }
    check_error(*expect_error, *error, lookup, where);
    return;
  }
  if (error) throw TestFailure(where + ": unexpected error: " + error->message);
  if (expect_result) {
    std::optional<bson::Element> actual;
    if (result) actual = result->get();
    if (auto m = match(*expect_result, actual, lookup, true, true, "expectResult"); !m.empty()) {
      throw TestFailure(where + ": " + m);
    }
  }
  if (save_as && made_cursor) {
    entities.add_cursor(*save_as, std::move(*made_cursor));
  } else if (save_as) {
    entities.add_value(*save_as, result ? *result : Value::of(nullptr));
  }
}

// The first entry of kSkippedTests for this test, or nullptr.
const SkippedTest* listed_skip(const TestCase& test, const ServerTarget& server) {
  for (const auto& s : kSkippedTests) {
    const bool file =
        test.file_key.size() >= s.file.size() &&
        test.file_key.compare(test.file_key.size() - s.file.size(), s.file.size(), s.file) == 0;
    if (file && (s.test.empty() || s.test == test.description) &&
        (s.server.empty() || s.server == server.name)) {
      return &s;
    }
  }
  return nullptr;
}

// Closes the entities' clients however the test ends.
struct EntityCloser {
  EntityMap& entities;
  ~EntityCloser() { entities.close(); }
};

}  // namespace

std::vector<std::string> run_test(const TestCase& test, const ServerTarget& server) {
  const bson::View file = test.file->view();
  const std::string schema = required_string(file, "schemaVersion", "file");
  const auto [major, minor, patch] = parse_version(schema);
  if (major != kSupportedMajor || minor > kSupportedMinor) {
    throw TestFailure("schemaVersion " + schema + " is not supported by this runner (1.0 to 1." +
                      std::to_string(kSupportedMinor) + ")");
  }
  const bson::View spec =
      (*std::next(file["tests"].get_array().begin(), static_cast<std::ptrdiff_t>(test.index)))
          .get_document();
  if (const SkippedTest* s = listed_skip(test, server)) {
    throw Unsupported("listed in integration/unified/skips.hpp: " + std::string(s->reason));
  }
  if (auto reason = optional_string(spec, "skipReason", "test")) {
    throw Unsupported("the test's skipReason: " + *reason);
  }
  ServerState& state = server_state(server);
  check_requirements(optional_array(file, "runOnRequirements", "file"), state.facts, "file");
  check_requirements(optional_array(spec, "runOnRequirements", "test"), state.facts, "test");
  for (const char* key : {"expectLogMessages", "expectTracingMessages"}) {
    if (spec.contains(key)) throw Unsupported(std::string(reason_in(kNotBuiltExpectations, key)));
  }

  if (auto data = optional_array(file, "initialData", "file")) {
    load_initial_data(*state.client, *data);
  }
  EntityMap entities;
  EntityCloser closer{entities};
  const EntityValueLookup lookup = [&entities](std::string_view id) { return entities.value(id); };
  if (auto list = optional_array(file, "createEntities", "file")) {
    create_entities(entities, *list, server);
  }
  for (bson::Element op : spec["operations"].get_array()) {
    run_operation(op.get_document(), entities, *state.client, server, lookup);
  }
  if (auto events = optional_array(spec, "expectEvents", "test")) {
    check_events(entities, *events, lookup);
  }
  if (auto outcome = optional_array(spec, "outcome", "test")) {
    check_outcome(*state.client, *outcome);
  }
  return entities.not_built_reasons();
}

}  // namespace mongoslice::unified
