// Read preference against scripted servers that apply the server's rules
// (integration/mock/read_preference_servers.py): a replica set whose secondary refuses reads that
// do not carry a non-primary $readPreference (13435, as a real mongod secondary does), and a
// mongos that reports the $readPreference each command brought. Every reply says which server
// answered and what $readPreference it received, so each test asserts both where the read went
// and what the server was told, as the server-selection spec requires.

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "driver/mongo_client.hpp"
#include "monitor/server_description.hpp"
#include "net/connection.hpp"
#include "support/test_servers.hpp"
#include "wire/bson.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using Mode = ReadPreference::Mode;

bson::Document json(std::string_view text) {
  return bson::Document::from_json(text);
}

// read_preference_servers.py: the addresses it printed.
class ScriptedServers {
 public:
  explicit ScriptedServers(const std::string& kind)
      : process_("read_preference_servers.py", {kind}) {
    std::istringstream ports(process_.read_line());
    for (int port; ports >> port;) {
      addresses_.push_back({"127.0.0.1", static_cast<std::uint16_t>(port)});
    }
    if (addresses_.empty()) throw std::runtime_error("read_preference_servers.py printed no port");
  }
  const HostAndPort& operator[](std::size_t i) const { return addresses_.at(i); }

 private:
  integration::MockProcess process_;
  std::vector<HostAndPort> addresses_;
};

// What the server that answered saw: {server, readPreference, command}.
struct Seen {
  std::string server;
  std::string read_preference;  // canonical JSON, or "none"

  friend bool operator==(const Seen&, const Seen&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Seen& s) {
    return os << "{server " << s.server << ", $readPreference " << s.read_preference << "}";
  }
};

Seen seen_in(bson::View doc) {
  auto rp = doc["readPreference"];
  return {std::string(doc["server"].get_string()),
          rp.type() == bson::Type::kString ? std::string(rp.get_string())
                                           : bson::Document(rp.get_document()).to_json()};
}

Seen expect(std::string server, std::string_view read_preference_json) {
  return {std::move(server), read_preference_json == "none" ? std::string("none")
                                                            : json(read_preference_json).to_json()};
}

// Selection takes the first suitable server it finds, so a read that prefers one member must
// wait until discovery has found them all; this listener says when it has.
class Discovery : public EventListener {
 public:
  void on(const ServerDescriptionChangedEvent& e) override {
    std::lock_guard lock(mutex_);
    types_[e.address] = e.current.type;
    changed_.notify_all();
  }
  // Waits (bounded) until each address has its type.
  bool wait_for(const std::map<HostAndPort, ServerType>& wanted) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] {
      for (const auto& [address, type] : wanted) {
        auto it = types_.find(address);
        if (it == types_.end() || it->second != type) return false;
      }
      return true;
    });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<HostAndPort, ServerType> types_;
};

// A client whose monitors have seen each server of `wanted` with its type.
std::unique_ptr<MongoClient> discovered_client(const std::string& uri,
                                               const std::map<HostAndPort, ServerType>& wanted) {
  auto discovery = std::make_shared<Discovery>();
  auto client = std::make_unique<MongoClient>(uri, ClientOptions{.listeners = {discovery}});
  if (!discovery->wait_for(wanted)) throw std::runtime_error("discovery did not finish: " + uri);
  return client;
}

// One find through the client's read preference (its URI options), and what the server saw.
Seen find_on(MongoClient& client) {
  Cursor cursor = client["db"]["c"].find(json("{}"));
  std::vector<Seen> docs;
  for (bson::View doc : cursor) docs.push_back(seen_in(doc));
  if (docs.size() != 1) throw std::runtime_error("expected one document");
  return docs.front();
}

constexpr const char* kFast = "serverSelectionTimeoutMS=5000";

class ReplicaSetReadPreference : public ::testing::Test {
 protected:
  ScriptedServers rs{"replset"};
  const HostAndPort& primary = rs[0];
  const HostAndPort& secondary = rs[1];

  // A client of both members (URI options `options`), once both are known.
  std::unique_ptr<MongoClient> client(std::string_view options) const {
    const std::string uri = "mongodb://" + primary.to_string() + "," + secondary.to_string() +
                            "/?replicaSet=rs&" + kFast + (options.empty() ? "" : "&") +
                            std::string(options);
    return discovered_client(
        uri, {{primary, ServerType::kRSPrimary}, {secondary, ServerType::kRSSecondary}});
  }
  Seen find_with(std::string_view options) const { return find_on(*client(options)); }
};

// The mock's secondary is as strict as a real one: what the driver sent before $readPreference
// existed ({find, filter, $db}) is refused with 13435. Without this, the tests below could pass
// against a secondary that accepts anything.
TEST_F(ReplicaSetReadPreference, TheSecondaryRefusesAReadThatDoesNotSayItMayRunThere) {
  Connection connection(secondary);
  connection.connect();
  try {
    connection.run_command("db", json(R"({"find": "c", "filter": {}})"));
    FAIL() << "the secondary accepted a read without $readPreference";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 13435) << e.what();
    EXPECT_EQ(e.code_name(), "NotPrimaryNoSecondaryOk");
  }
  auto reply = connection.run_command(
      "db", json(R"({"find": "c", "filter": {}, "$readPreference": {"mode": "secondary"}})"));
  EXPECT_EQ(reply["ok"].as_double(), 1.0);
}

TEST_F(ReplicaSetReadPreference, SecondaryModesReadFromTheSecondaryAndSayWhy) {
  EXPECT_EQ(find_with(("readPreference=secondary")),
            expect("secondary", R"({"mode": "secondary"})"));
  EXPECT_EQ(find_with(("readPreference=secondaryPreferred")),
            expect("secondary", R"({"mode": "secondaryPreferred"})"));
  // Tags pick the secondary among both members (nearest would take the primary too).
  EXPECT_EQ(find_with(("readPreference=nearest&readPreferenceTags=dc:ny")),
            expect("secondary", R"({"mode": "nearest", "tags": [{"dc": "ny"}]})"));
  EXPECT_EQ(find_with(("readPreference=secondary&readPreferenceTags=dc:ny&"
                       "readPreferenceTags=")),
            expect("secondary", R"({"mode": "secondary", "tags": [{"dc": "ny"}, {}]})"));
  EXPECT_EQ(find_with(("readPreference=secondary&maxStalenessSeconds=90")),
            expect("secondary", R"({"mode": "secondary", "maxStalenessSeconds": 90})"));
}

TEST_F(ReplicaSetReadPreference, PrimaryModesReadFromThePrimary) {
  EXPECT_EQ(find_with(("")), expect("primary", "none"));
  EXPECT_EQ(find_with(("readPreference=primary")), expect("primary", "none"));
  // A non-primary mode is always sent, even when it selects the primary.
  EXPECT_EQ(find_with(("readPreference=primaryPreferred")),
            expect("primary", R"({"mode": "primaryPreferred"})"));
  // Tags that only the primary has: nearest goes there, and says so.
  EXPECT_EQ(find_with(("readPreference=nearest&readPreferenceTags=dc:sf")),
            expect("primary", R"({"mode": "nearest", "tags": [{"dc": "sf"}]})"));
}

TEST_F(ReplicaSetReadPreference, ADirectConnectionToTheSecondaryReadsAsPrimaryPreferred) {
  auto direct =
      discovered_client("mongodb://" + secondary.to_string() + "/?directConnection=true&" + kFast,
                        {{secondary, ServerType::kRSSecondary}});
  EXPECT_EQ(find_on(*direct), expect("secondary", R"({"mode": "primaryPreferred"})"));
}

// The spec's generic command method: read preference primary unless given one, whatever the
// client's default (a command may write); the one given selects the server and is sent.
TEST_F(ReplicaSetReadPreference, RunCommandUsesTheReadPreferenceItIsGiven) {
  auto client = this->client("readPreference=secondary");
  Database db = (*client)["db"];
  EXPECT_EQ(seen_in(db.run_command(json(R"({"ping": 1})"))), expect("primary", "none"));

  ReadPreference secondary_read;
  secondary_read.mode = Mode::kSecondary;
  EXPECT_EQ(seen_in(db.run_command(json(R"({"ping": 1})"), secondary_read)),
            expect("secondary", R"({"mode": "secondary"})"));

  ReadPreference tagged;
  tagged.mode = Mode::kNearest;
  tagged.tag_sets.push_back(json(R"({"dc": "ny"})"));
  EXPECT_EQ(seen_in(db.run_command(json(R"({"ping": 1})"), tagged)),
            expect("secondary", R"({"mode": "nearest", "tags": [{"dc": "ny"}]})"));

  // A command that names its own $readPreference keeps it (selection still follows the
  // argument, here primary).
  EXPECT_EQ(seen_in(db.run_command(
                json(R"({"ping": 1, "$readPreference": {"mode": "primaryPreferred"}})"))),
            expect("primary", R"({"mode": "primaryPreferred"})"));
}

TEST_F(ReplicaSetReadPreference, MaxStalenessBelowTheSpecsBoundIsRefusedWithTheReason) {
  auto client = this->client("readPreference=secondary&maxStalenessSeconds=30");
  try {
    (*client)["db"]["c"].find(json("{}"));
    FAIL() << "maxStalenessSeconds=30 was accepted for a replica set";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument)) << e.what();
    EXPECT_NE(std::string(e.what()).find("maxStalenessSeconds 30 is too small"), std::string::npos)
        << e.what();
  }
}

// A mongos learns the read preference only from the command. OP_MSG: every mode but primary is
// sent (a bare secondaryPreferred too), with tags and maxStalenessSeconds; primary sends nothing.
TEST(MongosReadPreference, ReceivesExactlyWhatTheSpecSays) {
  ScriptedServers mongos("mongos");
  const std::string base = "mongodb://" + mongos[0].to_string() + "/?" + kFast;
  auto find_with = [&](const std::string& uri) {
    return find_on(*discovered_client(uri, {{mongos[0], ServerType::kMongos}}));
  };
  EXPECT_EQ(find_with(base), expect("mongos", "none"));
  EXPECT_EQ(find_with(base + "&readPreference=primary"), expect("mongos", "none"));
  for (const char* mode : {"primaryPreferred", "secondary", "secondaryPreferred", "nearest"}) {
    SCOPED_TRACE(mode);
    EXPECT_EQ(find_with(base + "&readPreference=" + mode),
              expect("mongos", std::string(R"({"mode": ")") + mode + R"("})"));
  }
  EXPECT_EQ(find_with(base + "&readPreference=secondaryPreferred&readPreferenceTags=dc:ny,rack:1"
                             "&maxStalenessSeconds=1"),
            expect("mongos",
                   R"({"mode": "secondaryPreferred", "tags": [{"dc": "ny", "rack": "1"}],
                 "maxStalenessSeconds": 1})"));

  auto client =
      discovered_client(base + "&readPreference=nearest", {{mongos[0], ServerType::kMongos}});
  EXPECT_EQ(seen_in((*client)["admin"].run_command(json(R"({"ping": 1})"))),
            expect("mongos", "none"));
  ReadPreference secondary;
  secondary.mode = Mode::kSecondary;
  EXPECT_EQ(seen_in((*client)["admin"].run_command(json(R"({"ping": 1})"), secondary)),
            expect("mongos", R"({"mode": "secondary"})"));
}

}  // namespace
}  // namespace mongoslice
