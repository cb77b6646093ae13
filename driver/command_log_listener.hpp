#pragma once
// The listener behind MONGOSLICE_LOG=commands: one log line (component "commands", level info)
// per command event, so a user can watch killCursors leave the client:
//
//   started killCursors id=42 server=127.0.0.1:27017 db=test cursors=[7613405021, 7613405022]
//   succeeded killCursors id=42 server=127.0.0.1:27017 duration=0.412ms cursorsKilled=[...] ...
//   failed getMore id=43 server=127.0.0.1:27017 duration=1.2ms error="..." (mongodb-server:43)
//   dropped cursors server=127.0.0.1:27017 ns=test.c reason="send_failed: ..." cursors=[...]
//
// `id` is the command's id in the events (CommandStartedEvent::request_id).

#include <string>

#include "driver/events.hpp"

namespace mongoslice {

class CommandLogListener final : public EventListener {
 public:
  void on(const CommandStartedEvent& event) override;
  void on(const CommandSucceededEvent& event) override;
  void on(const CommandFailedEvent& event) override;
  void on(const CursorsDroppedEvent& event) override;

  // The lines, exposed for tests.
  static std::string format(const CommandStartedEvent& event);
  static std::string format(const CommandSucceededEvent& event);
  static std::string format(const CommandFailedEvent& event);
  static std::string format(const CursorsDroppedEvent& event);
};

}  // namespace mongoslice
