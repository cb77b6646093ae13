#pragma once
// The blocking engine: runs an ops::Operation (ops/operation.hpp) on the calling thread. It
// selects a server (a read by the read preference it is given, a write a writable server),
// leases one connection of that server's pool for the whole operation, reads the server's
// limits from that connection's handshake, then sends each command the operation asks for and
// feeds it the reply, until the operation is done. Every command goes through
// ClientCore::run_on_lease: command monitoring, and the server's errors handed to SDAM with
// the connection's generation. A read carries $readPreference where the server-selection spec
// says so for the selected server and topology.
//
// The async engine (next to come) runs the same operations with the same steps; nothing here
// is specific to an operation.
//
// Throws what the operation throws, and what selection, the pool and the connection throw
// (Error: client_closed, server_selection_timeout, network_error, ...).

#include <utility>
#include <variant>

#include "driver/client_core.hpp"
#include "driver/read_preference_wire.hpp"
#include "ops/operation.hpp"

namespace mongoslice {

template <typename Result>
struct Executed {
  Result result;
  HostAndPort server;  // where it ran (a cursor's getMore goes there too)
};

// The limits the connection's handshake reported.
inline ops::ServerLimits limits_of(const Connection& connection) noexcept {
  return {connection.max_wire_version(), connection.max_bson_object_size(),
          connection.max_message_size_bytes(), connection.max_write_batch_size()};
}

template <ops::Operation Op>
Executed<typename Op::Result> execute(ClientCore& core, Op& op,
                                      const ReadPreference& read_preference) {
  const bool read = op.kind() == ops::OperationKind::kRead;
  ClientCore::Leased leased = core.lease_for(read, read_preference);
  ops::Step step = op.start(limits_of(*leased.lease));
  while (const auto* send = std::get_if<ops::Send>(&step)) {
    const ops::CommandToSend& command = send->command;
    std::optional<bson::Document> with_preference;
    if (read) {
      with_preference = with_wire_read_preference(command.body, read_preference,
                                                  leased.selected.type, leased.selected.topology);
    }
    bson::Document reply = core.run_on_lease(
        leased.selected.address, leased.lease, command.db,
        with_preference ? with_preference->view() : command.body, command.sequences);
    step = op.on_reply(std::move(reply));
  }
  return {std::move(op).result(), std::move(leased.selected.address)};
}

// Runs `op` on one given server instead of a selected one (a cursor's getMore and killCursors
// go to the cursor's own server), within `deadline` when given. Throws
// Error(errc::network_error) when the topology no longer knows the server, and
// Error(errc::client_closed) after close().
template <ops::Operation Op>
Executed<typename Op::Result> execute_on(ClientCore& core, const HostAndPort& server, Op& op,
                                         std::optional<Deadline> deadline = std::nullopt) {
  ConnectionPool::Lease lease = core.lease_on(server, deadline);
  ops::Step step = op.start(limits_of(*lease));
  while (const auto* send = std::get_if<ops::Send>(&step)) {
    const ops::CommandToSend& command = send->command;
    step = op.on_reply(
        core.run_on_lease(server, lease, command.db, command.body, command.sequences, deadline));
  }
  return {std::move(op).result(), server};
}

// For operations whose read preference does not matter (writes).
template <ops::Operation Op>
Executed<typename Op::Result> execute(ClientCore& core, Op& op) {
  return execute(core, op, ReadPreference{});
}

}  // namespace mongoslice
