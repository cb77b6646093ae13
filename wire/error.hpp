#pragma once
// Errors of the driver.
//
// Client-side failures are std::error_code values of mongoslice::errc in their own category
// ("mongoslice"); they travel as error codes through the sans-I/O layers and are thrown as
// mongoslice::Error (a std::system_error carrying a message with the details: address, byte
// offset, key...). Failures the server reports ({ok: 0}) are mongoslice::ServerError, whose
// error_code is the server's numeric code in the "mongodb-server" category.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "wire/bson.hpp"

namespace mongoslice {

enum class errc {
  // Wire protocol: what a peer sent cannot be trusted. The connection that saw it is closed.
  message_too_short = 1,       // messageLength below the 16-byte header (or the minimum OP_MSG)
  message_too_large,           // messageLength above maxMessageSizeBytes
  unexpected_opcode,           // not OP_MSG (2013), or not OP_REPLY (1) for the handshake
  response_to_mismatch,        // responseTo is not the id of the request
  unknown_required_flags,      // one of the low 16 flag bits that we do not know is set
  unknown_section_kind,        // a section kind other than 0 (body) and 1 (document sequence)
  missing_body_section,        // no kind-0 section
  duplicate_body_section,      // more than one kind-0 section
  section_overrun,             // a section runs past the end of the message
  invalid_bson,                // a document that libbson does not accept
  checksum_mismatch,           // checksumPresent with a CRC-32C that does not match
  unexpected_more_to_come,     // moreToCome on a reply to a request without exhaustAllowed
  op_reply_error_flags,        // OP_REPLY (handshake) with QueryFailure or CursorNotFound set
  op_reply_malformed,          // OP_REPLY that is not one command reply (cursor, counts, extent)
  unknown_compressor,          // OP_COMPRESSED with a compressorId other than noop/snappy/zlib/zstd
  nested_compression,          // OP_COMPRESSED whose originalOpcode is OP_COMPRESSED again
  uncompressed_size_mismatch,  // uncompressedSize other than the data holds (or negative)
  decompression_failed,        // OP_COMPRESSED whose compressed bytes are corrupt or truncated
  // Connection.
  network_error = 100,  // connect, read or write failed (the message names the address)
  timeout,              // a deadline passed (connectTimeoutMS, socketTimeoutMS, ...)
  connection_closed,    // the peer closed the connection
  interrupted,          // another thread interrupted the operation (close, shutdown)
  incompatible_server,  // wire version outside what the driver supports
  // Client.
  invalid_uri = 200,         // a connection string that does not parse (the part is named)
  invalid_argument,          // an option or argument out of range
  server_selection_timeout,  // no suitable server within serverSelectionTimeoutMS
  client_closed,             // the client was closed
  bson_type_mismatch,        // a field has another type than the one asked for
  bson_key_missing,          // a required field is absent
  cursor_error,              // a reply that is not a valid cursor reply
  pool_timeout,              // no free connection in the pool in time
  pool_cleared,              // the server's pool is paused (cleared after an error): retryable
  // Authentication (client side; the server's own refusal is a ServerError, e.g. code 18).
  authentication_failed = 300,  // the SASL conversation failed: the server's message is malformed
                                // or refused (nonce, iteration count), its signature does not
                                // verify, or it sent e=
  invalid_credential,           // a credential that cannot be used (SASLprep refuses it, no
                                // password, a mechanism not built)
};

const std::error_category& client_category() noexcept;
const std::error_category& server_category() noexcept;
std::error_code make_error_code(errc e) noexcept;

// Any error the driver throws. what() holds the details; code() says which error it is.
class Error : public std::system_error {
 public:
  explicit Error(std::error_code code) : std::system_error(code) {}
  Error(std::error_code code, const std::string& detail) : std::system_error(code, detail) {}
  Error(errc e, const std::string& detail) : std::system_error(make_error_code(e), detail) {}

  // Set (on the exception in flight, before it is rethrown) by a connection whose
  // authentication conversation failed, whatever the failure (the server's refusal, a reset, a
  // timeout, a server signature that does not verify): SDAM treats all of those alike (a pool
  // that cannot authenticate is cleared, its server marked Unknown).
  void mark_during_authentication() noexcept { during_authentication_ = true; }
  bool during_authentication() const noexcept { return during_authentication_; }

 private:
  bool during_authentication_ = false;
};

// {ok: 0} from the server: its code, codeName, errmsg and errorLabels, and the whole reply.
class ServerError : public Error {
 public:
  ServerError(std::int32_t code, std::string code_name, std::string errmsg,
              std::vector<std::string> labels, bson::Document reply);

  // The error a reply stands for, or nothing when the reply says ok: 1. Throws Error
  // (errc::bson_type_mismatch) for a numeric code that no int32 holds: a malformed reply.
  static std::optional<ServerError> from_reply(bson::View reply);

  std::int32_t server_code() const noexcept { return code().value(); }
  const std::string& code_name() const noexcept { return code_name_; }
  const std::string& errmsg() const noexcept { return errmsg_; }
  const std::vector<std::string>& error_labels() const noexcept { return labels_; }
  bool has_error_label(std::string_view label) const noexcept;
  const bson::Document& reply() const noexcept { return reply_; }

 private:
  std::string code_name_;
  std::string errmsg_;
  std::vector<std::string> labels_;
  bson::Document reply_;
};

// Server error codes the driver itself looks at.
namespace server_code {
inline constexpr std::int32_t kCursorNotFound = 43;
inline constexpr std::int32_t kNamespaceNotFound = 26;
}  // namespace server_code

// `text` for an error message that quotes it with `quote`: printable ASCII as is, `quote` and
// backslash escaped with a backslash, any other byte (a NUL, UTF-8) as \xHH, so that all of it
// shows and nothing in it ends the quotation.
std::string escaped_for_message(std::string_view text, char quote);

}  // namespace mongoslice

template <>
struct std::is_error_code_enum<mongoslice::errc> : std::true_type {};
