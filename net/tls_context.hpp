#pragma once
// The client side of TLS, shared by both engines: the OpenSSL context a TlsOptions asks for, what
// one stream must check before its handshake (SNI, the name or address the server's certificate
// must carry), and what a failed TLS step means in words.
//
// The blocking engine uses it in DeadlineSocket::start_tls (net/deadline_socket.hpp); an
// asynchronous one does the same around its own stream:
//
//   auto tls = TlsContext::shared(options);        // once per connection; throws Error
//   boost::asio::ssl::stream<tcp::socket> stream(std::move(socket), tls->native());
//   prepare_client_stream(stream.native_handle(), *tls, server);
//   ... stream.async_handshake(boost::asio::ssl::stream_base::client, ...);
//   on error: throw Error(tls_failure_code(ec),
//                         describe_tls_failure(ec, stream.native_handle(), *tls, server,
//                                              "TLS handshake with"));
//
// Only TLS 1.2 and later are offered. Certificates are verified unless allow_invalid_certificates
// is set; the server's host name (or IP literal) is checked against the certificate's subject
// alternative names (or its common name, when it has none) unless allow_invalid_hostnames is set.

#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>

#include "net/tls_options.hpp"
#include "wire/address.hpp"

namespace mongoslice {

class TlsContext {
 public:
  // Loads the trust store (tlsCAFile, else the system's default paths) and the client
  // certificate and key (tlsCertificateKeyFile, decrypted with tlsCertificateKeyFilePassword;
  // never a terminal prompt). Throws Error(errc::invalid_argument) naming the option and file
  // that failed and why (unreadable, no certificate in it, key encrypted and no password, wrong
  // password, key not matching the certificate); the password itself is never in a message.
  explicit TlsContext(const TlsOptions& options);
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // The context built from options equal to `options`, while any holder keeps it; else a new one
  // (which later calls share). Files are read again once every holder has let go. Throws as the
  // constructor. In a fork() child whose parent held the cache's lock at fork time, builds a
  // context of its own rather than wait for a lock no thread will release.
  static std::shared_ptr<TlsContext> shared(const TlsOptions& options);

  // What Asio's ssl::stream is built on. Configured once by the constructor; OpenSSL allows
  // streams of any number of threads to be made from it concurrently after that.
  boost::asio::ssl::context& native() noexcept { return context_; }
  const TlsOptions& options() const noexcept { return options_; }

 private:
  TlsOptions options_;
  boost::asio::ssl::context context_;
};

// Before the handshake of the client stream `ssl` (made from `context`) to `server`: sends SNI
// for a host name (never for an IP literal, RFC 6066), and makes the handshake fail unless the
// certificate names `server`'s host (a DNS name, wildcards only as a whole left-most label) or
// IP address, unless the options allow invalid host names or certificates. Throws
// Error(errc::network_error) if OpenSSL refuses the name.
void prepare_client_stream(SSL* ssl, const TlsContext& context, const HostAndPort& server);

// True for the errors of a TLS stream itself (OpenSSL's, and Asio's stream_truncated), as
// opposed to those of the socket under it.
bool is_tls_error(const boost::system::error_code& ec) noexcept;

// The driver's code for a failed TLS step: connection_closed when the server closed the
// connection without a TLS alert, network_error otherwise.
std::error_code tls_failure_code(const boost::system::error_code& ec) noexcept;

// "<doing> <server>: <what failed>", e.g. "TLS handshake with localhost:27017: the server's
// certificate is not trusted: it was not issued by a certificate authority of tlsCAFile
// /etc/ca.pem (unable to get local issuer certificate)". Names what failed from OpenSSL's
// verify result of `ssl` (unknown CA, host name or IP mismatch, expired or not yet valid) or from
// the alert the server sent (client certificate required or refused, protocol version), else
// OpenSSL's own reason. `ssl` may be null (no verify result is then consulted).
std::string describe_tls_failure(const boost::system::error_code& ec, const SSL* ssl,
                                 const TlsContext& context, const HostAndPort& server,
                                 std::string_view doing);

}  // namespace mongoslice
