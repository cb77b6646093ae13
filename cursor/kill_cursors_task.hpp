#pragma once
// The body of the client's kill-cursors executor: drain the KillQueue, batch the ids per server
// and namespace, and send one killCursors command per batch through an abstract sender.
//
// Every record drained is either sent in exactly one killCursors command or reported as dropped
// to the observer, with the reason (DESIGN.md, invariant 6). Nothing is retried: a failed send
// is reported and forgotten (the server reaps idle cursors after its cursorTimeoutMillis), so a
// server that is gone cannot make the queue grow forever.
//
// The cursor layer knows no client or connection: the driver implements the sender (server
// selection by address, a pooled connection, command events) and the observer (events, log).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "cursor/kill_queue.hpp"
#include "cursor/namespace.hpp"
#include "wire/address.hpp"
#include "wire/bson.hpp"

namespace mongoslice {

enum class KillDropReason {
  send_failed,    // the sender threw (network error, server no longer known, ...)
  server_error,   // the server answered {ok: 0}
  after_fork,     // the cursor belongs to the parent process (another fork generation)
  client_closed,  // pushed after the queue was closed, or drained at shutdown unsent
};
std::string_view to_string(KillDropReason reason) noexcept;

class KillCursorsSender {
 public:
  virtual ~KillCursorsSender() = default;
  // Runs `command` ({killCursors, cursors, $db}; `db` is its $db, for command events) on
  // `server` and returns the reply. Throws on failure.
  virtual bson::Document send(const HostAndPort& server, std::string_view db,
                              bson::View command) = 0;
};

// Called on the executor's thread. Must not throw: a report that fails cannot be retried.
class KillCursorsObserver {
 public:
  virtual ~KillCursorsObserver() = default;
  // One killCursors answered {ok: 1}; the reply lists cursorsKilled, cursorsNotFound, ...
  virtual void on_sent(const HostAndPort& server, const Namespace& ns,
                       std::span<const std::int64_t> cursor_ids, bson::View reply) noexcept = 0;
  // These cursors will not be killed by the driver. `detail` explains (the error's message).
  virtual void on_dropped(const HostAndPort& server, const Namespace& ns,
                          std::span<const std::int64_t> cursor_ids, KillDropReason reason,
                          std::string_view detail) noexcept = 0;
};

struct KillCursorsTaskOptions {
  std::size_t max_ids_per_command = 10'000;
  std::size_t max_command_bytes = 16 * 1024 * 1024;  // the server's maxBsonObjectSize
};

struct KillCursorsTaskResult {
  std::size_t drained = 0;   // records taken from the queue
  std::size_t sent = 0;      // ids in commands that answered {ok: 1}
  std::size_t dropped = 0;   // ids reported through on_dropped
  std::size_t commands = 0;  // killCursors commands attempted
};

// One run of the task: everything queued so far is sent or reported.
KillCursorsTaskResult run_kill_cursors(KillQueue& queue, KillCursorsSender& sender,
                                       KillCursorsObserver& observer,
                                       const KillCursorsTaskOptions& options = {});

// The same for records already taken from the queue (e.g. by KillQueue::retire()).
KillCursorsTaskResult send_kill_list(KillList records, KillCursorsSender& sender,
                                     KillCursorsObserver& observer,
                                     const KillCursorsTaskOptions& options = {});

// At shutdown, when nothing can be sent any more: every queued record is reported as dropped
// (after_fork for another generation's records, `reason` for the rest).
KillCursorsTaskResult drop_pending_kills(KillQueue& queue, KillCursorsObserver& observer,
                                         KillDropReason reason, std::string_view detail);

}  // namespace mongoslice
