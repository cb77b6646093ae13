#include "driver/application_error_of.hpp"

#include "wire/error.hpp"

namespace mongoslice {
namespace {

ApplicationErrorKind kind_of(const Error& error) {
  const std::error_code code = error.code();
  if (code.category() != client_category()) return ApplicationErrorKind::kIgnored;
  const int value = code.value();
  // An OP_REPLY with QueryFailure is the server's answer to the handshake, refused.
  if (value == static_cast<int>(errc::op_reply_error_flags)) return ApplicationErrorKind::kCommand;
  // Whatever the peer sent that cannot be trusted breaks the connection like a reset does.
  if (value >= static_cast<int>(errc::message_too_short) &&
      value <= static_cast<int>(errc::decompression_failed)) {
    return ApplicationErrorKind::kNetwork;
  }
  switch (static_cast<errc>(value)) {
    case errc::network_error:
    case errc::connection_closed:
      return ApplicationErrorKind::kNetwork;
    case errc::timeout:
      return ApplicationErrorKind::kTimeout;
    case errc::authentication_failed:
      // The conversation failed on our side of it (a server signature that does not verify, a
      // nonce that is not ours, a malformed payload): as the server's own refusal would.
      return ApplicationErrorKind::kCommand;
    default:
      // Ours, not the server's: interrupted, client closed, a pool wait, an argument, a wire
      // version we do not speak (the monitor reports that one), a malformed field.
      return ApplicationErrorKind::kIgnored;
  }
}

}  // namespace

ApplicationError application_error_of(const HostAndPort& address, std::uint64_t pool_generation,
                                      std::int32_t max_wire_version, ConnectionPhase phase,
                                      const std::exception& error) {
  ApplicationError out;
  out.address = address;
  out.pool_generation = pool_generation;
  out.max_wire_version = max_wire_version;
  out.phase = phase;
  out.message = error.what();
  if (const auto* server_error = dynamic_cast<const ServerError*>(&error)) {
    out.kind = ApplicationErrorKind::kCommand;
    out.reply = server_error->reply();
  } else if (const auto* client_error = dynamic_cast<const Error*>(&error)) {
    out.kind = kind_of(*client_error);
  }
  return out;
}

ApplicationError establishment_error(const HostAndPort& address, std::uint64_t pool_generation,
                                     const std::exception& error) {
  const auto* client_error = dynamic_cast<const Error*>(&error);
  const ConnectionPhase phase = client_error && client_error->during_authentication()
                                    ? ConnectionPhase::kAuthenticating
                                    : ConnectionPhase::kEstablishing;
  return application_error_of(address, pool_generation, 0, phase, error);
}

}  // namespace mongoslice
