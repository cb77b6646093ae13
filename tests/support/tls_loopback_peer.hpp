#pragma once
// A scripted TLS server for Connection tests: listens on 127.0.0.1 (a free port), accepts one
// connection on its own thread, runs the server side of the TLS handshake with OpenSSL over a
// plain blocking socket, then a script against the TLS stream (as LoopbackPeer does in
// plaintext: support/loopback_peer.hpp, whose reply builders apply unchanged).
//
//   TlsLoopbackPeer peer({.certificate = certs.file("server.crt"), .key = ...},
//                        tls_healthy_server());
//   Connection conn(peer.address("localhost"), options_with_tls);
//
// A raw script instead runs on the accepted TCP socket with no TLS at all (a peer that never
// answers the handshake, or closes during it). Test certificates: TestCertificates (below) runs
// tests/support/make_test_certs.sh into a directory of the test process's own. Every blocking
// call of the peer is bounded (10 s), so a broken client cannot hang the test run.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/loopback_peer.hpp"
#include "wire/address.hpp"

namespace mongoslice::testing {

// The certificates of make_test_certs.sh (see there for each file), made once per test process
// in a temporary directory removed at exit.
class TestCertificates {
 public:
  static const TestCertificates& get() {
    static const TestCertificates certificates;
    return certificates;
  }
  std::string file(const std::string& name) const { return dir_ + "/" + name; }
  std::string key_password() const { return "test-key-password"; }

 private:
  TestCertificates() {
    char pattern[] = "/tmp/mongoslice-certs-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("certs: mkdtemp failed");
    dir_ = pattern;
    const std::string command = std::string("bash ") + MONGOSLICE_SOURCE_DIR +
                                "/tests/support/make_test_certs.sh " + dir_ + " >/dev/null";
    if (std::system(command.c_str()) != 0) {
      throw std::runtime_error("certs: make_test_certs.sh failed (is the openssl command there?)");
    }
  }
  ~TestCertificates() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string dir_;
};

struct TlsPeerOptions {
  std::string certificate;  // PEM file of the server's certificate
  std::string key;          // its private key (PEM)
  // When set, the peer requires a client certificate issued by a CA of this file.
  std::optional<std::string> client_ca;
};

// The TLS stream of one accepted connection, as the script sees it.
class TlsPeerStream {
 public:
  explicit TlsPeerStream(SSL* ssl) : ssl_(ssl) {}

  std::vector<std::uint8_t> read_message() {
    std::vector<std::uint8_t> bytes(4);
    read_exact(bytes.data(), 4);
    std::int32_t length = 0;
    std::memcpy(&length, bytes.data(), 4);
    if (length < 4 || length > 64 * 1024 * 1024) throw std::runtime_error("peer: bad length");
    bytes.resize(static_cast<std::size_t>(length));
    read_exact(bytes.data() + 4, bytes.size() - 4);
    return bytes;
  }

  void write(std::span<const std::uint8_t> bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      int n = SSL_write(ssl_, bytes.data() + done, static_cast<int>(bytes.size() - done));
      if (n <= 0) throw PeerStop{};
      done += static_cast<std::size_t>(n);
    }
  }

  void wait_for_close() {
    std::uint8_t byte;
    while (SSL_read(ssl_, &byte, 1) > 0) {
    }
  }

 private:
  void read_exact(std::uint8_t* into, std::size_t size) {
    std::size_t done = 0;
    while (done < size) {
      int n = SSL_read(ssl_, into + done, static_cast<int>(size - done));
      if (n <= 0) throw PeerStop{};
      done += static_cast<std::size_t>(n);
    }
  }

  SSL* ssl_;
};

class TlsLoopbackPeer {
 public:
  using Script = std::function<void(TlsPeerStream&)>;
  using RawScript = std::function<void(int fd)>;

  // Serves `connections` connections one after the other, each with `script`.
  TlsLoopbackPeer(TlsPeerOptions options, Script script, int connections = 1)
      : options_(std::move(options)), connections_(connections) {
    start([this, script = std::move(script)](int fd) { serve_tls(fd, script); });
  }
  // No TLS: `raw` gets the accepted socket.
  explicit TlsLoopbackPeer(RawScript raw) { start(std::move(raw)); }

  ~TlsLoopbackPeer() { join(); }
  TlsLoopbackPeer(const TlsLoopbackPeer&) = delete;
  TlsLoopbackPeer& operator=(const TlsLoopbackPeer&) = delete;

  // The peer's port under `host` ("127.0.0.1" or "localhost": both reach it).
  HostAndPort address(std::string host = "127.0.0.1") const { return {std::move(host), port_}; }

  void join() {
    if (listener_ >= 0) ::shutdown(listener_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    if (listener_ >= 0) ::close(listener_);
    listener_ = -1;
  }
  // Read after join(): whether a client connected at all, how many TLS handshakes succeeded,
  // why the last server handshake failed (empty when none did), the name the client sent by SNI
  // (empty: none), and what the script threw.
  bool accepted() const noexcept { return accepted_; }
  int handshakes() const noexcept { return handshakes_; }
  const std::string& handshake_error() const noexcept { return handshake_error_; }
  const std::string& sni() const noexcept { return sni_; }
  const std::string& script_error() const noexcept { return script_error_; }

 private:
  void start(RawScript serve) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (listener_ < 0) throw std::runtime_error("tls peer: socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 1) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(listener_);
      throw std::runtime_error("tls peer: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, serve = std::move(serve)] {
      for (int i = 0; i < connections_; ++i) {
        int fd = ::accept(listener_, nullptr, nullptr);
        if (fd < 0) return;
        accepted_ = true;
        timeval bound{10, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof bound);
        try {
          serve(fd);
        } catch (const PeerStop&) {
        } catch (const std::exception& e) {
          script_error_ = e.what();
        }
        ::close(fd);
      }
    });
  }

  static std::string openssl_error() {
    char text[256] = "no OpenSSL error queued";
    if (unsigned long code = ERR_get_error()) ERR_error_string_n(code, text, sizeof text);
    ERR_clear_error();
    return text;
  }

  void serve_tls(int fd, const Script& script) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == nullptr) throw std::runtime_error("tls peer: SSL_CTX_new failed");
    SSL* ssl = nullptr;
    try {
      if (SSL_CTX_use_certificate_chain_file(ctx, options_.certificate.c_str()) != 1 ||
          SSL_CTX_use_PrivateKey_file(ctx, options_.key.c_str(), SSL_FILETYPE_PEM) != 1) {
        throw std::runtime_error("tls peer: cannot load its certificate: " + openssl_error());
      }
      if (options_.client_ca) {
        if (SSL_CTX_load_verify_locations(ctx, options_.client_ca->c_str(), nullptr) != 1) {
          throw std::runtime_error("tls peer: cannot load the client CA: " + openssl_error());
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      }
      ssl = SSL_new(ctx);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) != 1) {
        handshake_error_ = openssl_error();
      } else {
        ++handshakes_;
        if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) sni_ = name;
        TlsPeerStream stream(ssl);
        script(stream);
      }
    } catch (...) {
      SSL_free(ssl);
      SSL_CTX_free(ctx);
      throw;
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
  }

  TlsPeerOptions options_;
  int connections_ = 1;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  bool accepted_ = false;
  int handshakes_ = 0;
  std::string handshake_error_;
  std::string sni_;
  std::string script_error_;
};

// A healthy server over TLS: answers the handshake, then `replies` commands with {ok: 1}, then
// waits for the client to hang up.
inline TlsLoopbackPeer::Script tls_healthy_server(int replies = 1) {
  return [replies](TlsPeerStream& s) {
    auto hello = s.read_message();
    s.write(reply_to(hello, standard_hello_reply()));
    for (int i = 0; i < replies; ++i) {
      auto command = s.read_message();
      s.write(reply_to(command, bson::Builder{}.append("ok", 1.0).build()));
    }
    s.wait_for_close();
  };
}

}  // namespace mongoslice::testing
