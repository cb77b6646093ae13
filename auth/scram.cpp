#include "auth/scram.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <utility>

#include "auth/crypto.hpp"
#include "auth/mechanism.hpp"
#include "auth/saslprep.hpp"
#include "wire/error.hpp"

namespace mongoslice::auth {
namespace {

constexpr std::uint32_t kMinIterations = 4096;  // the auth spec's minimum
constexpr std::size_t kNonceBytes = 24;

crypto::Hash hash_of(Mechanism mechanism) {
  return mechanism == Mechanism::kScramSha1 ? crypto::Hash::kSha1 : crypto::Hash::kSha256;
}

void wipe(std::string& s) noexcept {
  OPENSSL_cleanse(s.data(), s.size());
}
void wipe(std::vector<std::uint8_t>& b) noexcept {
  OPENSSL_cleanse(b.data(), b.size());
}

std::string_view as_text(std::span<const std::uint8_t> bytes) noexcept {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::vector<std::uint8_t> to_bytes(std::string_view text) {
  return {text.begin(), text.end()};
}

// A SCRAM message's attributes: "a=value" pairs separated by ','; a value may hold '='.
struct Attribute {
  char name;
  std::string_view value;
};

std::optional<std::vector<Attribute>> parse_attributes(std::string_view message) {
  std::vector<Attribute> out;
  while (true) {
    const auto comma = message.find(',');
    const auto part = message.substr(0, comma);
    if (part.size() < 2 || part[1] != '=') return std::nullopt;
    out.push_back({part[0], part.substr(2)});
    if (comma == std::string_view::npos) break;
    message.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

// --- KeyCache -------------------------------------------------------------------------------

KeyCache::KeyCache() = default;
KeyCache::~KeyCache() = default;

std::optional<ScramKeys> KeyCache::find(const Key& key) const {
  std::lock_guard lock(mutex_);
  for (const auto& entry : entries_) {
    if (entry.key == key) return entry.keys;
  }
  return std::nullopt;
}

void KeyCache::insert(Key key, ScramKeys keys) {
  std::lock_guard lock(mutex_);
  std::erase_if(entries_, [&](const Entry& entry) { return entry.key == key; });
  if (entries_.size() >= kMaxEntries) entries_.erase(entries_.begin());
  entries_.push_back(Entry{std::move(key), std::move(keys)});
}

std::size_t KeyCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

// --- ScramClient ----------------------------------------------------------------------------

std::string scram_escape_username(std::string_view username) {
  std::string out;
  out.reserve(username.size());
  for (char c : username) {
    if (c == ',') {
      out += "=2C";
    } else if (c == '=') {
      out += "=3D";
    } else {
      out += c;
    }
  }
  return out;
}

std::string random_scram_nonce() {
  return crypto::base64_encode(crypto::random_bytes(kNonceBytes));
}

ScramClient::ScramClient(Mechanism mechanism, std::string username, std::string_view password,
                         ScramOptions options)
    : mechanism_(mechanism), username_(std::move(username)), options_(std::move(options)) {
  if (mechanism == Mechanism::kScramSha1) {
    std::string joined = username_ + ":mongo:" + std::string(password);
    password_ = crypto::md5_hex(joined);
    wipe(joined);
  } else if (mechanism == Mechanism::kScramSha256) {
    password_ = saslprep(password, "password");
  } else {
    throw std::invalid_argument("ScramClient: not a SCRAM mechanism");
  }
}

ScramClient::~ScramClient() {
  wipe(password_);
  wipe(server_signature_);
}

void ScramClient::fail(const std::string& why) const {
  throw Error(errc::authentication_failed,
              std::string(mechanism_name(mechanism_)) + " authentication of user \"" +
                  escaped_for_message(username_, '"') + "\" failed: " + why);
}

std::string ScramClient::client_first() {
  nonce_ = options_.nonce ? options_.nonce() : random_scram_nonce();
  if (nonce_.empty()) throw Error(errc::invalid_argument, "SCRAM: the nonce generator gave \"\"");
  for (char c : nonce_) {
    if (c == ',' || c < 0x21 || c > 0x7e) {
      throw Error(errc::invalid_argument, "SCRAM: a nonce must be printable ASCII without ','");
    }
  }
  server_signature_.clear();
  client_first_bare_ = "n=" + scram_escape_username(username_) + ",r=" + nonce_;
  state_ = State::kFirstSent;
  // gs2 header "n,,": no channel binding (the spec forbids advertising it), no authzid.
  return "n,," + client_first_bare_;
}

ScramKeys ScramClient::keys_for(const std::vector<std::uint8_t>& salt, std::uint32_t iterations) {
  KeyCache::Key key{mechanism_, password_, salt, iterations};
  if (options_.key_cache) {
    if (auto cached = options_.key_cache->find(key)) {
      wipe(key.password);
      return std::move(*cached);
    }
  }
  const auto hash = hash_of(mechanism_);
  auto salted = crypto::pbkdf2(hash, password_, salt, iterations);
  ScramKeys keys{crypto::hmac(hash, salted, crypto::as_bytes("Client Key")),
                 crypto::hmac(hash, salted, crypto::as_bytes("Server Key"))};
  wipe(salted);
  if (options_.key_cache) {
    options_.key_cache->insert(std::move(key), keys);
  } else {
    wipe(key.password);
  }
  return keys;
}

std::string ScramClient::client_final(std::string_view server_first) {
  if (state_ != State::kFirstSent) fail("a server-first-message out of turn");
  const auto attributes = parse_attributes(server_first);
  if (!attributes) fail("the server-first-message is malformed");
  std::optional<std::string_view> nonce, salt_text, iterations_text;
  for (const auto& [name, value] : *attributes) {
    if (name == 'm') fail("the server asks for an extension this client does not know (m=)");
    if (name == 'r' && !nonce) nonce = value;
    if (name == 's' && !salt_text) salt_text = value;
    if (name == 'i' && !iterations_text) iterations_text = value;
  }
  if (!nonce || !salt_text || !iterations_text) {
    fail("the server-first-message lacks r=, s= or i=");
  }
  if (nonce->size() <= nonce_.size() || nonce->substr(0, nonce_.size()) != nonce_) {
    fail("the server's nonce does not extend the client's");
  }
  const auto salt = crypto::base64_decode(*salt_text);
  if (!salt || salt->empty()) fail("the server's salt is not base64");
  std::uint32_t iterations = 0;
  const auto* first = iterations_text->data();
  const auto* last = first + iterations_text->size();
  const auto [end, ec] = std::from_chars(first, last, iterations);
  if (iterations_text->empty() || ec != std::errc() || end != last) {
    fail("the server's iteration count is not a number");
  }
  if (iterations < kMinIterations) {
    fail("the server's iteration count " + std::to_string(iterations) + " is below the minimum " +
         std::to_string(kMinIterations));
  }

  const auto hash = hash_of(mechanism_);
  auto keys = keys_for(*salt, iterations);
  // c=biws: base64 of the gs2 header "n,,".
  const std::string without_proof = "c=biws,r=" + std::string(*nonce);
  const std::string auth_message =
      client_first_bare_ + "," + std::string(server_first) + "," + without_proof;
  const auto stored_key = crypto::digest(hash, keys.client_key);
  auto proof = crypto::hmac(hash, stored_key, crypto::as_bytes(auth_message));
  for (std::size_t i = 0; i < proof.size(); ++i) proof[i] ^= keys.client_key[i];
  server_signature_ = crypto::hmac(hash, keys.server_key, crypto::as_bytes(auth_message));
  wipe(keys.client_key);
  wipe(keys.server_key);
  state_ = State::kFinalSent;
  return without_proof + ",p=" + crypto::base64_encode(proof);
}

void ScramClient::verify_server_final(std::string_view server_final) {
  if (state_ != State::kFinalSent) fail("a server-final-message out of turn");
  const auto attributes = parse_attributes(server_final);
  if (!attributes || attributes->empty()) fail("the server-final-message is malformed");
  const auto& [name, value] = attributes->front();
  if (name == 'e') fail("the server refused: " + escaped_for_message(value, '"'));
  if (name != 'v') fail("the server-final-message has no verifier (v=)");
  const auto signature = crypto::base64_decode(value);
  if (!signature || !crypto::equal_constant_time(*signature, server_signature_)) {
    fail("the server's signature does not verify (the server does not know the password)");
  }
  state_ = State::kVerified;
}

std::vector<std::uint8_t> ScramClient::start() {
  return to_bytes(client_first());
}

std::vector<std::uint8_t> ScramClient::step(std::span<const std::uint8_t> server_payload) {
  switch (state_) {
    case State::kFirstSent:
      return to_bytes(client_final(as_text(server_payload)));
    case State::kFinalSent:
      verify_server_final(as_text(server_payload));
      return {};
    case State::kInitial:
    case State::kVerified:
      break;
  }
  fail("a server message out of turn");
}

}  // namespace mongoslice::auth
