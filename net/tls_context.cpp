#include "net/tls_context.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <utility>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>

#include "net/fork_safe_lock.hpp"
#include "wire/error.hpp"
#include "wire/fork_generation.hpp"

namespace mongoslice {

namespace asio = boost::asio;

namespace {

// OpenSSL's reason for the oldest error queued on this thread, and the queue emptied.
std::string openssl_reason() {
  const unsigned long code = ERR_peek_error();
  std::string reason = "unknown OpenSSL error";
  if (code != 0) {
    const char* text = ERR_reason_error_string(code);
    reason = text ? text : ERR_error_string(code, nullptr);
  }
  ERR_clear_error();
  return reason;
}

[[noreturn]] void refuse(const std::string& what) {
  ERR_clear_error();
  throw Error(errc::invalid_argument, "TLS: " + what);
}

// A file the options name, read whole; refuses with the OS's reason when it cannot be read.
std::string read_file(const std::string& option, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) refuse(option + " " + path + " cannot be read: " + std::strerror(errno));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The key's password for PEM_read_bio_PrivateKey, from `user` (the password string, or null
// when none was given). Returning 0 with no password makes the read fail instead of prompting
// on the terminal, which is OpenSSL's default for an encrypted key.
int key_password(char* buffer, int size, int /*rwflag*/, void* user) {
  if (user == nullptr || size <= 0) return 0;
  const auto* password = static_cast<const std::string*>(user);
  const int length = static_cast<int>(std::min<std::size_t>(password->size(), size));
  std::memcpy(buffer, password->data(), static_cast<std::size_t>(length));
  return length;
}

struct BioDeleter {
  void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};

void load_ca_file(SSL_CTX* ctx, const std::string& path) {
  (void)read_file("tlsCAFile", path);  // its own message for a missing or unreadable file
  ERR_clear_error();
  if (SSL_CTX_load_verify_locations(ctx, path.c_str(), nullptr) != 1) {
    refuse("tlsCAFile " + path + " holds no usable certificate: " + openssl_reason());
  }
}

void load_certificate_and_key(SSL_CTX* ctx, const TlsOptions& options) {
  const std::string& path = *options.certificate_key_file;
  const std::string pem = read_file("tlsCertificateKeyFile", path);
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx, path.c_str()) != 1) {
    refuse("tlsCertificateKeyFile " + path + " holds no usable certificate: " + openssl_reason());
  }
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) refuse("tlsCertificateKeyFile " + path + ": " + openssl_reason());
  // The key may come after the certificates: the PEM reader skips blocks of other types.
  std::string password = options.certificate_key_password.value_or("");
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(PEM_read_bio_PrivateKey(
      bio.get(), nullptr, &key_password, options.certificate_key_password ? &password : nullptr));
  std::fill(password.begin(), password.end(), '\0');
  if (!key) {
    const std::string reason = openssl_reason();
    const bool encrypted = pem.find("ENCRYPTED") != std::string::npos;
    if (encrypted && !options.certificate_key_password) {
      refuse("tlsCertificateKeyFile " + path +
             ": its private key is encrypted and no tlsCertificateKeyFilePassword was given");
    }
    if (encrypted) {
      refuse("tlsCertificateKeyFile " + path +
             ": its private key cannot be decrypted with the tlsCertificateKeyFilePassword given "
             "(wrong password?): " +
             reason);
    }
    refuse("tlsCertificateKeyFile " + path + " holds no private key OpenSSL can read (" + reason +
           ")");
  }
  if (SSL_CTX_use_PrivateKey(ctx, key.get()) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    refuse("tlsCertificateKeyFile " + path +
           ": the private key does not belong to the certificate: " + openssl_reason());
  }
}

bool same_options(const TlsOptions& a, const TlsOptions& b) {
  return a.ca_file == b.ca_file && a.certificate_key_file == b.certificate_key_file &&
         a.certificate_key_password == b.certificate_key_password &&
         a.allow_invalid_certificates == b.allow_invalid_certificates &&
         a.allow_invalid_hostnames == b.allow_invalid_hostnames;
}

}  // namespace

TlsContext::TlsContext(const TlsOptions& options)
    : options_(options), context_(asio::ssl::context::tls_client) {
  SSL_CTX* ctx = context_.native_handle();
  ERR_clear_error();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    refuse("cannot require TLS 1.2 or later: " + openssl_reason());
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_default_passwd_cb(ctx, &key_password);  // no user data: never prompts
  if (options.ca_file) {
    load_ca_file(ctx, *options.ca_file);
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    refuse("cannot use the system's trust store: " + openssl_reason());
  }
  if (options.certificate_key_file) load_certificate_and_key(ctx, options);
  SSL_CTX_set_verify(ctx, options.allow_invalid_certificates ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
                     nullptr);
}

std::shared_ptr<TlsContext> TlsContext::shared(const TlsOptions& options) {
  struct Cache {
    std::mutex mutex;
    std::vector<std::pair<TlsOptions, std::weak_ptr<TlsContext>>> entries;
    const std::uint64_t made_in = current_fork_generation();
  };
  // Never destroyed: a monitor thread may still connect while static destructors run.
  static Cache* const cache = new Cache;

  std::unique_lock lock(cache->mutex, std::defer_lock);
  if (!lock_unless_inherited(lock, cache->made_in)) return std::make_shared<TlsContext>(options);
  std::erase_if(cache->entries, [](const auto& entry) { return entry.second.expired(); });
  for (const auto& [entry_options, weak] : cache->entries) {
    if (!same_options(entry_options, options)) continue;
    if (auto live = weak.lock()) return live;
  }
  // Built under the lock: two connections that start at once then read the files once.
  auto context = std::make_shared<TlsContext>(options);
  cache->entries.emplace_back(options, context);
  return context;
}

void prepare_client_stream(SSL* ssl, const TlsContext& context, const HostAndPort& server) {
  boost::system::error_code not_ip;
  (void)asio::ip::make_address(server.host, not_ip);
  const bool ip_literal = !not_ip;
  const TlsOptions& options = context.options();
  ERR_clear_error();
  // SNI names hosts only (RFC 6066 section 3): an IP literal is never sent.
  if (!ip_literal && SSL_set_tlsext_host_name(ssl, server.host.c_str()) != 1) {
    throw Error(errc::network_error,
                "TLS with " + server.to_string() +
                    ": OpenSSL refuses the host name for SNI: " + openssl_reason());
  }
  if (options.allow_invalid_certificates || options.allow_invalid_hostnames) return;
  int ok = 0;
  if (ip_literal) {
    ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server.host.c_str());
  } else {
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    ok = SSL_set1_host(ssl, server.host.c_str());
  }
  if (ok != 1) {
    throw Error(errc::network_error, "TLS with " + server.to_string() +
                                         ": OpenSSL cannot check the certificate against " +
                                         server.host + ": " + openssl_reason());
  }
}

bool is_tls_error(const boost::system::error_code& ec) noexcept {
  return ec.category() == asio::error::get_ssl_category() ||
         ec.category() == asio::ssl::error::get_stream_category();
}

std::error_code tls_failure_code(const boost::system::error_code& ec) noexcept {
  if (ec == asio::ssl::error::stream_truncated) return make_error_code(errc::connection_closed);
  return make_error_code(errc::network_error);
}

namespace {

std::string printed(const std::function<void(BIO*)>& print) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
  if (!bio) return "";
  print(bio.get());
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : "";
}

// The certificate the server presented, when OpenSSL kept it after a failed verification (the
// client keeps the chain as received).
X509* presented_certificate(const SSL* ssl) {
  if (ssl == nullptr) return nullptr;
  if (X509* leaf = SSL_get0_peer_certificate(ssl)) return leaf;
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
  return chain && sk_X509_num(chain) > 0 ? sk_X509_value(chain, 0) : nullptr;
}

std::string subject_of(X509* certificate) {
  return printed([&](BIO* bio) {
    X509_NAME_print_ex(bio, X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253);
  });
}

std::string time_of(const ASN1_TIME* time) {
  return printed([&](BIO* bio) { ASN1_TIME_print(bio, time); });
}

// "DNS:localhost, IP:127.0.0.1": the names the certificate is valid for.
std::string names_of(X509* certificate) {
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return "no subject alternative names; subject " + subject_of(certificate);
  std::string out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    std::string one;
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = name->d.dNSName;
      one = "DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                 static_cast<std::size_t>(ASN1_STRING_length(dns)));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      const auto* bytes = ASN1_STRING_get0_data(ip);
      boost::system::error_code ignored;
      if (ASN1_STRING_length(ip) == 4) {
        asio::ip::address_v4::bytes_type v4;
        std::copy_n(bytes, 4, v4.begin());
        one = "IP:" + asio::ip::address_v4(v4).to_string();
      } else if (ASN1_STRING_length(ip) == 16) {
        asio::ip::address_v6::bytes_type v6;
        std::copy_n(bytes, 16, v6.begin());
        one = "IP:" + asio::ip::address_v6(v6).to_string();
      }
    }
    if (one.empty()) continue;
    if (!out.empty()) out += ", ";
    out += one;
  }
  GENERAL_NAMES_free(names);
  return out.empty() ? "no DNS or IP names" : out;
}

// Why the server's certificate did not verify, from OpenSSL's verify result.
std::string verify_failure(const SSL* ssl, const TlsContext& context, const HostAndPort& server) {
  const long result = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
  const std::string reason = X509_verify_cert_error_string(result);
  X509* certificate = presented_certificate(ssl);
  const std::string which = certificate
                                ? "the server's certificate (" + subject_of(certificate) + ")"
                                : std::string("the server's certificate");
  const TlsOptions& options = context.options();
  switch (result) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
      return which + " is not trusted: no certificate authority of " +
             (options.ca_file ? "tlsCAFile " + *options.ca_file
                              : std::string("the system's trust store")) +
             " issued it (" + reason + ")";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return which + " does not name " +
             (result == X509_V_ERR_IP_ADDRESS_MISMATCH ? "the IP address " : "the host ") +
             server.host + " (it names " +
             (certificate ? names_of(certificate) : std::string("other hosts")) +
             "); tlsAllowInvalidHostnames=true skips this check";
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return which + " has expired" +
             (certificate ? " (valid until " + time_of(X509_get0_notAfter(certificate)) + ")"
                          : std::string());
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return which + " is not valid yet" +
             (certificate ? " (valid from " + time_of(X509_get0_notBefore(certificate)) + ")"
                          : std::string());
    default:
      return which + " did not verify: " + reason;
  }
}

}  // namespace

std::string describe_tls_failure(const boost::system::error_code& ec, const SSL* ssl,
                                 const TlsContext& context, const HostAndPort& server,
                                 std::string_view doing) {
  const std::string where = std::string(doing) + " " + server.to_string() + ": ";
  if (ec == asio::ssl::error::stream_truncated) {
    return where + "the server closed the connection without ending TLS";
  }
  if (ec.category() != asio::error::get_ssl_category()) return where + ec.message();
  const TlsOptions& options = context.options();
  const std::string client_certificate =
      options.certificate_key_file
          ? "the client certificate of tlsCertificateKeyFile " + *options.certificate_key_file
          : std::string("no client certificate (tlsCertificateKeyFile)");
  const auto code = static_cast<unsigned long>(ec.value());
  const char* text = ERR_reason_error_string(code);
  const std::string reason = text ? text : ec.message();
  switch (ERR_GET_REASON(code)) {
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
      return where + verify_failure(ssl, context, server);
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
      return where + "the server requires a client certificate, and " +
             (options.certificate_key_file ? "refused " + client_certificate
                                           : "none was given (tlsCertificateKeyFile)") +
             " (" + reason + ")";
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
      return where + "the server refused " + client_certificate + " (" + reason + ")";
    case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
      return where + "the server refused the handshake, having been sent " + client_certificate +
             " (" + reason + ")";
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_HTTP_REQUEST:
      return where + "the server does not speak TLS on this port (" + reason + ")";
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
      return where + "the server and the driver share no TLS version (the driver offers 1.2 and " +
             "1.3) (" + reason + ")";
    default:
      return where + reason;
  }
}

}  // namespace mongoslice
