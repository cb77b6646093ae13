#pragma once
// What both engines (driver/operation_engine.hpp, driver/async_engine.hpp) add to each command
// of an operation, and how they retry it: the decisions, without I/O, so that the blocking and
// the async engine behave the same (DESIGN.md invariant 10). Internal to driver/.
//
// Per command, an engine calls:
//   bson::View body = run.prepare(command, server, read_preference);
//   ... sends body; on a reply:   if (run.accept(reply, wire_version)) -> the command's outcome
//                   on a failure: if (run.should_retry(failure, wire_version)) -> the retry:
//   ... selects a server again (deprioritized()), checks can_retry_on(), and sends again, with the
//   body prepare() gives for that server. When the retry cannot be made or fails:
//   reply = run.give_up(retry_failure)   (returns the first attempt's reply or throws its error,
//                                         or throws the retry's)
//
// Added to a command's body:
//   lsid: an implicit session from the client's pool (the sessions spec), when the deployment
//     supports sessions (SelectedServer::session_timeout_minutes) and the write is acknowledged,
//     unless the command names its own. One session serves every command of the operation; a
//     cursor its reply makes keeps it (take_session()).
//   txnNumber: each command of a retryable write (retryWrites, an operation that says it is
//     retryable, an acknowledged write, sessions, and a server that is not a standalone) takes
//     the session's next number; its retry sends the same one, so the server applies it once.
//   $clusterTime: the client's greatest known cluster time.
//   $readPreference: for a read, as driver/read_preference_wire.hpp says for the server.
//
// In an explicit session (driver/client_session.hpp) its lsid and txnNumbers replace the
// implicit session's; its operationTime and $clusterTime advance with every reply; a read in a
// causally consistent session whose operationTime is known carries readConcern.afterClusterTime
// (not to a standalone, which has no cluster time); the greater of the client's and the
// session's $clusterTime is sent.
//
// The retry (the retryable writes and reads specs): one per command, on a retryable error
// (driver/retryable_errors.hpp) or, for a write, a reply whose writeConcernError is retryable.
// A checkout that fails retryably before the first command uses the operation's retry. If no
// server can take the retry, the first attempt's outcome stands; if the retry fails, its error
// is thrown, unless it says NoWritesPerformed (then the first error is). getMore is never
// retried (engines run it with retries off).
//
// Thread-safety: one engine uses a run at a time.

#include <cstdint>
#include <exception>
#include <optional>
#include <span>

#include "cursor/cursor_session.hpp"
#include "driver/client_session_state.hpp"
#include "driver/server_session_pool.hpp"
#include "driver/topology.hpp"
#include "ops/operation.hpp"
#include "ops/read_preference.hpp"
#include "wire/address.hpp"
#include "wire/bson.hpp"

namespace mongoslice {

class ClientCore;

class OperationRun {
 public:
  // `implicit_session`: whether commands may get an implicit session (off for the commands of
  // a cursor's own server: getMore carries the cursor's lsid, killCursors none).
  // `explicit_session`: the ClientSession the operation runs in (driver/client_session.hpp),
  // which then replaces the implicit one; it outlives the run (the engine's caller holds it).
  OperationRun(ClientCore& core, ops::OperationKind kind, bool retryable_operation,
               bool implicit_session = true,
               ClientSessionState* explicit_session = nullptr) noexcept;
  OperationRun(const OperationRun&) = delete;
  OperationRun& operator=(const OperationRun&) = delete;

  // The body to send for `command` on `server`; called again, with the same command, for its
  // retry. The view is valid until the next call (or the command's own view, when nothing is
  // added). Throws what acquiring a session throws.
  bson::View prepare(const ops::CommandToSend& command, const SelectedServer& server,
                     const ReadPreference* read_preference);
  // A reply arrived (its $clusterTime is gossiped). True: it is the command's outcome. False:
  // it asks for the retry (a retryable writeConcernError), and is kept as the first outcome.
  bool accept(bson::Document& reply, std::int32_t wire_version);
  // The command, or the checkout before the first one, failed with `failure`. True: retry it on
  // a newly selected server. False: call give_up(failure).
  bool should_retry(const std::exception_ptr& failure, std::int32_t wire_version);
  // Whether the server selected for the retry can take it (a retryable write needs one that
  // supports retryable writes).
  bool can_retry_on(const SelectedServer& server) const noexcept;
  // Ends the command without (another) retry: returns the first attempt's reply or throws its
  // error, or throws `retry_failure` (empty: the retry could not be made).
  bson::Document give_up(std::exception_ptr retry_failure);

  // Servers to avoid when selecting for the retry (the failed one, in a sharded cluster).
  std::span<const HostAndPort> deprioritized() const noexcept;
  // The operation's session, for the cursor its reply made (empty when it has none).
  CursorSessionPtr take_session();

 private:
  bool retry_allowed() const noexcept;
  void end_command() noexcept;
  // The explicit session's server session for `server`, after its refusals (see
  // driver/client_session.hpp).
  ServerSession& explicit_server_session(bson::View body, const SelectedServer& server);
  // The server session the current command runs in, if any.
  ServerSession* server_session() noexcept;

  ClientCore& core_;
  ops::OperationKind kind_;
  bool retryable_operation_;
  bool implicit_session_;
  ClientSessionState* const explicit_session_;
  ServerSessionLease session_;  // the implicit session
  // The explicit session's server session, held from the first prepare() to the run's end.
  ClientSessionState::SharedLease explicit_lease_;
  std::optional<bson::Document> body_;         // the body prepare() built last
  std::optional<std::int64_t> txn_number_;     // the current command's, when it has one
  bool prepared_ = false;                      // a command was prepared (no longer a checkout)
  bool retrying_ = false;                      // the current command's retry is in progress
  std::exception_ptr first_error_;             // the failure that started the retry
  std::optional<bson::Document> first_reply_;  // or the reply that did
  std::optional<HostAndPort> last_server_;     // where prepare() sent, in a sharded cluster
  std::optional<HostAndPort> failed_server_;   // the server to deprioritize for the retry
};

}  // namespace mongoslice
