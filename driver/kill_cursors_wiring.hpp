#pragma once
// The driver's side of the kill-cursors task (cursor/kill_cursors_task.hpp), internal to
// driver/: the sender runs killCursors on the cursor's own server through its pool, with
// command monitoring and a bounded deadline; the observer turns drops into CursorsDroppedEvent
// and a log line (component "cursor", level warning).

#include <map>
#include <memory>

#include "cursor/kill_cursors_task.hpp"
#include "driver/events.hpp"
#include "net/deadline.hpp"

namespace mongoslice {

class ClientCore;
class Connection;
class OperationInterrupt;

class PoolKillCursorsSender final : public KillCursorsSender {
 public:
  PoolKillCursorsSender(ClientCore& core, OperationInterrupt* interrupt) noexcept
      : core_(core), interrupt_(interrupt) {}

  // A server that the topology no longer knows throws Error(errc::network_error), so its ids
  // are reported dropped (send_failed).
  bson::Document send(const HostAndPort& server, std::string_view db, bson::View command) override;

 private:
  ClientCore& core_;
  OperationInterrupt* interrupt_;
};

// close()'s final kill run: the pools are closed by then, so it opens one connection per server
// itself, and everything (connect, handshake, round trips) ends by one deadline. A send after
// the deadline throws at once, so the rest is reported dropped.
class DirectKillCursorsSender final : public KillCursorsSender {
 public:
  DirectKillCursorsSender(ClientCore& core, SteadyClock::time_point deadline) noexcept
      : core_(core), deadline_(deadline) {}
  ~DirectKillCursorsSender() override;

  bson::Document send(const HostAndPort& server, std::string_view db, bson::View command) override;

 private:
  ClientCore& core_;
  const SteadyClock::time_point deadline_;
  std::map<HostAndPort, std::unique_ptr<Connection>> connections_;
};

class EventKillCursorsObserver final : public KillCursorsObserver {
 public:
  explicit EventKillCursorsObserver(const EventDispatcher& events) noexcept : events_(events) {}

  void on_sent(const HostAndPort& server, const Namespace& ns,
               std::span<const std::int64_t> cursor_ids, bson::View reply) noexcept override;
  void on_dropped(const HostAndPort& server, const Namespace& ns,
                  std::span<const std::int64_t> cursor_ids, KillDropReason reason,
                  std::string_view detail) noexcept override;

 private:
  const EventDispatcher& events_;
};

}  // namespace mongoslice
