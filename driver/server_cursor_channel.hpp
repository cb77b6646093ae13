#pragma once
// The CursorChannel of a Cursor (internal to driver/): getMore and synchronous killCursors on
// the server that owns the cursor, through that server's pool, with command monitoring.
//
// It holds the client only weakly: a cursor never keeps its client alive. Once the client is
// closed or gone, get_more and kill_now throw Error(errc::client_closed).

#include <memory>

#include "cursor/cursor_channel.hpp"
#include "wire/address.hpp"

namespace mongoslice {

class ClientCore;

class ServerCursorChannel final : public CursorChannel {
 public:
  ServerCursorChannel(std::weak_ptr<ClientCore> core, HostAndPort server) noexcept
      : core_(std::move(core)), server_(std::move(server)) {}

  bson::Document get_more(const Namespace& ns, std::int64_t cursor_id,
                          std::optional<std::int32_t> batch_size) override;
  // getMore with maxTimeMS and comment (the comment only to a server of MongoDB 4.4+, wire
  // version 9: ops::GetMoreOperation). Throws Error(errc::invalid_argument) for a batch size
  // <= 0 or a negative maxTimeMS, and what the engine throws.
  bson::Document get_more_with(const Namespace& ns, std::int64_t cursor_id,
                               const GetMoreFields& fields) override;
  // The same on the async engine (driver/async_engine.hpp).
  boost::asio::awaitable<bson::Document> co_get_more(const Namespace& ns, std::int64_t cursor_id,
                                                     GetMoreFields fields) override;
  void kill_now(const Namespace& ns, std::int64_t cursor_id) override;

 private:
  std::shared_ptr<ClientCore> lock() const;

  std::weak_ptr<ClientCore> core_;
  HostAndPort server_;
};

}  // namespace mongoslice
