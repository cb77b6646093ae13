// Connection over TLS against a loopback TLS server the test runs (support/tls_loopback_peer.hpp),
// with the certificates of tests/support/make_test_certs.sh: the handshake and a command by host
// name and by IP literal, SNI, each verification failure with its clear message (unknown CA,
// host name or IP mismatch, expired, client certificate required, wrong key password), the
// "allow" options, a server that never speaks TLS (connectTimeoutMS), and interrupt() during the
// TLS handshake.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "net/connection.hpp"
#include "net/tls_context.hpp"
#include "support/expect_error.hpp"
#include "support/tls_loopback_peer.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using testing::expect_error;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TestCertificates;
using testing::TlsLoopbackPeer;
using testing::TlsPeerOptions;

std::string cert(const std::string& name) {
  return TestCertificates::get().file(name);
}

// The server presents `name`.crt / `name`.key.
TlsPeerOptions server_with(const std::string& name) {
  return {cert(name + ".crt"), cert(name + ".key"), std::nullopt};
}

// Trusts the test CA; every step bounded.
ConnectionOptions tls_options(std::chrono::milliseconds connect_timeout = 10s) {
  ConnectionOptions options;
  options.connect_timeout = connect_timeout;
  options.socket_timeout = 10s;
  options.tls = TlsOptions{};
  options.tls->ca_file = cert("ca.pem");
  return options;
}

bson::Document ping() {
  return bson::Builder{}.append("ping", 1).build();
}

TEST(ConnectionTls, HandshakeAndCommandByHostNameWithSni) {
  TlsLoopbackPeer peer(server_with("server"), testing::tls_healthy_server());
  {
    Connection conn(peer.address("localhost"), tls_options());
    conn.connect();
    EXPECT_TRUE(conn.is_open());
    EXPECT_EQ(conn.max_wire_version(), 21);
    auto reply = conn.run_command("admin", ping());
    EXPECT_TRUE(reply["ok"].as_bool());
  }
  peer.join();
  EXPECT_EQ(peer.handshake_error(), "");
  EXPECT_EQ(peer.script_error(), "");
  EXPECT_EQ(peer.sni(), "localhost");
}

TEST(ConnectionTls, HandshakeAndCommandByIpLiteralWithoutSni) {
  TlsLoopbackPeer peer(server_with("server"), testing::tls_healthy_server());
  {
    Connection conn(peer.address("127.0.0.1"), tls_options());
    conn.connect();
    auto reply = conn.run_command("admin", ping());
    EXPECT_TRUE(reply["ok"].as_bool());
  }
  peer.join();
  EXPECT_EQ(peer.handshake_error(), "");
  EXPECT_EQ(peer.script_error(), "");
  EXPECT_EQ(peer.sni(), "") << "RFC 6066: no SNI for an IP literal";
}

TEST(ConnectionTls, CertificateOfAnUnknownCaIsAClearError) {
  for (bool system_store : {false, true}) {
    SCOPED_TRACE(system_store ? "system trust store" : "tlsCAFile");
    TlsLoopbackPeer peer(server_with("untrusted"), testing::tls_healthy_server());
    auto options = tls_options();
    if (system_store) options.tls->ca_file.reset();
    Connection conn(peer.address("localhost"), options);
    auto error = expect_error([&] { conn.connect(); });
    EXPECT_EQ(error.code(), errc::network_error) << error.what();
    EXPECT_THAT(error.what(),
                HasSubstr("TLS handshake with " + peer.address("localhost").to_string()));
    EXPECT_THAT(error.what(), HasSubstr("is not trusted"));
    EXPECT_THAT(error.what(), HasSubstr("CN=localhost"));
    EXPECT_THAT(error.what(), HasSubstr(system_store ? "the system's trust store"
                                                     : "tlsCAFile " + cert("ca.pem")));
    EXPECT_FALSE(conn.is_open());
  }
}

TEST(ConnectionTls, HostNameMismatchIsAClearError) {
  TlsLoopbackPeer peer(server_with("wrong-host"), testing::tls_healthy_server());
  Connection conn(peer.address("localhost"), tls_options());
  auto error = expect_error([&] { conn.connect(); });
  EXPECT_EQ(error.code(), errc::network_error) << error.what();
  EXPECT_THAT(error.what(), HasSubstr(peer.address("localhost").to_string()));
  EXPECT_THAT(error.what(), HasSubstr("does not name the host localhost"));
  EXPECT_THAT(error.what(), HasSubstr("DNS:wrong.example.com, IP:192.0.2.1"));
  EXPECT_THAT(error.what(), HasSubstr("tlsAllowInvalidHostnames"));
}

TEST(ConnectionTls, IpAddressMismatchIsAClearError) {
  TlsLoopbackPeer peer(server_with("wrong-host"), testing::tls_healthy_server());
  Connection conn(peer.address("127.0.0.1"), tls_options());
  auto error = expect_error([&] { conn.connect(); });
  EXPECT_EQ(error.code(), errc::network_error) << error.what();
  EXPECT_THAT(error.what(), HasSubstr(peer.address("127.0.0.1").to_string()));
  EXPECT_THAT(error.what(), HasSubstr("does not name the IP address 127.0.0.1"));
}

TEST(ConnectionTls, AllowInvalidHostnamesAcceptsAMismatchButStillChecksTheCa) {
  for (const char* host : {"localhost", "127.0.0.1"}) {
    SCOPED_TRACE(host);
    TlsLoopbackPeer peer(server_with("wrong-host"), testing::tls_healthy_server());
    auto options = tls_options();
    options.tls->allow_invalid_hostnames = true;
    Connection conn(peer.address(host), options);
    conn.connect();
    EXPECT_TRUE(conn.run_command("admin", ping())["ok"].as_bool());
  }
  TlsLoopbackPeer peer(server_with("untrusted"), testing::tls_healthy_server());
  auto options = tls_options();
  options.tls->allow_invalid_hostnames = true;
  Connection conn(peer.address("localhost"), options);
  auto error = expect_error([&] { conn.connect(); });
  EXPECT_THAT(error.what(), HasSubstr("is not trusted"));
}

TEST(ConnectionTls, ExpiredCertificateIsAClearError) {
  TlsLoopbackPeer peer(server_with("expired"), testing::tls_healthy_server());
  Connection conn(peer.address("localhost"), tls_options());
  auto error = expect_error([&] { conn.connect(); });
  EXPECT_EQ(error.code(), errc::network_error) << error.what();
  EXPECT_THAT(error.what(), HasSubstr(peer.address("localhost").to_string()));
  EXPECT_THAT(error.what(), HasSubstr("has expired (valid until Jan 31 00:00:00 2020 GMT)"));
}

TEST(ConnectionTls, AllowInvalidCertificatesAcceptsUnknownCaExpiredAndMismatch) {
  for (const char* name : {"untrusted", "expired", "wrong-host"}) {
    SCOPED_TRACE(name);
    TlsLoopbackPeer peer(server_with(name), testing::tls_healthy_server());
    auto options = tls_options();
    options.tls->allow_invalid_certificates = true;
    Connection conn(peer.address("localhost"), options);
    conn.connect();
    EXPECT_TRUE(conn.run_command("admin", ping())["ok"].as_bool());
  }
}

TEST(ConnectionTls, ServerRequiringAClientCertificateWithoutOneIsAClearError) {
  auto server = server_with("server");
  server.client_ca = cert("ca.pem");
  TlsLoopbackPeer peer(server, testing::tls_healthy_server());
  Connection conn(peer.address("localhost"), tls_options());
  // TLS 1.3: the client's handshake completes before the server looks at its (empty)
  // certificate, so the server's alert arrives on the first read.
  auto error = expect_error([&] { conn.connect(); });
  peer.join();
  EXPECT_EQ(error.code(), errc::network_error) << error.what();
  EXPECT_THAT(error.what(), HasSubstr(peer.address("localhost").to_string()));
  EXPECT_THAT(error.what(), HasSubstr("the server requires a client certificate"));
  EXPECT_THAT(error.what(), HasSubstr("none was given (tlsCertificateKeyFile)"));
  EXPECT_THAT(peer.handshake_error(), HasSubstr("certificate"));
  EXPECT_FALSE(conn.is_open());
}

TEST(ConnectionTls, ClientCertificatePlainAndEncryptedIsAccepted) {
  for (bool encrypted : {false, true}) {
    SCOPED_TRACE(encrypted ? "encrypted key" : "plain key");
    auto server = server_with("server");
    server.client_ca = cert("ca.pem");
    TlsLoopbackPeer peer(server, testing::tls_healthy_server());
    auto options = tls_options();
    options.tls->certificate_key_file = cert(encrypted ? "client-encrypted.pem" : "client.pem");
    if (encrypted) options.tls->certificate_key_password = TestCertificates::get().key_password();
    {
      Connection conn(peer.address("localhost"), options);
      conn.connect();
      EXPECT_TRUE(conn.run_command("admin", ping())["ok"].as_bool());
    }
    peer.join();
    EXPECT_EQ(peer.handshake_error(), "");
  }
}

TEST(ConnectionTls, WrongKeyPasswordIsAClearErrorBeforeAnyConnection) {
  TlsLoopbackPeer peer(server_with("server"), testing::tls_healthy_server());
  auto options = tls_options();
  options.tls->certificate_key_file = cert("client-encrypted.pem");
  options.tls->certificate_key_password = "not-the-password";
  Connection conn(peer.address("localhost"), options);
  auto error = expect_error([&] { conn.connect(); });
  peer.join();
  EXPECT_EQ(error.code(), errc::invalid_argument) << error.what();
  EXPECT_THAT(error.what(), HasSubstr(peer.address("localhost").to_string()));
  EXPECT_THAT(error.what(), HasSubstr("tlsCertificateKeyFile " + cert("client-encrypted.pem")));
  EXPECT_THAT(error.what(), HasSubstr("cannot be decrypted"));
  EXPECT_THAT(error.what(), Not(HasSubstr("not-the-password")));
  EXPECT_FALSE(peer.accepted());
}

TEST(ConnectionTls, EncryptedKeyWithoutPasswordIsAClearErrorAndNeverPrompts) {
  auto options = tls_options();
  options.tls->certificate_key_file = cert("client-encrypted.pem");
  Connection conn({"localhost", 1}, options);
  auto error = expect_error([&] { conn.connect(); });
  EXPECT_EQ(error.code(), errc::invalid_argument) << error.what();
  EXPECT_THAT(error.what(), HasSubstr("encrypted and no tlsCertificateKeyFilePassword was given"));
}

TEST(ConnectionTls, UnreadableFilesAreClearErrors) {
  {
    auto options = tls_options();
    options.tls->ca_file = cert("no-such-ca.pem");
    Connection conn({"localhost", 1}, options);
    auto error = expect_error([&] { conn.connect(); });
    EXPECT_EQ(error.code(), errc::invalid_argument) << error.what();
    EXPECT_THAT(error.what(), HasSubstr("tlsCAFile " + cert("no-such-ca.pem") + " cannot be read"));
  }
  {
    auto options = tls_options();
    options.tls->ca_file = cert("client-encrypted.password");  // no certificate in it
    Connection conn({"localhost", 1}, options);
    auto error = expect_error([&] { conn.connect(); });
    EXPECT_EQ(error.code(), errc::invalid_argument) << error.what();
    EXPECT_THAT(error.what(), HasSubstr("holds no usable certificate"));
  }
  {
    auto options = tls_options();
    options.tls->certificate_key_file = cert("server.crt");  // a certificate without its key
    Connection conn({"localhost", 1}, options);
    auto error = expect_error([&] { conn.connect(); });
    EXPECT_EQ(error.code(), errc::invalid_argument) << error.what();
    EXPECT_THAT(error.what(), HasSubstr("holds no private key OpenSSL can read"));
  }
}

TEST(ConnectionTls, TcpPeerThatNeverSpeaksTlsIsATimeoutOfConnectTimeout) {
  TlsLoopbackPeer peer([](int fd) {
    std::uint8_t byte;
    while (::recv(fd, &byte, 1, 0) > 0) {  // swallows the ClientHello, answers nothing
    }
  });
  Connection conn(peer.address("localhost"), tls_options(300ms));
  auto error = expect_error([&] { conn.connect(); });
  EXPECT_EQ(error.code(), errc::timeout) << error.what();
  EXPECT_THAT(error.what(),
              HasSubstr("TLS handshake with " + peer.address("localhost").to_string() +
                        " timed out after 300 ms (connectTimeoutMS)"));
  EXPECT_THAT(error.what(), HasSubstr("did not answer in TLS"));
  EXPECT_FALSE(conn.is_open());
}

TEST(ConnectionTls, PeerThatClosesDuringTheHandshakeIsConnectionClosed) {
  for (bool whole_hello : {true, false}) {
    SCOPED_TRACE(whole_hello ? "closed after reading the ClientHello (FIN)"
                             : "closed with the ClientHello half read (RST)");
    TlsLoopbackPeer peer([whole_hello](int fd) {
      std::uint8_t header[5];
      if (::recv(fd, header, sizeof header, MSG_WAITALL) != sizeof header) return;
      std::vector<std::uint8_t> rest(whole_hello ? (header[3] << 8 | header[4]) : 1);
      (void)::recv(fd, rest.data(), rest.size(), MSG_WAITALL);
    });
    Connection conn(peer.address("127.0.0.1"), tls_options());
    auto error = expect_error([&] { conn.connect(); });
    EXPECT_EQ(error.code(), errc::connection_closed) << error.what();
    EXPECT_THAT(error.what(), HasSubstr("TLS handshake with " + peer.address().to_string() +
                                        ": the server closed the connection during the handshake"));
  }
}

TEST(ConnectionTls, PlaintextAnswerIsNotTls) {
  TlsLoopbackPeer peer([](int fd) {
    std::uint8_t bytes[64];
    (void)::recv(fd, bytes, sizeof bytes, 0);
    // What a MongoDB server without TLS might send: a message header, not a TLS record.
    const std::uint8_t reply[] = {36, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0};
    (void)::send(fd, reply, sizeof reply, MSG_NOSIGNAL);
    while (::recv(fd, bytes, sizeof bytes, 0) > 0) {
    }
  });
  Connection conn(peer.address("127.0.0.1"), tls_options());
  auto error = expect_error([&] { conn.connect(); });
  EXPECT_EQ(error.code(), errc::network_error) << error.what();
  EXPECT_THAT(error.what(), HasSubstr("does not speak TLS"));
}

TEST(ConnectionTls, InterruptDuringTheTlsHandshakeEndsItAtOnce) {
  std::promise<void> hello_arrived;
  TlsLoopbackPeer peer([&](int fd) {
    std::uint8_t byte;
    if (::recv(fd, &byte, 1, 0) > 0) hello_arrived.set_value();
    while (::recv(fd, &byte, 1, 0) > 0) {
    }
  });
  // A deadline far beyond the test's own limits: only the interrupt can end the handshake.
  Connection conn(peer.address("localhost"), tls_options(120s));
  std::thread interrupter([&] {
    hello_arrived.get_future().wait();
    conn.interrupt();
  });
  auto error = expect_error([&] { conn.connect(); });
  interrupter.join();
  EXPECT_EQ(error.code(), errc::interrupted) << error.what();
  EXPECT_THAT(error.what(), HasSubstr("TLS handshake with"));
  EXPECT_FALSE(conn.is_open());
}

TEST(ConnectionTls, ReconnectRunsANewHandshake) {
  TlsLoopbackPeer peer(server_with("server"), testing::tls_healthy_server(), 2);
  {
    Connection conn(peer.address("localhost"), tls_options());
    conn.connect();
    EXPECT_TRUE(conn.run_command("admin", ping())["ok"].as_bool());
    conn.close();
    EXPECT_FALSE(conn.is_open());
    conn.connect();
    EXPECT_TRUE(conn.run_command("admin", ping())["ok"].as_bool());
  }
  peer.join();
  EXPECT_EQ(peer.handshakes(), 2);
  EXPECT_EQ(peer.script_error(), "");
}

TEST(ConnectionTls, ContextsAreSharedBetweenEqualOptionsOnly) {
  TlsOptions a;
  a.ca_file = cert("ca.pem");
  TlsOptions b = a;
  b.allow_invalid_hostnames = true;
  auto first = TlsContext::shared(a);
  auto again = TlsContext::shared(a);
  auto other = TlsContext::shared(b);
  EXPECT_EQ(first.get(), again.get());
  EXPECT_NE(first.get(), other.get());
  EXPECT_TRUE(other->options().allow_invalid_hostnames);
}

}  // namespace
}  // namespace mongoslice
