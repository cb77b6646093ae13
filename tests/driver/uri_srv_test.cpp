// mongodb+srv:// in ConnectionString::parse (one host, no port, TLS on by default, the SRV
// options), apply_txt_options (the seedlist spec's limits and precedence), the SRV target rule
// and the service-name syntax, and refuse_unimplemented.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "driver/connection_string.hpp"
#include "driver/uri_srv.hpp"
#include "driver/uri_support.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// The TLS options, or an exception (which fails the test) when TLS is off.
const TlsOptions& tls_of(const ConnectionString& cs) {
  if (!cs.tls) throw std::runtime_error("TLS is off");
  return *cs.tls;
}

// The credential, or an exception (which fails the test) when there is none.
const auth::Credential& credential_of(const ConnectionString& cs) {
  if (!cs.credential) throw std::runtime_error("no credential");
  return *cs.credential;
}

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

template <typename F>
std::string error_from(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_uri)) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(ConnectionStringSrv, OneHostNoPortTlsOnByDefault) {
  ConnectionString cs =
      ConnectionString::parse("mongodb+srv://u:p@Cluster0.Example.NET/app?appName=x");
  EXPECT_EQ(cs.srv_host, "cluster0.example.net");
  EXPECT_THAT(cs.hosts, IsEmpty());
  ASSERT_TRUE(cs.tls);
  EXPECT_FALSE(tls_of(cs).allow_invalid_certificates);
  EXPECT_EQ(cs.srv_service_name, "mongodb");
  EXPECT_FALSE(cs.srv_max_hosts);
  EXPECT_EQ(credential_of(cs).source, "app");
  EXPECT_EQ(cs.app_name, "x");
  EXPECT_FALSE(ConnectionString::parse("mongodb://h").srv_host);
}

TEST(ConnectionStringSrv, TlsFalseTurnsTlsOff) {
  EXPECT_FALSE(ConnectionString::parse("mongodb+srv://a.example.com/?tls=false").tls);
  EXPECT_FALSE(ConnectionString::parse("mongodb+srv://a.example.com/?ssl=false").tls);
  EXPECT_THAT(error_of("mongodb+srv://a.example.com/?tls=false&tlsCAFile=ca.pem"),
              HasSubstr("tls=false contradicts"));
}

TEST(ConnectionStringSrv, HostRulesAreParseErrors) {
  EXPECT_THAT(error_of("mongodb+srv://a.example.com,b.example.com"),
              HasSubstr("exactly one host name"));
  EXPECT_THAT(error_of("mongodb+srv://a.example.com:27018"), HasSubstr("takes no port"));
  EXPECT_THAT(error_of("mongodb+srv://[::1]"), HasSubstr("not the IP literal"));
  EXPECT_THAT(error_of("mongodb+srv:///db"), HasSubstr("no host"));
  EXPECT_THAT(error_of("mongodb+srv://a.example.com/?directConnection=true"),
              HasSubstr("directConnection=true cannot be combined with mongodb+srv://"));
  EXPECT_EQ(ConnectionString::parse("mongodb+srv://a.example.com/?directConnection=false")
                .direct_connection,
            false);
  // The 2024 revision of the seedlist spec allows names of one or two labels.
  EXPECT_EQ(ConnectionString::parse("mongodb+srv://localhost").srv_host, "localhost");
}

TEST(ConnectionStringSrv, ServiceNameAndMaxHosts) {
  ConnectionString cs =
      ConnectionString::parse("mongodb+srv://a.example.com/?srvServiceName=my-db2&srvMaxHosts=3");
  EXPECT_EQ(cs.srv_service_name, "my-db2");
  EXPECT_EQ(cs.srv_max_hosts, 3u);
  EXPECT_THAT(error_of("mongodb+srv://a.example.com/?srvServiceName=_bad"),
              HasSubstr("not a valid service name"));
  EXPECT_THAT(error_of("mongodb://h/?srvServiceName=x"),
              HasSubstr("applies to mongodb+srv:// connection strings only"));
  EXPECT_THAT(error_of("mongodb://h/?srvMaxHosts=1"), HasSubstr("srvMaxHosts applies to"));
  ConnectionString bad = ConnectionString::parse("mongodb+srv://a.example.com/?srvMaxHosts=-1");
  EXPECT_FALSE(bad.srv_max_hosts);
  EXPECT_THAT(bad.warnings, Not(IsEmpty()));
  EXPECT_THAT(error_of("mongodb+srv://a.example.com/?srvMaxHosts=2&replicaSet=rs"),
              HasSubstr("srvMaxHosts cannot be combined with replicaSet"));
  EXPECT_THAT(error_of("mongodb+srv://a.example.com/?srvMaxHosts=2&loadBalanced=true"),
              HasSubstr("cannot be combined with loadBalanced=true"));
  EXPECT_EQ(ConnectionString::parse("mongodb+srv://a.example.com/?srvMaxHosts=0&replicaSet=rs")
                .replica_set,
            "rs");
}

TEST(ConnectionStringSrv, TxtOptionsAreLimitedAndLoseToTheUri) {
  ConnectionString cs = ConnectionString::parse("mongodb+srv://u:p@a.example.com/?authSource=mine");
  cs.apply_txt_options("replicaSet=rs0&authSource=theirs&loadBalanced=false");
  EXPECT_EQ(cs.replica_set, "rs0");
  EXPECT_EQ(cs.auth_source, "mine");
  EXPECT_EQ(credential_of(cs).source, "mine");
  EXPECT_FALSE(cs.load_balanced);

  ConnectionString other = ConnectionString::parse("mongodb+srv://u:p@a.example.com/db");
  other.apply_txt_options("AUTHSOURCE=theirs");
  EXPECT_EQ(credential_of(other).source, "theirs");  // the URI gave no authSource

  for (std::string_view txt : {"ssl=false", "tls=true", "appName=x", "w=1"}) {
    SCOPED_TRACE(txt);
    ConnectionString c = ConnectionString::parse("mongodb+srv://a.example.com");
    EXPECT_THAT(error_from([&] { c.apply_txt_options(txt); }),
                HasSubstr("may give only authSource, replicaSet and loadBalanced"));
  }
  ConnectionString malformed = ConnectionString::parse("mongodb+srv://a.example.com");
  EXPECT_THAT(error_from([&] { malformed.apply_txt_options("replicaSet"); }),
              HasSubstr("malformed"));
}

TEST(ConnectionStringSrv, TxtOptionsAreValidatedWithTheUris) {
  ConnectionString rs = ConnectionString::parse("mongodb+srv://a.example.com/?srvMaxHosts=1");
  EXPECT_THAT(error_from([&] { rs.apply_txt_options("replicaSet=repl0"); }),
              HasSubstr("srvMaxHosts cannot be combined with replicaSet"));
  ConnectionString lb = ConnectionString::parse("mongodb+srv://a.example.com/?replicaSet=x");
  EXPECT_THAT(error_from([&] { lb.apply_txt_options("loadBalanced=true"); }),
              HasSubstr("loadBalanced=true cannot be combined with replicaSet"));
  // Once the lookup has filled the hosts, validate() checks them too.
  ConnectionString many = ConnectionString::parse("mongodb+srv://a.example.com");
  many.apply_txt_options("loadBalanced=true");
  many.hosts = {{"h1.example.com", 27017}, {"h2.example.com", 27017}};
  EXPECT_THAT(error_from([&] { many.validate(); }), HasSubstr("takes exactly one host"));
}

TEST(ConnectionStringSrvTargets, MustLieInsideTheDomainWithOneMoreLabel) {
  EXPECT_TRUE(srv_target_matches("cluster0.example.com", "db1.example.com"));
  EXPECT_TRUE(srv_target_matches("cluster0.example.com", "db1.sub.example.com."));
  EXPECT_TRUE(srv_target_matches("Cluster0.EXAMPLE.com", "DB1.example.COM"));
  EXPECT_TRUE(srv_target_matches("test1.test.build.10gen.cc", "localhost.test.build.10gen.cc"));
  EXPECT_FALSE(srv_target_matches("cluster0.example.com", "example.com"));
  EXPECT_FALSE(srv_target_matches("cluster0.example.com", "evilexample.com"));
  EXPECT_FALSE(srv_target_matches("cluster0.example.com", "db1.example.org"));
  EXPECT_FALSE(srv_target_matches("cluster0.example.com", "db1.other.com"));
  EXPECT_FALSE(srv_target_matches("test13.test.build.10gen.cc", "localhost.build.10gen.cc"));
  EXPECT_FALSE(srv_target_matches("cluster0.example.com", "db1..example.com"));
  EXPECT_FALSE(srv_target_matches("cluster0.example.com", ""));
  // One or two labels: the host is the domain, and the target needs one more label.
  EXPECT_TRUE(srv_target_matches("mongodb.local", "db1.mongodb.local"));
  EXPECT_FALSE(srv_target_matches("mongodb.local", "mongodb.local"));
  EXPECT_FALSE(srv_target_matches("mongodb.local", "db1.evil.local"));
  EXPECT_TRUE(srv_target_matches("localhost", "db.localhost"));
  EXPECT_FALSE(srv_target_matches("localhost", "localhost"));
  EXPECT_FALSE(srv_target_matches("localhost", "db.otherhost"));
}

TEST(ConnectionStringSrvTargets, ServiceNameSyntax) {
  for (std::string_view ok : {"mongodb", "customname", "my-db", "a1", "x", "1a"}) {
    EXPECT_TRUE(valid_srv_service_name(ok)) << ok;
  }
  for (std::string_view bad : {"", "-a", "a-", "a--b", "_mongodb", "123", "a.b", "a b"}) {
    EXPECT_FALSE(valid_srv_service_name(bad)) << bad;
  }
  EXPECT_TRUE(valid_srv_service_name(std::string(62, 'a')));
  EXPECT_FALSE(valid_srv_service_name(std::string(63, 'a')));
}

// Until the driver does TLS, authentication, SRV and load balancing, a client must refuse a
// URI that asks for them; each refusal names what is missing, never the password.
TEST(ConnectionStringSupport, RefusesWhatIsNotBuiltYet) {
  EXPECT_NO_THROW(refuse_unimplemented(ConnectionString::parse("mongodb://h/?tls=false")));
  struct Case {
    std::string_view uri;
    bool flag;
    std::string_view keyword;
  };
  for (const Case& c :
       {Case{"mongodb://h/?tls=true", uri_support::kTls, "TLS"},
        Case{"mongodb://alice:hunter2@h", uri_support::kCredential,
             "authentication (user 'alice')"},
        Case{"mongodb+srv://a.example.com/?tls=false", uri_support::kSrv, "mongodb+srv://"},
        Case{"mongodb://h/?loadBalanced=true", uri_support::kLoadBalanced, "loadBalanced"}}) {
    SCOPED_TRACE(c.uri);
    ConnectionString cs = ConnectionString::parse(c.uri);
    if (c.flag) {
      EXPECT_NO_THROW(refuse_unimplemented(cs));
      continue;
    }
    EXPECT_THAT(error_from([&] { refuse_unimplemented(cs); }),
                AllOf(HasSubstr(c.keyword), HasSubstr("not supported by mongoslice"),
                      Not(HasSubstr("hunter2"))));
  }
}

}  // namespace
}  // namespace mongoslice
