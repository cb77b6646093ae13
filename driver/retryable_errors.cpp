#include "driver/retryable_errors.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include "wire/error.hpp"

namespace mongoslice {
namespace {

constexpr std::array<std::int32_t, 13> kRetryableReadCodes{
    6, 7, 89, 91, 134, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436};
constexpr std::int32_t kReadConcernMajorityNotAvailableYet = 134;
constexpr std::int32_t kLabelsFromWireVersion = 9;  // MongoDB 4.4 labels its retryable errors

bool is_retryable_code(std::int32_t code) noexcept {
  return std::find(kRetryableReadCodes.begin(), kRetryableReadCodes.end(), code) !=
         kRetryableReadCodes.end();
}

bool has_label(bson::View reply, std::string_view label) noexcept {
  try {
    auto labels = reply.find("errorLabels");
    if (!labels || labels->type() != bson::Type::kArray) return false;
    for (const bson::Element& e : labels->get_array()) {
      if (e.type() == bson::Type::kString && e.get_string() == label) return true;
    }
  } catch (...) {  // a malformed reply allows nothing
  }
  return false;
}

}  // namespace

bool is_network_class_error(const std::exception& e) noexcept {
  const auto* error = dynamic_cast<const Error*>(&e);
  if (!error || dynamic_cast<const ServerError*>(&e)) return false;
  const std::error_code code = error->code();
  return code == errc::network_error || code == errc::connection_closed || code == errc::timeout ||
         code == errc::pool_cleared;
}

bool is_retryable_read_error(const std::exception& e) noexcept {
  if (is_network_class_error(e)) return true;
  const auto* server = dynamic_cast<const ServerError*>(&e);
  return server && is_retryable_code(server->server_code());
}

bool is_retryable_write_error(const std::exception& e, std::int32_t wire_version) noexcept {
  if (is_network_class_error(e)) return true;
  const auto* server = dynamic_cast<const ServerError*>(&e);
  if (!server) return false;
  if (wire_version >= kLabelsFromWireVersion) return server->has_error_label("RetryableWriteError");
  return server->server_code() != kReadConcernMajorityNotAvailableYet &&
         is_retryable_code(server->server_code());
}

bool is_retryable_write_concern_reply(bson::View reply, std::int32_t wire_version) noexcept {
  try {
    auto concern = reply.find("writeConcernError");
    if (!concern || concern->type() != bson::Type::kDocument) return false;
    if (wire_version >= kLabelsFromWireVersion) return has_label(reply, "RetryableWriteError");
    auto code = concern->get_document().find("code");
    if (!code || !code->is_number()) return false;
    const auto value = static_cast<std::int32_t>(code->as_int64());
    return value != kReadConcernMajorityNotAvailableYet && is_retryable_code(value);
  } catch (...) {
    return false;
  }
}

bool says_no_writes_performed(const std::exception& e) noexcept {
  const auto* server = dynamic_cast<const ServerError*>(&e);
  return server && server->has_error_label("NoWritesPerformed");
}

}  // namespace mongoslice
