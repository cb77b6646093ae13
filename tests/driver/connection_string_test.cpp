// ConnectionString::parse beyond the spec's JSON tests: the wording of errors (each must name
// the part at fault, and never the password), IPv6, percent-decoding, case rules, defaults,
// and mongoslice's own choices (UNIX sockets refused, tls values that are not booleans errors;
// heartbeat minimum; write and read concern). TLS, credentials and mongodb+srv:// have their
// own files: uri_tls_test.cpp, uri_credential_test.cpp, uri_srv_test.cpp.

#include "driver/connection_string.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "driver/mongo_client.hpp"
#include "support/child_process.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

// The message of the invalid_uri error that parsing `uri` throws ("" and a test failure when
// it parses, or throws anything else).
std::string error_of(std::string_view uri) {
  try {
    ConnectionString::parse(uri);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_uri)) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "parsed without error: " << uri;
  return "";
}

std::string all_warnings(const ConnectionString& cs) {
  std::string out;
  for (const auto& w : cs.warnings) out += w + "\n";
  return out;
}

TEST(ConnectionStringDefaults, MatchTheSpecsWhenNoOptionIsGiven) {
  ConnectionString cs = ConnectionString::parse("mongodb://localhost");
  ASSERT_THAT(cs.hosts, SizeIs(1));
  EXPECT_EQ(cs.hosts[0], (HostAndPort{"localhost", 27017}));
  EXPECT_FALSE(cs.username);
  EXPECT_FALSE(cs.password);
  EXPECT_FALSE(cs.auth_database);
  EXPECT_FALSE(cs.replica_set);
  EXPECT_FALSE(cs.direct_connection);
  EXPECT_EQ(cs.heartbeat_frequency, milliseconds(10'000));
  EXPECT_EQ(cs.server_selection_timeout, milliseconds(30'000));
  EXPECT_EQ(cs.connect_timeout, milliseconds(10'000));
  EXPECT_FALSE(cs.socket_timeout);
  EXPECT_EQ(cs.local_threshold, milliseconds(15));
  EXPECT_EQ(cs.max_pool_size, 100u);
  EXPECT_EQ(cs.read_preference.mode, ReadPreference::Mode::kPrimary);
  EXPECT_THAT(cs.read_preference.tag_sets, IsEmpty());
  EXPECT_FALSE(cs.read_preference.max_staleness);
  EXPECT_FALSE(cs.app_name);
  EXPECT_EQ(cs.kill_cursors_interval, milliseconds(1'000));
  EXPECT_TRUE(cs.write_concern.is_server_default());
  EXPECT_TRUE(cs.read_concern.is_server_default());
  EXPECT_THAT(cs.warnings, IsEmpty());
}

TEST(ConnectionStringHosts, SeveralHostsKeepTheirOrderAndPorts) {
  ConnectionString cs = ConnectionString::parse("mongodb://a.example:27018,b.example,10.0.0.3:1");
  ASSERT_THAT(cs.hosts, SizeIs(3));
  EXPECT_EQ(cs.hosts[0], (HostAndPort{"a.example", 27018}));
  EXPECT_EQ(cs.hosts[1], (HostAndPort{"b.example", 27017}));
  EXPECT_EQ(cs.hosts[2], (HostAndPort{"10.0.0.3", 1}));
}

TEST(ConnectionStringHosts, NamesAreLowerCasedButUtf8IsKept) {
  ConnectionString cs = ConnectionString::parse(
      "mongodb://DB1.Example.COM,B\xC3\x9C"
      "cher.de");
  EXPECT_EQ(cs.hosts[0].host, "db1.example.com");
  EXPECT_EQ(cs.hosts[1].host,
            "b\xC3\x9C"
            "cher.de");  // only ASCII is folded
}

TEST(ConnectionStringHosts, Ipv6LiteralsAreStoredWithoutBrackets) {
  ConnectionString cs =
      ConnectionString::parse("mongodb://[::1]:27019,[FE80::1],[::ffff:10.0.0.1]/db");
  ASSERT_THAT(cs.hosts, SizeIs(3));
  EXPECT_EQ(cs.hosts[0], (HostAndPort{"::1", 27019}));
  EXPECT_EQ(cs.hosts[1], (HostAndPort{"fe80::1", 27017}));
  EXPECT_EQ(cs.hosts[2].host, "::ffff:10.0.0.1");
  EXPECT_EQ(cs.hosts[0].to_string(), "[::1]:27019");
  EXPECT_EQ(cs.auth_database, "db");
}

TEST(ConnectionStringHosts, Ipv6ZoneIsPercentDecoded) {
  ConnectionString cs = ConnectionString::parse("mongodb://[fe80::1%25eth0]:27017");
  EXPECT_EQ(cs.hosts[0].host, "fe80::1%eth0");
}

TEST(ConnectionStringHosts, MalformedIpv6IsNamed) {
  EXPECT_THAT(error_of("mongodb://[::1"), HasSubstr("'[::1' has no closing ']'"));
  EXPECT_THAT(error_of("mongodb://[::1]x"), HasSubstr("'x' after ']' in the host '[::1]x'"));
  EXPECT_THAT(error_of("mongodb://[zz::1]"), HasSubstr("'[zz::1]' is not a valid IPv6"));
  EXPECT_THAT(error_of("mongodb://[]"), HasSubstr("'[]' is not a valid IPv6"));
}

TEST(ConnectionStringHosts, PortErrorsNameThePortAndTheHost) {
  EXPECT_THAT(error_of("mongodb://h:0"), HasSubstr("port '0' of host 'h:0'"));
  EXPECT_THAT(error_of("mongodb://h:65536"), HasSubstr("port '65536' of host 'h:65536'"));
  EXPECT_THAT(error_of("mongodb://h:+1"), HasSubstr("port '+1'"));
  EXPECT_THAT(error_of("mongodb://h:"), HasSubstr("port '' of host 'h:'"));
  EXPECT_THAT(error_of("mongodb://h:99999999999999999999"), HasSubstr("port '9999"));
  EXPECT_EQ(ConnectionString::parse("mongodb://h:65535").hosts[0].port, 65535);
}

TEST(ConnectionStringHosts, EmptyOrMalformedHostListsAreNamed) {
  EXPECT_THAT(error_of("mongodb://"), HasSubstr("no host"));
  EXPECT_THAT(error_of("mongodb://a,,b"), HasSubstr("host #2 in the host list is empty"));
  EXPECT_THAT(error_of("mongodb://a,"), HasSubstr("host #2 in the host list is empty"));
  EXPECT_THAT(error_of("mongodb://:27017"), HasSubstr("':27017' has an empty name"));
  EXPECT_THAT(error_of("mongodb://a b"), HasSubstr("'a b' contains the character code 32"));
  EXPECT_THAT(error_of("mongodb://a::1"), HasSubstr("IPv6 literals go in brackets"));
  EXPECT_THAT(error_of("mongodb://user@"), HasSubstr("no host"));
}

TEST(ConnectionStringHosts, UnixSocketsAreRefusedByName) {
  EXPECT_THAT(error_of("mongodb://%2Ftmp%2Fmongodb-27017.sock"),
              AllOf(HasSubstr("'/tmp/mongodb-27017.sock'"), HasSubstr("UNIX domain socket")));
  EXPECT_THAT(error_of("mongodb:///tmp/mongodb-27017.sock"), HasSubstr("no host before"));
  // Without a '/', a name ending in .sock is a host name, as the spec says.
  EXPECT_EQ(ConnectionString::parse("mongodb://mongodb-27017.sock").hosts[0].host,
            "mongodb-27017.sock");
}

TEST(ConnectionStringHosts, ControlBytesAreEscapedInMessages) {
  std::string message =
      error_of(std::string("mongodb://a\x01\x00"
                           "b:1",
                           16));
  EXPECT_THAT(message, HasSubstr("'a\\x01\\x00b:1' contains the character code 1"));
  EXPECT_EQ(message.find('\0'), std::string::npos);
}

TEST(ConnectionStringScheme, OnlyMongodbIsAccepted) {
  EXPECT_THAT(error_of(""), HasSubstr("empty"));
  EXPECT_THAT(error_of("mongo://h"), HasSubstr("scheme 'mongo'"));
  EXPECT_THAT(error_of("localhost:27017"), HasSubstr("expected mongodb://"));
  EXPECT_THAT(error_of("MONGODB://h"), HasSubstr("scheme 'MONGODB'"));
  EXPECT_EQ(ConnectionString::parse("mongodb+srv://cluster0.example.net/").srv_host,
            "cluster0.example.net");
}

TEST(ConnectionStringAuth, UserPasswordAndDatabaseArePercentDecoded) {
  ConnectionString cs =
      ConnectionString::parse("mongodb://us%40er%3A1:p%40ss%3Aw%2Fo%25rd@h/my%3Ddb%2e1?appName=x");
  EXPECT_EQ(cs.username, "us@er:1");
  EXPECT_EQ(cs.password, "p@ss:w/o%rd");
  EXPECT_EQ(cs.auth_database, "my=db.1");
}

// An empty password is a password; none at all is refused (every mechanism built needs one).
TEST(ConnectionStringAuth, EmptyPasswordAndNoPasswordDiffer) {
  ConnectionString empty = ConnectionString::parse("mongodb://u:@h");
  EXPECT_EQ(empty.password, "");
  ASSERT_TRUE(empty.credential);
  EXPECT_EQ(empty.credential->password, "");
  EXPECT_THAT(error_of("mongodb://u@h"), HasSubstr("user 'u' has no password"));
}

TEST(ConnectionStringAuth, DatabaseIsOptionalAndDecoded) {
  EXPECT_FALSE(ConnectionString::parse("mongodb://h/").auth_database);
  EXPECT_FALSE(ConnectionString::parse("mongodb://h/?appName=a").auth_database);
  EXPECT_EQ(ConnectionString::parse("mongodb://h/admin.x").auth_database, "admin.x");
  EXPECT_EQ(ConnectionString::parse("mongodb://h/my%3Ddb").auth_database, "my=db");
  EXPECT_EQ(ConnectionString::parse("mongodb://h/a%40b").auth_database, "a@b");
}

TEST(ConnectionStringAuth, ForbiddenDatabaseCharactersAreNamed) {
  EXPECT_THAT(error_of("mongodb://h/my%20db"), HasSubstr("database name 'my db' contains ' '"));
  EXPECT_THAT(error_of("mongodb://h/a%2Fb"), HasSubstr("database name 'a/b' contains '/'"));
  EXPECT_THAT(error_of("mongodb://h/a$b"), HasSubstr("contains '$'"));
  EXPECT_THAT(error_of("mongodb://h/a%00b"), HasSubstr("a NUL byte"));
  EXPECT_THAT(error_of("mongodb://h/db%zz"), HasSubstr("the database name has a '%' at offset 2"));
}

TEST(ConnectionStringAuth, UserinfoErrorsNameThePartButNeverThePassword) {
  const std::string secret = "s3cr3t";
  std::string colon = error_of("mongodb://alice:" + secret + ":x@h");
  EXPECT_THAT(colon,
              AllOf(HasSubstr("password contains an unescaped ':'"), Not(HasSubstr(secret))));
  std::string at = error_of("mongodb://alice:" + secret + "@x@h");
  EXPECT_THAT(at, AllOf(HasSubstr("unescaped '@'"), Not(HasSubstr(secret))));
  std::string slash = error_of("mongodb://alice:" + secret + "/x@h/db");
  EXPECT_THAT(slash,
              AllOf(HasSubstr("'/' in a user name or password as %2F"), Not(HasSubstr(secret))));
  std::string percent = error_of("mongodb://alice:" + secret + "%g@h");
  EXPECT_THAT(percent,
              AllOf(HasSubstr("the password has a '%' at offset 6"), Not(HasSubstr(secret))));
  EXPECT_THAT(error_of("mongodb://:pw@h"), HasSubstr("user name before '@' is empty"));
}

TEST(ConnectionStringAuth, AtSignsInOptionsAreNotUserinfo) {
  ConnectionString cs = ConnectionString::parse("mongodb://h/?replicaSet=my@set&appName=a/b");
  EXPECT_FALSE(cs.username);
  EXPECT_EQ(cs.replica_set, "my@set");
  EXPECT_EQ(cs.app_name, "a/b");
}

TEST(ConnectionStringOptions, NamesAreCaseInsensitiveAndValuesAreDecoded) {
  ConnectionString cs = ConnectionString::parse(
      "mongodb://h/?REPLICASET=rs%200&readpreference=SecondaryPreferred&ConnectTimeoutMs=2500"
      "&APPNAME=my%26app&killCursorsIntervalMS=250");
  EXPECT_EQ(cs.replica_set, "rs 0");
  EXPECT_EQ(cs.read_preference.mode, ReadPreference::Mode::kSecondaryPreferred);
  EXPECT_EQ(cs.connect_timeout, milliseconds(2500));
  EXPECT_EQ(cs.app_name, "my&app");
  EXPECT_EQ(cs.kill_cursors_interval, milliseconds(250));
  EXPECT_THAT(cs.warnings, IsEmpty()) << all_warnings(cs);
}

TEST(ConnectionStringOptions, EveryImplementedOptionIsRead) {
  ConnectionString cs = ConnectionString::parse(
      "mongodb://a,b/?replicaSet=rs&directConnection=false&heartbeatFrequencyMS=500"
      "&serverSelectionTimeoutMS=0&connectTimeoutMS=0&socketTimeoutMS=7500"
      "&localThresholdMS=3000&maxPoolSize=0&readPreference=nearest&maxStalenessSeconds=120");
  EXPECT_EQ(cs.replica_set, "rs");
  EXPECT_EQ(cs.direct_connection, false);
  EXPECT_EQ(cs.heartbeat_frequency, milliseconds(500));
  EXPECT_EQ(cs.server_selection_timeout, milliseconds(0));
  EXPECT_EQ(cs.connect_timeout, milliseconds(0));
  EXPECT_EQ(cs.socket_timeout, milliseconds(7500));
  EXPECT_EQ(cs.local_threshold, milliseconds(3000));
  EXPECT_EQ(cs.max_pool_size, 0u);
  EXPECT_EQ(cs.read_preference.mode, ReadPreference::Mode::kNearest);
  EXPECT_EQ(cs.read_preference.max_staleness, seconds(120));
  EXPECT_THAT(cs.warnings, IsEmpty()) << all_warnings(cs);
}

TEST(ConnectionStringOptions, SocketTimeoutZeroMeansNone) {
  EXPECT_FALSE(
      ConnectionString::parse("mongodb://h/?socketTimeoutMS=5&socketTimeoutMS=0").socket_timeout);
}

TEST(ConnectionStringOptions, DelimitingSlashMayBeOmitted) {
  ConnectionString cs = ConnectionString::parse("mongodb://h:1?appName=x");
  EXPECT_EQ(cs.hosts[0], (HostAndPort{"h", 1}));
  EXPECT_EQ(cs.app_name, "x");
  EXPECT_FALSE(cs.auth_database);
}

TEST(ConnectionStringOptions, InvalidValuesWarnAndKeepTheDefault) {
  const char* cases[] = {
      "connectTimeoutMS=-1",      "connectTimeoutMS=10x",
      "connectTimeoutMS=",        "connectTimeoutMS=+5",
      "connectTimeoutMS=%2010",   "connectTimeoutMS=2147483648",
      "directConnection=yes",     "maxPoolSize=-1",
      "readPreference=fastest",   "maxStalenessSeconds=0",
      "maxStalenessSeconds=-2",   "killCursorsIntervalMS=0",
      "heartbeatFrequencyMS=abc", "replicaSet=",
  };
  for (const char* option : cases) {
    SCOPED_TRACE(option);
    ConnectionString cs = ConnectionString::parse(std::string("mongodb://h/?") + option);
    ASSERT_THAT(cs.warnings, SizeIs(1));
    // The warning quotes the option as written, so the user can find it.
    EXPECT_THAT(cs.warnings[0],
                HasSubstr(std::string(option).substr(0, std::string(option).find('='))));
    ConnectionString defaults = ConnectionString::parse("mongodb://h");
    EXPECT_EQ(cs.connect_timeout, defaults.connect_timeout);
    EXPECT_EQ(cs.max_pool_size, defaults.max_pool_size);
    EXPECT_EQ(cs.read_preference.mode, defaults.read_preference.mode);
    EXPECT_EQ(cs.read_preference.max_staleness, defaults.read_preference.max_staleness);
    EXPECT_EQ(cs.kill_cursors_interval, defaults.kill_cursors_interval);
    EXPECT_EQ(cs.heartbeat_frequency, defaults.heartbeat_frequency);
    EXPECT_EQ(cs.direct_connection, defaults.direct_connection);
    EXPECT_EQ(cs.replica_set, defaults.replica_set);
  }
}

TEST(ConnectionStringOptions, AnInvalidRepeatKeepsTheEarlierValidValue) {
  ConnectionString cs = ConnectionString::parse("mongodb://h/?maxPoolSize=7&maxPoolSize=x");
  EXPECT_EQ(cs.max_pool_size, 7u);
  EXPECT_THAT(cs.warnings, SizeIs(2));  // the repeat, and the invalid value
}

TEST(ConnectionStringOptions, RepeatedOptionsWarnAndTheLastWins) {
  ConnectionString cs = ConnectionString::parse("mongodb://h/?appName=a&APPNAME=b");
  EXPECT_EQ(cs.app_name, "b");
  ASSERT_THAT(cs.warnings, SizeIs(1));
  EXPECT_THAT(cs.warnings[0], HasSubstr("APPNAME is given more than once"));
}

TEST(ConnectionStringOptions, UnknownAndUnimplementedOptionsWarnWithoutTheirValues) {
  ConnectionString cs = ConnectionString::parse(
      "mongodb://h/?proxyPassword=hunter2&fooBar=hunter3&timeoutMS=5&tls=false");
  EXPECT_THAT(all_warnings(cs),
              AllOf(HasSubstr("proxyPassword is not supported"), HasSubstr("unknown option fooBar"),
                    HasSubstr("timeoutMS is not supported"), Not(HasSubstr("hunter"))));
  EXPECT_THAT(cs.warnings, SizeIs(3));  // tls=false is what we do anyway
}

TEST(ConnectionStringOptions, RetryWritesAndRetryReadsAreOnUnlessTheUriTurnsThemOff) {
  ConnectionString defaults = ConnectionString::parse("mongodb://h/");
  EXPECT_TRUE(defaults.retry_writes);
  EXPECT_TRUE(defaults.retry_reads);
  ConnectionString off = ConnectionString::parse("mongodb://h/?retryWrites=false&retryReads=false");
  EXPECT_FALSE(off.retry_writes);
  EXPECT_FALSE(off.retry_reads);
  EXPECT_THAT(off.warnings, SizeIs(0));
}

TEST(ConnectionStringOptions, MalformedPairsAreErrorsNamingTheOption) {
  EXPECT_THAT(error_of("mongodb://h/?appName=a&w"), HasSubstr("option 'w' has no value"));
  EXPECT_THAT(error_of("mongodb://h/?=x"), HasSubstr("empty name"));
  EXPECT_THAT(error_of("mongodb://h/?appName=%zz"),
              HasSubstr("option appName has a '%' at offset 0"));
  // Empty pairs are tolerated.
  EXPECT_EQ(ConnectionString::parse("mongodb://h/?&appName=a&&").app_name, "a");
}

TEST(ConnectionStringOptions, AppNameIsLimitedTo128Bytes) {
  std::string name(128, 'x');
  EXPECT_EQ(ConnectionString::parse("mongodb://h/?appName=" + name).app_name, name);
  ConnectionString cs = ConnectionString::parse("mongodb://h/?appName=" + name + "y");
  EXPECT_FALSE(cs.app_name);
  EXPECT_THAT(all_warnings(cs), HasSubstr("at most 128 bytes"));
}

TEST(ConnectionStringOptions, HeartbeatBelow500IsAnError) {
  EXPECT_THAT(error_of("mongodb://h/?heartbeatFrequencyMS=499"),
              HasSubstr("heartbeatFrequencyMS=499 is below the minimum of 500 ms"));
  EXPECT_THAT(error_of("mongodb://h/?heartbeatFrequencyMS=0"), HasSubstr("heartbeatFrequencyMS"));
}

TEST(ConnectionStringOptions, DirectConnectionTakesOneHost) {
  EXPECT_THAT(error_of("mongodb://a,b/?directConnection=true"),
              HasSubstr("directConnection=true takes exactly one host, but 2 are given"));
  EXPECT_EQ(ConnectionString::parse("mongodb://a/?directConnection=TRUE").direct_connection, true);
}

// Anything but a plain true/false would, ignored with a warning, mean plaintext where the user
// may have meant TLS: an error.
TEST(ConnectionStringOptions, TlsValuesOtherThanTrueOrFalseAreErrors) {
  for (std::string_view uri : {"mongodb://h/?tls=yes", "mongodb://h/?ssl=1",
                               "mongodb://h/?tls=", "mongodb://h/?tls=false&ssl=on"}) {
    EXPECT_THAT(error_of(uri), HasSubstr("expected true or false")) << uri;
  }
  EXPECT_THAT(error_of("mongodb://h/?tls=yes"), HasSubstr("tls=yes"));
  // Case-insensitive booleans, as for the other options: tls=FALSE is plaintext, as asked.
  ConnectionString cs = ConnectionString::parse("mongodb://h/?tls=FALSE&ssl=false");
  EXPECT_THAT(cs.warnings, IsEmpty()) << all_warnings(cs);
  EXPECT_THAT(error_of("mongodb://h/?tls=false&ssl=true"), HasSubstr("ssl=true"));
}

// tls=false says plaintext; another TLS option says TLS: a contradiction, refused naming both
// (never quoting their values: a key file's password).
TEST(ConnectionStringOptions, TlsOptionsWithTlsFalseAreRefused) {
  EXPECT_THAT(error_of("mongodb://h/?tls=false&tlsInsecure=true"),
              HasSubstr("tls=false contradicts the TLS option(s) tlsInsecure"));
  EXPECT_THAT(error_of("mongodb://h/?tlsCAFile=ca.pem&ssl=false"),
              HasSubstr("ssl=false contradicts the TLS option(s) tlsCAFile"));
  EXPECT_THAT(error_of("mongodb://h/?tlsCertificateKeyFilePassword=hunter2&tls=false"),
              AllOf(HasSubstr("tlsCertificateKeyFilePassword"), Not(HasSubstr("hunter2"))));
}

TEST(ConnectionStringConcerns, WriteAndReadConcernAreRead) {
  ConnectionString cs = ConnectionString::parse(
      "mongodb://h/?w=majority&wTimeoutMS=2500&journal=true&readConcernLevel=linearizable");
  EXPECT_THAT(cs.warnings, IsEmpty()) << all_warnings(cs);
  ASSERT_TRUE(cs.write_concern.w);
  EXPECT_EQ(std::get<std::string>(*cs.write_concern.w), "majority");
  EXPECT_EQ(cs.write_concern.wtimeout, milliseconds(2500));
  EXPECT_EQ(cs.write_concern.journal, true);
  EXPECT_EQ(cs.read_concern.level, "linearizable");

  cs = ConnectionString::parse("mongodb://h/?w=0&journal=false&wtimeoutMS=0");
  ASSERT_TRUE(cs.write_concern.w);
  EXPECT_EQ(std::get<std::int32_t>(*cs.write_concern.w), 0);
  EXPECT_EQ(cs.write_concern.journal, false);
  EXPECT_EQ(cs.write_concern.wtimeout, milliseconds(0));
  EXPECT_FALSE(cs.read_concern.level);
  // A tag set's name is a mode too; digits after a letter do not make a number.
  EXPECT_EQ(std::get<std::string>(*ConnectionString::parse("mongodb://h/?w=dc2").write_concern.w),
            "dc2");
}

TEST(ConnectionStringConcerns, ContradictionsAndNegativesAreErrors) {
  EXPECT_THAT(error_of("mongodb://h/?w=0&journal=true"),
              HasSubstr("w=0 (unacknowledged) cannot be combined with journal=true"));
  EXPECT_THAT(error_of("mongodb://h/?journal=true&w=0"), HasSubstr("w=0"));  // order is no matter
  EXPECT_THAT(error_of("mongodb://h/?w=-1"), HasSubstr("w=-1 is negative"));
  EXPECT_THAT(error_of("mongodb://h/?wTimeoutMS=-500"), HasSubstr("wTimeoutMS=-500 is negative"));
}

TEST(ConnectionStringConcerns, UnusableValuesWarnAndKeepTheDefault) {
  for (std::string_view uri :
       {"mongodb://h/?journal=yes", "mongodb://h/?journal=", "mongodb://h/?wtimeoutMS=soon",
        "mongodb://h/?wtimeoutMS=2147483648", "mongodb://h/?w=", "mongodb://h/?w=2147483648",
        "mongodb://h/?readConcernLevel="}) {
    SCOPED_TRACE(std::string(uri));
    ConnectionString cs = ConnectionString::parse(uri);
    EXPECT_THAT(cs.warnings, SizeIs(1)) << all_warnings(cs);
    EXPECT_TRUE(cs.write_concern.is_server_default());
    EXPECT_TRUE(cs.read_concern.is_server_default());
  }
  // The deprecated wtimeout is no URI option: unknown, warned about, and wTimeoutMS still read.
  ConnectionString cs = ConnectionString::parse("mongodb://h/?wtimeout=5&wTimeoutMS=10");
  EXPECT_THAT(all_warnings(cs), HasSubstr("unknown option wtimeout"));
  EXPECT_EQ(cs.write_concern.wtimeout, milliseconds(10));
}

TEST(ConnectionStringReadPreference, TagSetsKeepOrderAndAcceptTheEmptySet) {
  ConnectionString cs = ConnectionString::parse(
      "mongodb://h/?readPreference=secondary&readPreferenceTags=dc:ny,rack:1"
      "&readPreferenceTags=dc:NY%2C2&readPreferenceTags=");
  ASSERT_THAT(cs.read_preference.tag_sets, SizeIs(3));
  EXPECT_EQ(cs.read_preference.tag_sets[0].to_json(), R"({ "dc" : "ny", "rack" : "1" })");
  EXPECT_EQ(cs.read_preference.tag_sets[1].to_json(), R"({ "dc" : "NY,2" })");
  EXPECT_TRUE(cs.read_preference.tag_sets[2].view().empty());
  EXPECT_THAT(cs.warnings, IsEmpty()) << all_warnings(cs);  // a repeatable option
}

TEST(ConnectionStringReadPreference, MalformedTagSetsWarnAndAreDropped) {
  for (const char* tags : {"dc", ":ny", "dc:ny,", "dc:ny,dc:sf"}) {
    SCOPED_TRACE(tags);
    ConnectionString cs = ConnectionString::parse(
        std::string("mongodb://h/?readPreference=nearest&readPreferenceTags=") + tags +
        "&readPreferenceTags=rack:2");
    ASSERT_THAT(cs.read_preference.tag_sets, SizeIs(1));
    EXPECT_EQ(cs.read_preference.tag_sets[0].to_json(), R"({ "rack" : "2" })");
    EXPECT_THAT(cs.warnings, SizeIs(1));
  }
}

TEST(ConnectionStringReadPreference, PrimaryTakesNeitherTagsNorStaleness) {
  EXPECT_THAT(error_of("mongodb://h/?readPreferenceTags=dc:ny"),
              HasSubstr("readPreferenceTags cannot be combined with readPreference primary"));
  EXPECT_THAT(error_of("mongodb://h/?maxStalenessSeconds=120&readPreference=primary"),
              HasSubstr("maxStalenessSeconds cannot be combined with readPreference primary"));
  // -1 means "no maximum" and is fine with primary (max-staleness spec).
  ConnectionString cs = ConnectionString::parse("mongodb://h/?maxStalenessSeconds=-1");
  EXPECT_FALSE(cs.read_preference.max_staleness);
  EXPECT_THAT(cs.warnings, IsEmpty());
  // Order does not matter: the mode may come after the staleness.
  EXPECT_EQ(ConnectionString::parse("mongodb://h/?maxStalenessSeconds=1&readPreference=secondary")
                .read_preference.max_staleness,
            seconds(1));
}

TEST(ConnectionStringReadPreference, ModeNamesRoundTrip) {
  using Mode = ReadPreference::Mode;
  for (Mode m : {Mode::kPrimary, Mode::kPrimaryPreferred, Mode::kSecondary,
                 Mode::kSecondaryPreferred, Mode::kNearest}) {
    EXPECT_EQ(parse_read_preference_mode(to_string(m)), m) << to_string(m);
  }
  EXPECT_EQ(to_string(Mode::kSecondaryPreferred), "secondaryPreferred");
  EXPECT_EQ(parse_read_preference_mode("PRIMARYPREFERRED"), Mode::kPrimaryPreferred);
  EXPECT_FALSE(parse_read_preference_mode("primary "));
  EXPECT_FALSE(parse_read_preference_mode(""));
}

// ---- warnings reach stderr by default --------------------------------------------------------

constexpr const char* kChildFlag = "MONGOSLICE_URI_WARNINGS_CHILD";
constexpr std::string_view kWarningUri = "mongodb://127.0.0.1:1/?fooBar=1&journal=maybe";

// The child's part (skipped unless ConnectionStringWarnings runs it): construct one client
// with two warnings in its URI, and close it.
TEST(ConnectionStringWarningsChild, MakesOneClient) {
  if (std::getenv(kChildFlag) == nullptr) {
    GTEST_SKIP() << "runs only as the child process of ConnectionStringWarnings";
  }
  MongoClient client(kWarningUri);
  client.close();
}

// Runs this test binary again in a fresh process (so MONGOSLICE_LOG is read anew) with
// MONGOSLICE_LOG set to `log` (unset for nullptr), and returns what it wrote to stderr.
std::string child_stderr(const char* log) {
  char path[] = "/tmp/mongoslice-uri-warnings-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) {
    ADD_FAILURE() << "mkstemp failed";
    return "";
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fd, 2);
    int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) ::dup2(devnull, 1);
    if (log) {
      ::setenv("MONGOSLICE_LOG", log, 1);
    } else {
      ::unsetenv("MONGOSLICE_LOG");
    }
    ::setenv(kChildFlag, "1", 1);
    ::execl("/proc/self/exe", "driver_tests", "--gtest_filter=ConnectionStringWarningsChild.*",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fd);
  int status = testing::wait_bounded(pid, std::chrono::seconds(30));
  std::ifstream in(path);
  std::string err((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ::unlink(path);
  EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "child status " << status << "; stderr:\n"
      << err;
  return err;
}

std::size_t count_of(const std::string& text, std::string_view needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

TEST(ConnectionStringWarnings, ReachStderrByDefaultOncePerClient) {
  for (const char* log : {static_cast<const char*>(nullptr), "commands"}) {
    SCOPED_TRACE(log ? log : "MONGOSLICE_LOG unset");
    const std::string err = child_stderr(log);
    EXPECT_EQ(count_of(err,
                       "[mongoslice topology warning] connection string: unknown option "
                       "fooBar ignored\n"),
              1u)
        << err;
    EXPECT_EQ(count_of(err, "option journal=maybe ignored: expected true or false"), 1u) << err;
  }
}

TEST(ConnectionStringWarnings, MongosliceLogNoneSilencesThem) {
  const std::string err = child_stderr("none");
  EXPECT_EQ(count_of(err, "fooBar"), 0u) << err;
  EXPECT_EQ(count_of(err, "journal"), 0u) << err;
}

}  // namespace
}  // namespace mongoslice
