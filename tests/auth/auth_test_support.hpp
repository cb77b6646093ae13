#pragma once
// What the auth tests share: server replies built from payload text, and the payload of a
// command the conversation sent, as text.

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/crypto.hpp"
#include "auth/sasl.hpp"
#include "wire/bson.hpp"

namespace mongoslice::auth::test {

inline bson::Document sasl_reply(std::int32_t id, bool done, std::string_view payload) {
  bson::Builder b;
  b.append("conversationId", id).append("done", done);
  b.append_binary("payload", 0, crypto::as_bytes(payload));
  b.append("ok", 1.0);
  return b.build();
}

inline std::string payload_text(bson::View body) {
  auto binary = body["payload"].get_binary();
  EXPECT_EQ(binary.subtype, 0);
  return {reinterpret_cast<const char*>(binary.bytes.data()), binary.bytes.size()};
}

// A nonce generator that hands out `nonces` in turn (the last one again when they run out).
inline std::function<std::string()> fixed_nonces(std::vector<std::string> nonces) {
  auto next = std::make_shared<std::size_t>(0);
  return [nonces = std::move(nonces), next] {
    const auto i = std::min(*next, nonces.size() - 1);
    ++*next;
    return nonces[i];
  };
}

// The command `step` holds (a copy, so a temporary step will do); an empty one after a test
// failure when it is Done.
inline Command expect_command(const Step& step) {
  const auto* command = std::get_if<Command>(&step);
  if (command == nullptr) {
    ADD_FAILURE() << "expected a command, got Done";
    return Command{};
  }
  return *command;
}

}  // namespace mongoslice::auth::test
