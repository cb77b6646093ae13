#pragma once
// The blocking engine: runs an ops::Operation (ops/operation.hpp) on the calling thread. It
// selects a server (a read by the read preference it is given, a write a writable server),
// leases one connection of that server's pool for the whole operation, reads the server's
// limits from that connection's handshake, then sends each command the operation asks for and
// feeds it the reply, until the operation is done. Every command goes through
// ClientCore::run_on_lease: command monitoring, and the server's errors handed to SDAM with
// the connection's generation. What each command carries besides the operation's body (lsid,
// txnNumber, $clusterTime, $readPreference) and when a command is retried is decided by an
// OperationRun (driver/operation_run.hpp), the same for the async engine.
//
// The async engine (driver/async_engine.hpp) runs the same operations with the same steps;
// nothing here is specific to an operation.
//
// Throws what the operation throws, and what selection, the pool and the connection throw
// (Error: client_closed, server_selection_timeout, network_error, ...).

#include <utility>
#include <variant>

#include "cursor/cursor_session.hpp"
#include "driver/client_core.hpp"
#include "driver/operation_run.hpp"
#include "ops/operation.hpp"

namespace mongoslice {

template <typename Result>
struct Executed {
  Result result;
  HostAndPort server;  // where it ran (a cursor's getMore goes there too)
  // The implicit session its commands ran in (none when the deployment has no sessions): a
  // cursor made from the result keeps it for its getMores; otherwise it goes back to the pool
  // with this.
  CursorSessionPtr session;
};

// The limits the connection's handshake reported.
inline ops::ServerLimits limits_of(const Connection& connection) noexcept {
  return {connection.max_wire_version(), connection.max_bson_object_size(),
          connection.max_message_size_bytes(), connection.max_write_batch_size()};
}

namespace sync_engine_detail {
// The first selection and checkout, retried once when the checkout fails retryably (a pool
// cleared, a connection that could not be established): nothing was sent yet.
ClientCore::Leased lease_first(ClientCore& core, OperationRun& run, bool read,
                               const ReadPreference& read_preference);
// One command of the operation and, when its failure allows, its retry on a newly selected
// server (driver/operation_run.hpp): the reply that is its outcome. `leased` is the retry's
// afterwards. `read_preference` is null for writes and commands on a given server.
bson::Document round_trip(ClientCore& core, OperationRun& run, ClientCore::Leased& leased,
                          const ops::CommandToSend& command, bool read,
                          const ReadPreference& read_preference);
}  // namespace sync_engine_detail

// `session`: the explicit session the operation runs in (driver/client_session.hpp), if any.
template <ops::Operation Op>
Executed<typename Op::Result> execute(ClientCore& core, Op& op,
                                      const ReadPreference& read_preference,
                                      ClientSessionState* session = nullptr) {
  const bool read = op.kind() == ops::OperationKind::kRead;
  OperationRun run(core, op.kind(), op.retryable(), /*implicit_session=*/true, session);
  ClientCore::Leased leased = sync_engine_detail::lease_first(core, run, read, read_preference);
  ops::Step step = op.start(limits_of(*leased.lease));
  while (const auto* send = std::get_if<ops::Send>(&step)) {
    step = op.on_reply(
        sync_engine_detail::round_trip(core, run, leased, send->command, read, read_preference));
  }
  return {std::move(op).result(), std::move(leased.selected.address), run.take_session()};
}

// Runs `op` on one given server instead of a selected one (a cursor's getMore and killCursors
// go to the cursor's own server), within `deadline` when given: no implicit session (getMore
// names its cursor's, killCursors needs none), no retry, $clusterTime gossiped. Throws
// Error(errc::network_error) when the topology no longer knows the server, and
// Error(errc::client_closed) after close().
template <ops::Operation Op>
Executed<typename Op::Result> execute_on(ClientCore& core, const HostAndPort& server, Op& op,
                                         std::optional<Deadline> deadline = std::nullopt) {
  ConnectionPool::Lease lease = core.lease_on(server, deadline);
  OperationRun run(core, op.kind(), /*retryable_operation=*/false, /*implicit_session=*/false);
  const SelectedServer target{server, {}, ServerType::kUnknown, TopologyType::kUnknown, {}, {}};
  ops::Step step = op.start(limits_of(*lease));
  while (const auto* send = std::get_if<ops::Send>(&step)) {
    const ops::CommandToSend& command = send->command;
    bson::View body = run.prepare(command, target, nullptr);
    bson::Document reply =
        core.run_on_lease(server, lease, command.db, body, command.sequences, deadline);
    run.accept(reply, lease->max_wire_version());
    step = op.on_reply(std::move(reply));
  }
  return {std::move(op).result(), server, nullptr};
}

// For operations whose read preference does not matter (writes).
template <ops::Operation Op>
Executed<typename Op::Result> execute(ClientCore& core, Op& op) {
  return execute(core, op, ReadPreference{});
}

}  // namespace mongoslice
