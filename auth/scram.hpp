#pragma once
// SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677) as the MongoDB auth spec runs them, and
// the cache of derived keys.
//
// The client's side, message by message:
//   client-first  n,,n=<user, ',' as =2C and '=' as =3D>,r=<client nonce>
//   server-first  r=<client nonce + server nonce>,s=<base64 salt>,i=<iterations >= 4096>
//   client-final  c=biws,r=<that nonce>,p=<base64 ClientProof>
//   server-final  v=<base64 ServerSignature> (checked, in constant time), or e=<error>
// The password: SCRAM-SHA-1 uses MongoDB's digest hex(MD5(user ":mongo:" password)), not
// SASLprep'd; SCRAM-SHA-256 uses SASLprep(password). User names are never SASLprep'd (the spec
// says so: the server looks them up as given).

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/credential.hpp"
#include "auth/sasl.hpp"

namespace mongoslice::auth {

// What PBKDF2 gives, reduced to what a conversation needs: ClientKey and ServerKey.
struct ScramKeys {
  std::vector<std::uint8_t> client_key;
  std::vector<std::uint8_t> server_key;
};

// The auth spec's cache of derived SCRAM keys, keyed by mechanism, prepared password, salt and
// iteration count, so that a new connection to a server that answers with the same salt and
// count does not run PBKDF2 again. One cache per client, shared by all its connections (hold it
// in a shared_ptr and give it to each conversation through ScramOptions).
//
// Thread-safety: any number of connections may look up and insert at once; a mutex guards the
// entries (held for a lookup or an insert, never while PBKDF2 runs). It is taken once per new
// connection.
class KeyCache {
 public:
  // A server has one salt per user and mechanism; a bound keeps a server that changes salts on
  // every connection from growing the cache without end (the oldest entry goes).
  static constexpr std::size_t kMaxEntries = 64;

  struct Key {
    Mechanism mechanism = Mechanism::kScramSha256;
    std::string password;  // prepared: SASLprep'd (SHA-256) or MongoDB's digest (SHA-1)
    std::vector<std::uint8_t> salt;
    std::uint32_t iterations = 0;
    friend bool operator==(const Key&, const Key&) = default;
  };

  KeyCache();
  ~KeyCache();
  KeyCache(const KeyCache&) = delete;
  KeyCache& operator=(const KeyCache&) = delete;

  std::optional<ScramKeys> find(const Key& key) const;
  void insert(Key key, ScramKeys keys);
  std::size_t size() const;

 private:
  struct Entry {
    Key key;
    ScramKeys keys;
  };
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;  // oldest first
};

struct ScramOptions {
  // The client nonce; empty: 24 bytes from OpenSSL's RAND_bytes in base64. Tests give fixed
  // ones. A nonce must be printable ASCII without ','.
  std::function<std::string()> nonce;
  // Shared by the client's connections; null: every conversation runs PBKDF2.
  std::shared_ptr<KeyCache> key_cache;
};

// The SCRAM state machine over payloads (the SASL commands around it are Conversation's).
class ScramClient final : public SaslClient {
 public:
  // `mechanism` is kScramSha1 or kScramSha256. Throws Error(errc::invalid_credential) for a
  // password SASLprep refuses (SHA-256), and std::invalid_argument for another mechanism.
  ScramClient(Mechanism mechanism, std::string username, std::string_view password,
              ScramOptions options = {});
  ~ScramClient() override;

  Mechanism mechanism() const noexcept override { return mechanism_; }
  std::vector<std::uint8_t> start() override;
  std::vector<std::uint8_t> step(std::span<const std::uint8_t> server_payload) override;
  bool complete() const noexcept override { return state_ == State::kVerified; }
  bool speculative() const noexcept override { return true; }

  // The three client-side steps on text, for tests and for step().
  std::string client_first();
  std::string client_final(std::string_view server_first);
  void verify_server_final(std::string_view server_final);

 private:
  enum class State { kInitial, kFirstSent, kFinalSent, kVerified };
  [[noreturn]] void fail(const std::string& why) const;
  ScramKeys keys_for(const std::vector<std::uint8_t>& salt, std::uint32_t iterations);

  Mechanism mechanism_;
  std::string username_;
  std::string password_;  // prepared (see KeyCache::Key::password)
  ScramOptions options_;
  State state_ = State::kInitial;
  std::string nonce_;
  std::string client_first_bare_;
  std::vector<std::uint8_t> server_signature_;
};

// SCRAM's saslname: ',' as "=2C" and '=' as "=3D" (RFC 5802, section 5.1).
std::string scram_escape_username(std::string_view username);

// 24 random bytes (OpenSSL RAND_bytes) in base64: 32 printable characters, no ','.
std::string random_scram_nonce();

}  // namespace mongoslice::auth
