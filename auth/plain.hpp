#pragma once
// PLAIN (RFC 4616), which MongoDB uses for LDAP: one payload "\0<user>\0<password>" (no authzid),
// sent to the credential's source ("$external" unless the connection string says otherwise).
// The password goes to the server as it is, so PLAIN belongs on TLS connections only.

#include <string>
#include <string_view>

#include "auth/sasl.hpp"

namespace mongoslice::auth {

class PlainClient final : public SaslClient {
 public:
  PlainClient(std::string_view username, std::string_view password);
  ~PlainClient() override;

  Mechanism mechanism() const noexcept override { return Mechanism::kPlain; }
  std::vector<std::uint8_t> start() override;
  // PLAIN has one message; any server payload after it is refused.
  std::vector<std::uint8_t> step(std::span<const std::uint8_t> server_payload) override;
  bool complete() const noexcept override { return started_; }
  bool speculative() const noexcept override { return false; }

 private:
  std::vector<std::uint8_t> payload_;
  bool started_ = false;
};

}  // namespace mongoslice::auth
