#pragma once
// Explicit sessions (the driver sessions and causal consistency specs):
//
//   ClientSession session = client.start_session();
//   coll.insert_one(session, doc);                    // the session as the first argument
//   auto found = coll.find_one(session, filter);      // reads its own write: afterClusterTime
//   coll.with_session(session).async_find(filter, token);  // any operation, either engine
//
// Every command of an operation run in a session carries the session's lsid (one server session
// from the client's pool, taken at its first command and given back once the session has ended
// and nothing uses it), and, in a causally consistent session (the default), every find,
// aggregate, count and distinct after the session's first operation carries
// readConcern.afterClusterTime = the session's operationTime, the latest operationTime any reply in
// the session carried: a read sees the session's earlier writes and reads, whichever member serves
// it. A cursor made in a session sends the session's lsid with its getMores and keeps the session's
// server session until it ends.
//
// Refused with Error(errc::invalid_argument), before anything is sent: an operation in a
// session that has ended, or of another client; an unacknowledged write (w: 0), which the
// spec forbids in an explicit session; a deployment without sessions (no server reported
// logicalSessionTimeoutMinutes: a standalone mongo-java-server, for instance). Transactions are
// not implemented: start_transaction() says so (Error(errc::invalid_argument)).
//
// Thread-safety: as the sessions spec says, a session runs one operation at a time. Two
// operations at once in one session (two threads, or two async operations in flight) are not
// supported: they may send the same txnNumber, and the server takes the second write for a
// retry of the first and does not apply it. The session's times and its end are guarded.

#include <memory>
#include <optional>

#include "wire/bson.hpp"

namespace mongoslice {

class ClientCore;
class ClientSessionState;

struct SessionOptions {
  // Reads after the session's first operation wait for its operationTime (afterClusterTime).
  bool causal_consistency = true;
};

class ClientSession {
 public:
  ClientSession(ClientSession&&) noexcept = default;
  // Ends the session this one was, then takes `other`'s.
  ClientSession& operator=(ClientSession&& other) noexcept;
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;
  // Ends the session (end_session()).
  ~ClientSession();

  // The session's lsid ({id: UUID}); takes its server session from the pool if no operation
  // has yet. Throws Error(errc::invalid_argument) once the session has ended.
  bson::Document id() const;
  bool causal_consistency() const;
  // The greatest $clusterTime ({clusterTime, signature}) and operationTime its replies carried,
  // or what advance_* gave (the specs' way to order one session after another's operations).
  std::optional<bson::Document> cluster_time() const;
  std::optional<bson::Timestamp> operation_time() const;
  // Move the session's times forward (never back). advance_cluster_time takes a document of
  // the shape {clusterTime: Timestamp, signature: {...}}; Error(errc::invalid_argument) for
  // another one.
  void advance_cluster_time(bson::View cluster_time);
  void advance_operation_time(bson::Timestamp operation_time);

  // Gives the server session back to the client's pool once nothing uses it any more: an
  // operation still running, or a cursor still open, keeps it (and its lsid) until it ends.
  // Later operations in the session are refused. Idempotent.
  void end_session() noexcept;
  bool has_ended() const noexcept;

  // Transactions are not implemented: throws Error(errc::invalid_argument) saying so.
  [[noreturn]] void start_transaction() const;

  // For the driver: the shared state operations and cursors hold.
  const std::shared_ptr<ClientSessionState>& state() const noexcept { return state_; }

 private:
  friend class MongoClient;
  explicit ClientSession(std::shared_ptr<ClientSessionState> state) noexcept
      : state_(std::move(state)) {}
  std::shared_ptr<ClientSessionState> state_;
};

}  // namespace mongoslice
