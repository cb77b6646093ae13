#include "driver/client_session.hpp"

#include "driver/client_session_state.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

bool later(bson::Timestamp a, bson::Timestamp b) noexcept {
  return a.t > b.t || (a.t == b.t && a.i > b.i);
}

[[noreturn]] void throw_ended() {
  throw Error(errc::invalid_argument, "the session has ended: start a new one");
}

// A moved-from ClientSession has no state: it is used like an ended one.
ClientSessionState& live(const std::shared_ptr<ClientSessionState>& state) {
  if (!state) throw_ended();
  return *state;
}

// A cursor's hold on an explicit session's server session: its lsid, kept until the cursor ends.
class ExplicitCursorSession final : public CursorSession {
 public:
  explicit ExplicitCursorSession(ClientSessionState::SharedLease lease) noexcept
      : lease_(std::move(lease)) {}
  bson::View lsid() const noexcept override { return (*lease_)->lsid(); }
  // Frees this holder; when it held the last reference to the server session (the session has
  // ended, no operation uses it), that goes back to the pool by ServerSession::release's
  // lock-free push.
  void release() noexcept override { delete this; }

 private:
  ~ExplicitCursorSession() = default;
  ClientSessionState::SharedLease lease_;
};

}  // namespace

// ---- ClientSessionState ------------------------------------------------------------------

ClientSessionState::SharedLease ClientSessionState::server_session(std::chrono::minutes timeout) {
  std::lock_guard lock(mutex_);
  if (ended_) throw_ended();
  if (!lease_) lease_ = std::make_shared<ServerSessionLease>(pool_->acquire(timeout));
  return lease_;
}

void ClientSessionState::end() noexcept {
  SharedLease lease;  // dropped after unlocking: the last reference gives it back to the pool
  {
    std::lock_guard lock(mutex_);
    ended_ = true;
    lease = std::move(lease_);
  }
}

bool ClientSessionState::ended() const noexcept {
  std::lock_guard lock(mutex_);
  return ended_;
}

void ClientSessionState::advance_from_reply(bson::View reply) {
  if (auto time = reply.find("operationTime"); time && time->type() == bson::Type::kTimestamp) {
    advance_operation_time(time->get_timestamp());
  }
  if (auto ct = reply.find("$clusterTime"); ct && ct->type() == bson::Type::kDocument) {
    auto inner = ct->get_document().find("clusterTime");
    if (inner && inner->type() == bson::Type::kTimestamp) advance_cluster_time(ct->get_document());
  }
}

void ClientSessionState::advance_cluster_time(bson::View cluster_time) {
  auto time = cluster_time.find("clusterTime");
  if (!time || time->type() != bson::Type::kTimestamp) {
    throw Error(errc::invalid_argument,
                "a cluster time is a document {clusterTime: Timestamp, signature: ...}");
  }
  std::lock_guard lock(mutex_);
  if (cluster_time_ &&
      !later(time->get_timestamp(), cluster_time_->view()["clusterTime"].get_timestamp())) {
    return;
  }
  cluster_time_ = bson::Document(cluster_time);
}

void ClientSessionState::advance_operation_time(bson::Timestamp time) {
  std::lock_guard lock(mutex_);
  if (!operation_time_ || later(time, *operation_time_)) operation_time_ = time;
}

std::optional<bson::Timestamp> ClientSessionState::operation_time() const {
  std::lock_guard lock(mutex_);
  return operation_time_;
}

std::optional<bson::Document> ClientSessionState::cluster_time() const {
  std::lock_guard lock(mutex_);
  return cluster_time_;
}

CursorSessionPtr cursor_session_of(ClientSessionState::SharedLease lease) {
  if (!lease) return {};
  return CursorSessionPtr(new ExplicitCursorSession(std::move(lease)));
}

// ---- ClientSession -----------------------------------------------------------------------

ClientSession::~ClientSession() {
  end_session();
}

bson::Document ClientSession::id() const {
  // 30 minutes, the servers' default logicalSessionTimeoutMinutes, when no operation has told
  // the pool the deployment's own yet (it only decides which pooled sessions are too old).
  return bson::Document((*live(state_).server_session(std::chrono::minutes(30)))->lsid());
}

bool ClientSession::causal_consistency() const {
  return live(state_).causal_consistency();
}

std::optional<bson::Document> ClientSession::cluster_time() const {
  return live(state_).cluster_time();
}

std::optional<bson::Timestamp> ClientSession::operation_time() const {
  return live(state_).operation_time();
}

void ClientSession::advance_cluster_time(bson::View cluster_time) {
  live(state_).advance_cluster_time(cluster_time);
}

void ClientSession::advance_operation_time(bson::Timestamp operation_time) {
  live(state_).advance_operation_time(operation_time);
}

void ClientSession::end_session() noexcept {
  if (state_) state_->end();
}

bool ClientSession::has_ended() const noexcept {
  return !state_ || state_->ended();
}

void ClientSession::start_transaction() const {
  throw Error(errc::invalid_argument,
              "transactions are not implemented by mongoslice: run the operations without "
              "start_transaction() (each is atomic on its own document)");
}

}  // namespace mongoslice
