#include "auth/plain.hpp"

#include <openssl/crypto.h>

#include "wire/error.hpp"

namespace mongoslice::auth {

PlainClient::PlainClient(std::string_view username, std::string_view password) {
  payload_.reserve(username.size() + password.size() + 2);
  payload_.push_back(0);
  payload_.insert(payload_.end(), username.begin(), username.end());
  payload_.push_back(0);
  payload_.insert(payload_.end(), password.begin(), password.end());
}

PlainClient::~PlainClient() {
  OPENSSL_cleanse(payload_.data(), payload_.size());
}

std::vector<std::uint8_t> PlainClient::start() {
  started_ = true;
  return payload_;
}

std::vector<std::uint8_t> PlainClient::step(std::span<const std::uint8_t>) {
  throw Error(errc::authentication_failed,
              "PLAIN authentication failed: the server asked for a second message");
}

}  // namespace mongoslice::auth
