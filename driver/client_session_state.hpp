#pragma once
// The state of an explicit session (driver/client_session.hpp), shared by the ClientSession,
// the operations running in it and the cursors they made. Internal to driver/.

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>

#include "cursor/cursor_session.hpp"
#include "driver/client_session.hpp"
#include "driver/server_session_pool.hpp"
#include "wire/bson.hpp"

namespace mongoslice {

class ClientSessionState {
 public:
  // The server session, shared by the session and every operation and cursor using it, so that
  // end() gives it back to the pool only once the last of them is done (the last holder's
  // release is ServerSession::release's lock-free push).
  using SharedLease = std::shared_ptr<ServerSessionLease>;

  ClientSessionState(ClientCore& core, std::shared_ptr<ServerSessionPool> pool,
                     SessionOptions options) noexcept
      : core_(&core), pool_(std::move(pool)), options_(options) {}

  const ClientCore* core() const noexcept { return core_; }
  bool causal_consistency() const noexcept { return options_.causal_consistency; }

  // The server session, taken from the pool on first use (`timeout`: the deployment's
  // logicalSessionTimeoutMinutes). Throws Error(errc::invalid_argument) once ended.
  SharedLease server_session(std::chrono::minutes timeout);
  void end() noexcept;
  bool ended() const noexcept;

  // From every reply in the session (ok or not): its operationTime and $clusterTime.
  void advance_from_reply(bson::View reply);
  void advance_cluster_time(bson::View cluster_time);
  void advance_operation_time(bson::Timestamp time);
  std::optional<bson::Timestamp> operation_time() const;
  std::optional<bson::Document> cluster_time() const;

 private:
  ClientCore* core_;
  std::shared_ptr<ServerSessionPool> pool_;
  const SessionOptions options_;
  mutable std::mutex mutex_;
  SharedLease lease_;  // empty until the first command, and after end()
  bool ended_ = false;
  std::optional<bson::Timestamp> operation_time_;
  std::optional<bson::Document> cluster_time_;
};

// What a cursor made by a command in an explicit session holds: that server session (its lsid
// for the getMores), until the cursor ends, whether or not the session has ended by then.
CursorSessionPtr cursor_session_of(ClientSessionState::SharedLease lease);

}  // namespace mongoslice
