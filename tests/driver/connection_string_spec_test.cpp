// Runs the JSON tests of the connection-string, URI-options and auth specifications against
// ConnectionString::parse, one gtest per case.
//
// The folders come from MONGOSLICE_URI_SPEC_DIR (several may be given, ':'-separated); the
// default is the shared spec folders: connection-string, uri-options, auth's legacy
// connection-string tests and read-write-concern's connection-string tests. Each case gets a
// plan:
//   full      every field the case gives is checked (valid, warning, hosts, auth, options,
//             credential; TLS, SRV and auth options included);
//   partial   the URI uses an option mongoslice does not implement (listed below with the
//             reason): valid, hosts, auth and the options we implement are checked; the
//             unimplemented options and "warning: false" are not (we warn about them);
//   refused   the case needs something mongoslice deliberately refuses (UNIX sockets, an
//             authentication mechanism it does not build, a user without a password, a
//             negative wTimeoutMS): the parse must fail with an error that says so;
//   excluded  an invalid-URI case whose error comes from the rules of an unimplemented option
//             (skipped, with the reason).
// The numbers of each are printed at the end of the run.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "driver/connection_string.hpp"
#include "wire/bson.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

namespace fs = std::filesystem;

// ---- what mongoslice does not implement, and why ---------------------------------------------

struct Unimplemented {
  std::string_view option;  // lower-case
  std::string_view reason;
};

constexpr std::string_view kNoPoolOption = "this connection-pool option is not implemented";
constexpr std::string_view kNoProxy = "SOCKS5 proxies are not implemented";

constexpr Unimplemented kUnimplemented[] = {
    {"timeoutms", "client-side operation timeouts (CSOT) are not implemented"},
    {"waitqueuetimeoutms", kNoPoolOption},
    {"serverselectiontryonce", "an option of single-threaded drivers only"},
    {"maxadaptiveretries", "client back-pressure is not implemented"},
    {"enableoverloadretargeting", "client back-pressure is not implemented"},
    {"proxyhost", kNoProxy},
    {"proxyport", kNoProxy},
    {"proxyusername", kNoProxy},
    {"proxypassword", kNoProxy},
};

// Cases where mongoslice refuses, on purpose, a URI the case calls valid.
struct Deliberate {
  std::string_view file;
  std::string_view description;
  std::string_view reason;
  std::string_view refusal_keyword;  // a word our error message must contain
};

constexpr Deliberate kDeliberate[] = {
    {"concern-options.json", "Too low wTimeoutMS causes a warning",
     "a negative wTimeoutMS is an invalid URI in the read-write-concern spec's connection-string "
     "tests (wtimeoutMS=-500) and a warning here; mongoslice follows the read-write-concern spec",
     "negative"},
    // The auth spec: the default mechanism (SCRAM) MUST have a password, and drivers SHOULD
    // raise errors as early as possible; the connection-string spec only checks the parse.
    {"valid-auth.json", "Username without password",
     "the auth spec requires a password for SCRAM (the default mechanism); mongoslice refuses "
     "a user without one when it parses the URI",
     "has no password"},
    {"valid-auth.json", "Escaped username and database without password",
     "the auth spec requires a password for SCRAM (the default mechanism); mongoslice refuses "
     "a user without one when it parses the URI",
     "has no password"},
};

// Authentication mechanisms of the auth spec that mongoslice does not build: parse() refuses
// them by name (lower-case here).
constexpr std::string_view kMechanismsNotBuilt[] = {
    "gssapi", "mongodb-x509", "mongodb-aws", "mongodb-oidc", "mongodb-cr",
};

const Unimplemented* find_unimplemented(std::string_view lower_option) {
  for (const auto& u : kUnimplemented) {
    if (u.option == lower_option) return &u;
  }
  return nullptr;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "key=value" pairs of the query part, keys and values lower-cased, not percent-decoded.
std::vector<std::pair<std::string, std::string>> uri_options(std::string_view uri) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t q = uri.find('?');
  if (q == std::string_view::npos) return out;
  std::stringstream query{std::string(uri.substr(q + 1))};
  for (std::string pair; std::getline(query, pair, '&');) {
    std::size_t eq = pair.find('=');
    // "?w" (no '=') is a malformed URI whatever the option: not an option rule.
    if (eq == std::string::npos) continue;
    out.emplace_back(lower(pair.substr(0, eq)),
                     eq == std::string::npos ? "" : lower(pair.substr(eq + 1)));
  }
  return out;
}

// ---- cases and plans -------------------------------------------------------------------------

enum class Plan { kFull, kPartial, kRefused, kExcluded };

struct SpecCase {
  std::string name;  // gtest-safe: <file>_<description>
  std::string file;
  std::string description;
  std::string uri;
  bson::Document test;  // the whole JSON case
  Plan plan = Plan::kFull;
  std::string reason;           // why the plan is not kFull
  std::string refusal_keyword;  // for kRefused: a word our error message must contain
};

void PrintTo(const SpecCase& c, std::ostream* os) {
  *os << c.file << ": " << c.description;
}

bool expects_unix_host(const bson::View& test) {
  auto hosts = test.find("hosts");
  if (!hosts || hosts->type() != bson::Type::kArray) return false;
  for (const auto& h : hosts->get_array()) {
    if (h.get_document()["type"].get_string() == "unix") return true;
  }
  return false;
}

void choose_plan(SpecCase& c) {
  if (expects_unix_host(c.test)) {
    c.plan = Plan::kRefused;
    c.reason = "mongoslice does not support UNIX domain sockets";
    c.refusal_keyword = "UNIX";
    return;
  }
  auto options = uri_options(c.uri);
  for (const auto& [key, value] : options) {
    if (key == "authmechanism" &&
        std::find(std::begin(kMechanismsNotBuilt), std::end(kMechanismsNotBuilt), value) !=
            std::end(kMechanismsNotBuilt)) {
      c.plan = Plan::kRefused;
      c.reason = "mongoslice does not build the authentication mechanism " + value +
                 " and refuses it rather than connect unauthenticated";
      c.refusal_keyword = "is not supported by mongoslice";
      return;
    }
  }
  for (const Deliberate& d : kDeliberate) {
    if (c.file == d.file && c.description == d.description) {
      c.plan = Plan::kRefused;
      c.reason = std::string(d.reason);
      c.refusal_keyword = std::string(d.refusal_keyword);
      return;
    }
  }
  for (const auto& [key, value] : options) {
    if (const Unimplemented* u = find_unimplemented(key)) {
      bool valid = c.test["valid"].get_bool();
      c.plan = valid ? Plan::kPartial : Plan::kExcluded;
      c.reason = (valid ? "option " : "the error comes from the rules of option ") + key +
                 ", which mongoslice does not implement: " + std::string(u->reason);
      return;
    }
  }
}

std::string test_name(std::string_view file, std::string_view description) {
  std::string name = std::string(file.substr(0, file.rfind('.'))) + "_" + std::string(description);
  std::string out;
  for (char c : name) {
    bool keep = std::isalnum(static_cast<unsigned char>(c)) != 0;
    if (keep) {
      out += c;
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

std::vector<std::string> spec_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("MONGOSLICE_URI_SPEC_DIR"); env && *env) {
    std::stringstream list{std::string(env)};
    for (std::string dir; std::getline(list, dir, ':');) {
      if (!dir.empty()) dirs.push_back(dir);
    }
    return dirs;
  }
  return {MONGOSLICE_SPEC_TESTS_DIR "/connection-string/tests",
          MONGOSLICE_SPEC_TESTS_DIR "/uri-options/tests",
          MONGOSLICE_SPEC_TESTS_DIR "/auth/tests/legacy",
          MONGOSLICE_SPEC_TESTS_DIR "/read-write-concern/tests/connection-string"};
}

struct Loaded {
  std::vector<SpecCase> cases;
  std::vector<std::string> errors;  // files or folders that could not be read
};

const Loaded& loaded() {
  static const Loaded result = [] {
    Loaded out;
    for (const std::string& dir : spec_dirs()) {
      std::vector<fs::path> files;
      std::error_code ec;
      for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().extension() == ".json") files.push_back(entry.path());
      }
      if (ec || files.empty()) out.errors.push_back(dir + ": no JSON files (" + ec.message() + ")");
      std::sort(files.begin(), files.end());
      for (const fs::path& path : files) {
        std::ifstream in(path, std::ios::binary);
        std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        try {
          bson::Document doc = bson::Document::from_json(json);
          for (const auto& t : doc["tests"].get_array()) {
            SpecCase c;
            c.file = path.filename().string();
            c.test = bson::Document(t.get_document());
            c.description = std::string(c.test["description"].get_string());
            c.uri = std::string(c.test["uri"].get_string());
            c.name = test_name(c.file, c.description);
            std::string base = c.name;
            for (int n = 2; std::any_of(out.cases.begin(), out.cases.end(),
                                        [&](const SpecCase& o) { return o.name == c.name; });
                 ++n) {
              c.name = base + "_" + std::to_string(n);
            }
            choose_plan(c);
            out.cases.push_back(std::move(c));
          }
        } catch (const std::exception& e) {
          out.errors.push_back(path.string() + ": " + e.what());
        }
      }
    }
    return out;
  }();
  return result;
}

// ---- the run and its summary -----------------------------------------------------------------

std::atomic<int> g_ran[4];  // indexed by Plan

class SpecSummary : public ::testing::Environment {
 public:
  void TearDown() override {
    int full = g_ran[0], partial = g_ran[1], refused = g_ran[2], excluded = g_ran[3];
    if (full + partial + refused + excluded == 0) return;
    std::cout << "[uri spec] executed " << full + partial + refused << " cases (" << full
              << " fully checked, " << partial << " with unimplemented options skipped, " << refused
              << " expecting mongoslice's refusal); excluded " << excluded << "\n";
  }
};
[[maybe_unused]] ::testing::Environment* const kSummary =
    ::testing::AddGlobalTestEnvironment(new SpecSummary);

// ---- expectations ----------------------------------------------------------------------------

std::string host_type(const std::string& host) {
  if (host.find(':') != std::string::npos) return "ip_literal";
  int parts = 0;
  std::stringstream in(host);
  for (std::string part; std::getline(in, part, '.'); ++parts) {
    if (part.empty() || part.size() > 3 ||
        part.find_first_not_of("0123456789") != std::string::npos || std::stoi(part) > 255) {
      return "hostname";
    }
  }
  return parts == 4 && host.back() != '.' ? "ipv4" : "hostname";
}

void expect_hosts(const bson::View& expected, const ConnectionString& cs) {
  std::vector<bson::View> hosts;
  for (const auto& h : expected) hosts.push_back(h.get_document());
  ASSERT_EQ(cs.hosts.size(), hosts.size());
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    SCOPED_TRACE("host #" + std::to_string(i + 1));
    EXPECT_EQ(host_type(cs.hosts[i].host), hosts[i]["type"].get_string());
    EXPECT_EQ(cs.hosts[i].host, hosts[i]["host"].get_string());
    auto port = hosts[i]["port"];
    EXPECT_EQ(cs.hosts[i].port, port.type() == bson::Type::kNull ? 27017 : port.as_int64());
  }
}

void expect_optional_string(const bson::View& expected, std::string_view key,
                            const std::optional<std::string>& actual) {
  auto e = expected.find(key);
  if (!e) return;
  SCOPED_TRACE(std::string("auth.") + std::string(key));
  if (e->type() == bson::Type::kNull) {
    EXPECT_FALSE(actual.has_value()) << *actual;
  } else {
    ASSERT_TRUE(actual.has_value());
    EXPECT_EQ(*actual, e->get_string());
  }
}

std::string mechanism_name(auth::Mechanism m) {
  switch (m) {
    case auth::Mechanism::kNegotiate:
      return "(negotiated)";
    case auth::Mechanism::kScramSha1:
      return "SCRAM-SHA-1";
    case auth::Mechanism::kScramSha256:
      return "SCRAM-SHA-256";
    case auth::Mechanism::kPlain:
      return "PLAIN";
  }
  return "(unknown)";
}

// The auth tests' rule: the expected properties are a subset of the credential's.
void expect_properties(const bson::View& expected,
                       const std::map<std::string, std::string>& actual) {
  for (const auto& p : expected) {
    SCOPED_TRACE("mechanism property " + std::string(p.key()));
    auto it = actual.find(std::string(p.key()));
    ASSERT_NE(it, actual.end());
    EXPECT_EQ(it->second, p.get_string());
  }
}

void expect_tls_option(const std::string& key, const bson::Element& e, const ConnectionString& cs) {
  if (key == "tlsdisableocspendpointcheck") {
    EXPECT_EQ(cs.tls_disable_ocsp_endpoint_check, e.get_bool());
    return;
  }
  if (key == "tlsdisablecertificaterevocationcheck") {
    EXPECT_EQ(cs.tls_disable_certificate_revocation_check, e.get_bool());
    return;
  }
  // Every other tls* option turns TLS on (implicitly when tls is not given).
  ASSERT_TRUE(cs.tls.has_value()) << "TLS is off";
  const TlsOptions& tls = *cs.tls;
  if (key == "tlscafile") {
    EXPECT_EQ(tls.ca_file, std::string(e.get_string()));
  } else if (key == "tlscertificatekeyfile") {
    EXPECT_EQ(tls.certificate_key_file, std::string(e.get_string()));
  } else if (key == "tlscertificatekeyfilepassword") {
    EXPECT_EQ(tls.certificate_key_password, std::string(e.get_string()));
  } else if (key == "tlsallowinvalidcertificates") {
    EXPECT_EQ(tls.allow_invalid_certificates, e.get_bool());
  } else if (key == "tlsallowinvalidhostnames") {
    EXPECT_EQ(tls.allow_invalid_hostnames, e.get_bool());
  } else if (key == "tlsinsecure") {
    EXPECT_EQ(tls.allow_invalid_certificates, e.get_bool());
    EXPECT_EQ(tls.allow_invalid_hostnames, e.get_bool());
  } else {
    ADD_FAILURE() << "the runner cannot compare option " << key;
  }
}

// The auth spec's legacy tests: `credential` null means no credential; otherwise each field
// given is compared (a null mechanism means negotiation, null properties none).
void expect_credential(const bson::Element& expected, const ConnectionString& cs) {
  SCOPED_TRACE("credential");
  if (expected.type() == bson::Type::kNull) {
    EXPECT_FALSE(cs.credential.has_value()) << "user " << cs.credential->username;
    return;
  }
  ASSERT_TRUE(cs.credential.has_value());
  const auth::Credential& c = *cs.credential;
  const bson::View e = expected.get_document();
  if (auto u = e.find("username")) {
    if (u->type() == bson::Type::kNull) {
      EXPECT_TRUE(c.username.empty()) << c.username;
    } else {
      EXPECT_EQ(c.username, u->get_string());
    }
  }
  if (auto p = e.find("password")) {
    // Compared without printing it: a failure names the field, not the secret.
    if (p->type() == bson::Type::kNull) {
      EXPECT_FALSE(c.password.has_value()) << "a password is set";
    } else {
      EXPECT_TRUE(c.password == std::string(p->get_string())) << "the password differs";
    }
  }
  if (auto s = e.find("source")) EXPECT_EQ(c.source, s->get_string());
  if (auto m = e.find("mechanism")) {
    EXPECT_EQ(mechanism_name(c.mechanism),
              m->type() == bson::Type::kNull ? "(negotiated)" : std::string(m->get_string()));
  }
  if (auto p = e.find("mechanism_properties")) {
    if (p->type() == bson::Type::kNull) {
      EXPECT_TRUE(c.mechanism_properties.empty());
    } else {
      expect_properties(p->get_document(), c.mechanism_properties);
    }
  }
}

void expect_option(const std::string& key, const bson::Element& e, const ConnectionString& cs) {
  using std::chrono::milliseconds;
  auto ms = [&] { return milliseconds(e.as_int64()); };
  if (key == "replicaset") {
    EXPECT_EQ(cs.replica_set, std::string(e.get_string()));
  } else if (key == "directconnection") {
    EXPECT_EQ(cs.direct_connection, e.get_bool());
  } else if (key == "heartbeatfrequencyms") {
    EXPECT_EQ(cs.heartbeat_frequency, ms());
  } else if (key == "serverselectiontimeoutms") {
    EXPECT_EQ(cs.server_selection_timeout, ms());
  } else if (key == "connecttimeoutms") {
    EXPECT_EQ(cs.connect_timeout, ms());
  } else if (key == "sockettimeoutms") {
    auto expected = e.as_int64() == 0 ? std::nullopt : std::optional(ms());
    EXPECT_EQ(cs.socket_timeout, expected);
  } else if (key == "localthresholdms") {
    EXPECT_EQ(cs.local_threshold, ms());
  } else if (key == "maxpoolsize") {
    EXPECT_EQ(cs.max_pool_size, static_cast<std::uint32_t>(e.as_int64()));
  } else if (key == "minpoolsize") {
    EXPECT_EQ(cs.min_pool_size, static_cast<std::uint32_t>(e.as_int64()));
  } else if (key == "maxconnecting") {
    EXPECT_EQ(cs.max_connecting, static_cast<std::uint32_t>(e.as_int64()));
  } else if (key == "retrywrites") {
    EXPECT_EQ(cs.retry_writes, e.get_bool());
  } else if (key == "retryreads") {
    EXPECT_EQ(cs.retry_reads, e.get_bool());
  } else if (key == "servermonitoringmode") {
    constexpr std::string_view kNames[] = {"auto", "stream", "poll"};
    EXPECT_EQ(kNames[static_cast<int>(cs.server_monitoring_mode)], e.get_string());
  } else if (key == "maxidletimems") {
    auto expected = e.as_int64() == 0 ? std::nullopt : std::optional(ms());
    EXPECT_EQ(cs.max_idle_time, expected);
  } else if (key == "readpreference") {
    EXPECT_EQ(lower(to_string(cs.read_preference.mode)), lower(e.get_string()));
  } else if (key == "readpreferencetags") {
    std::vector<std::string> expected, actual;
    for (const auto& set : e.get_array()) expected.push_back(set.get_document().to_json());
    for (const auto& set : cs.read_preference.tag_sets) actual.push_back(set.to_json());
    EXPECT_EQ(actual, expected);
  } else if (key == "maxstalenessseconds") {
    auto expected =
        e.as_int64() == -1 ? std::nullopt : std::optional(std::chrono::seconds(e.as_int64()));
    EXPECT_EQ(cs.read_preference.max_staleness, expected);
  } else if (key == "appname") {
    EXPECT_EQ(cs.app_name, std::string(e.get_string()));
  } else if (key == "w") {
    ASSERT_TRUE(cs.write_concern.w.has_value());
    if (e.type() == bson::Type::kString) {
      EXPECT_EQ(std::get<std::string>(*cs.write_concern.w), e.get_string());
    } else {
      EXPECT_EQ(std::get<std::int32_t>(*cs.write_concern.w), e.as_int64());
    }
  } else if (key == "wtimeoutms") {
    EXPECT_EQ(cs.write_concern.wtimeout, ms());
  } else if (key == "journal") {
    EXPECT_EQ(cs.write_concern.journal, e.get_bool());
  } else if (key == "readconcernlevel") {
    EXPECT_EQ(cs.read_concern.level, std::string(e.get_string()));
  } else if (key == "compressors") {
    std::vector<std::string> expected, actual;
    for (const auto& name : e.get_array()) expected.emplace_back(name.get_string());
    for (const auto c : cs.compressors) actual.emplace_back(wire::name_of(c));
    EXPECT_EQ(actual, expected);
  } else if (key == "zlibcompressionlevel") {
    EXPECT_EQ(cs.zlib_compression_level, e.as_int64());
  } else if (key == "killcursorsintervalms") {
    EXPECT_EQ(cs.kill_cursors_interval, ms());
  } else if (key == "tls" || key == "ssl") {
    EXPECT_EQ(cs.tls.has_value(), e.get_bool());
  } else if (key.starts_with("tls")) {
    expect_tls_option(key, e, cs);
  } else if (key == "authmechanism") {
    ASSERT_TRUE(cs.credential.has_value());
    EXPECT_EQ(mechanism_name(cs.credential->mechanism), e.get_string());
  } else if (key == "authsource") {
    EXPECT_EQ(cs.auth_source, std::string(e.get_string()));
    if (cs.credential) EXPECT_EQ(cs.credential->source, e.get_string());
  } else if (key == "authmechanismproperties") {
    ASSERT_TRUE(cs.credential.has_value());
    expect_properties(e.get_document(), cs.credential->mechanism_properties);
  } else if (key == "loadbalanced") {
    EXPECT_EQ(cs.load_balanced, e.get_bool());
  } else if (key == "srvservicename") {
    EXPECT_EQ(cs.srv_service_name, e.get_string());
  } else if (key == "srvmaxhosts") {
    EXPECT_EQ(cs.srv_max_hosts, static_cast<std::uint32_t>(e.as_int64()));
  } else {
    ADD_FAILURE() << "the runner cannot compare option " << key;
  }
}

class ConnectionStringSpec : public ::testing::TestWithParam<SpecCase> {};

TEST_P(ConnectionStringSpec, Case) {
  const SpecCase& c = GetParam();
  const bson::View test = c.test;
  SCOPED_TRACE(c.file + ": " + c.description + "\n  uri: " + c.uri);
  g_ran[static_cast<int>(c.plan)]++;

  if (c.plan == Plan::kExcluded) GTEST_SKIP() << c.reason;
  if (c.plan == Plan::kRefused) {
    try {
      ConnectionString::parse(c.uri);
      FAIL() << "expected a refusal (" << c.reason << ")";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::invalid_uri));
      EXPECT_NE(std::string(e.what()).find(c.refusal_keyword), std::string::npos) << e.what();
    }
    return;
  }

  if (!test["valid"].get_bool()) {
    try {
      ConnectionString cs = ConnectionString::parse(c.uri);
      FAIL() << "parsed an invalid URI; " << cs.hosts.size() << " hosts, " << cs.warnings.size()
             << " warnings";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::invalid_uri)) << e.what();
      RecordProperty("error", e.what());
    }
    return;
  }

  ConnectionString cs;
  try {
    cs = ConnectionString::parse(c.uri);
  } catch (const Error& e) {
    FAIL() << "a valid URI was refused: " << e.what();
  }
  std::string warnings;
  for (const auto& w : cs.warnings) warnings += "\n  warning: " + w;

  if (auto w = test.find("warning"); w && w->type() == bson::Type::kBool) {
    if (w->get_bool()) {
      EXPECT_FALSE(cs.warnings.empty()) << "expected a warning";
    } else if (c.plan == Plan::kFull) {
      EXPECT_TRUE(cs.warnings.empty()) << warnings;
    }
  }
  if (auto hosts = test.find("hosts"); hosts && hosts->type() == bson::Type::kArray) {
    expect_hosts(hosts->get_array(), cs);
  }
  if (auto auth = test.find("auth"); auth && auth->type() == bson::Type::kDocument) {
    expect_optional_string(auth->get_document(), "username", cs.username);
    expect_optional_string(auth->get_document(), "password", cs.password);
    expect_optional_string(auth->get_document(), "db", cs.auth_database);
  }
  // The read-write-concern spec's connection-string tests give the concerns whole: a field left
  // out there must be left out here (the server's default).
  if (auto wc = test.find("writeConcern"); wc && wc->type() == bson::Type::kDocument) {
    SCOPED_TRACE("writeConcern" + warnings);
    WriteConcern expected;
    for (const auto& field : wc->get_document()) {
      if (field.key() == "w" && field.type() == bson::Type::kString) {
        expected.w = std::string(field.get_string());
      } else if (field.key() == "w") {
        expected.w = static_cast<std::int32_t>(field.as_int64());
      } else if (field.key() == "wtimeoutMS") {
        expected.wtimeout = std::chrono::milliseconds(field.as_int64());
      } else if (field.key() == "journal") {
        expected.journal = field.get_bool();
      } else {
        ADD_FAILURE() << "the runner cannot compare writeConcern." << field.key();
      }
    }
    EXPECT_TRUE(cs.write_concern == expected);
  }
  if (auto rc = test.find("readConcern"); rc && rc->type() == bson::Type::kDocument) {
    SCOPED_TRACE("readConcern" + warnings);
    ReadConcern expected;
    if (auto level = rc->get_document().find("level")) expected.level = level->get_string();
    EXPECT_TRUE(cs.read_concern == expected);
  }
  if (auto credential = test.find("credential")) expect_credential(*credential, cs);
  if (auto options = test.find("options"); options && options->type() == bson::Type::kDocument) {
    for (const auto& option : options->get_document()) {
      std::string key = lower(option.key());
      if (find_unimplemented(key)) continue;
      SCOPED_TRACE("option " + key + warnings);
      expect_option(key, option, cs);
    }
  }
}

std::vector<SpecCase> all_cases() {
  return loaded().cases;
}

INSTANTIATE_TEST_SUITE_P(Spec, ConnectionStringSpec, ::testing::ValuesIn(all_cases()),
                         [](const auto& info) { return info.param.name; });

// The parameterized suite is silently empty when the folders are missing: this makes it fail.
TEST(ConnectionStringSpecFiles, LoadedEveryFile) {
  for (const std::string& error : loaded().errors) ADD_FAILURE() << error;
  EXPECT_FALSE(loaded().cases.empty());
}

}  // namespace
}  // namespace mongoslice
