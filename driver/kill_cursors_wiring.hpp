#pragma once
// The driver's side of the kill-cursors task (cursor/kill_cursors_task.hpp), internal to
// driver/: the sender runs killCursors on the cursor's own server through its pool, with
// command monitoring and a bounded deadline; the observer turns drops into CursorsDroppedEvent
// and a log line (component "cursor", level warning).

#include "cursor/kill_cursors_task.hpp"
#include "driver/events.hpp"

namespace mongoslice {

class ClientCore;
class InFlightConnection;

class PoolKillCursorsSender final : public KillCursorsSender {
 public:
  PoolKillCursorsSender(ClientCore& core, InFlightConnection* in_flight) noexcept
      : core_(core), in_flight_(in_flight) {}

  // A server that the topology no longer knows throws Error(errc::network_error), so its ids
  // are reported dropped (send_failed).
  bson::Document send(const HostAndPort& server, std::string_view db, bson::View command) override;

 private:
  ClientCore& core_;
  InFlightConnection* in_flight_;
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
