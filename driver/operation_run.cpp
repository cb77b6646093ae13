#include "driver/operation_run.hpp"

#include <chrono>
#include <utility>

#include "driver/client_core.hpp"
#include "driver/read_preference_wire.hpp"
#include "driver/retryable_errors.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

// {writeConcern: {w: 0}}: the sessions spec sends no implicit session with it, and an
// unacknowledged write is never retried (nothing would say whether it failed).
bool is_acknowledged(bson::View body) {
  auto concern = body.find("writeConcern");
  if (!concern || concern->type() != bson::Type::kDocument) return true;
  auto w = concern->get_document().find("w");
  return !w || !w->is_number() || w->as_int64() != 0;
}

// The retryable writes spec: a server that supports sessions and is not a standalone.
bool supports_retryable_writes(const SelectedServer& server) noexcept {
  if (!server.session_timeout_minutes) return false;
  switch (server.type) {
    case ServerType::kRSPrimary:
    case ServerType::kMongos:
    case ServerType::kLoadBalancer:
      return true;
    default:
      return false;
  }
}

bool later(bson::Timestamp a, bson::Timestamp b) noexcept {
  return a.t > b.t || (a.t == b.t && a.i > b.i);
}

// The read commands that take a read concern, and so afterClusterTime (the read concern and
// causal consistency specs). Not a generic runCommand (the run-command spec adds no read
// concern) nor listCollections, listIndexes or listDatabases, which refuse one.
bool takes_read_concern(bson::View body) {
  if (body.empty()) return false;
  const std::string_view name = (*body.begin()).key();
  return name == "find" || name == "aggregate" || name == "count" || name == "distinct";
}

// `body` with readConcern.afterClusterTime = `time`, the read concern's other fields kept (the
// causal consistency spec: a level given stays).
bson::Document with_after_cluster_time(bson::View body, bson::Timestamp time) {
  bson::Builder builder;
  bool done = false;
  for (const bson::Element& e : body) {
    if (e.key() != "readConcern" || e.type() != bson::Type::kDocument) {
      builder.append(e.key(), e);
      continue;
    }
    builder.open_document("readConcern");
    for (const bson::Element& field : e.get_document()) {
      if (field.key() != "afterClusterTime") builder.append(field.key(), field);
    }
    builder.append_timestamp("afterClusterTime", time).close();
    done = true;
  }
  if (!done)
    builder.open_document("readConcern").append_timestamp("afterClusterTime", time).close();
  return builder.build();
}

// Runs `body` with the exception `failure` holds (false for one that is no std::exception).
template <typename Body>
bool with_exception(const std::exception_ptr& failure, Body body) {
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    return body(e);
  } catch (...) {
    return false;
  }
}

}  // namespace

OperationRun::OperationRun(ClientCore& core, ops::OperationKind kind, bool retryable_operation,
                           bool implicit_session, ClientSessionState* explicit_session) noexcept
    : core_(core),
      kind_(kind),
      retryable_operation_(retryable_operation),
      implicit_session_(implicit_session),
      explicit_session_(explicit_session) {
}

ServerSession& OperationRun::explicit_server_session(bson::View body,
                                                     const SelectedServer& server) {
  if (explicit_session_->core() != &core_) {
    throw Error(errc::invalid_argument, "the session belongs to another MongoClient");
  }
  if (!server.session_timeout_minutes) {
    throw Error(errc::invalid_argument,
                "this deployment does not support sessions (" + server.address.to_string() +
                    " reported no logicalSessionTimeoutMinutes): run the operation without one");
  }
  if (!is_acknowledged(body)) {
    throw Error(errc::invalid_argument,
                "an unacknowledged write (w: 0) cannot run in an explicit session");
  }
  if (!explicit_lease_) {
    explicit_lease_ =
        explicit_session_->server_session(std::chrono::minutes(*server.session_timeout_minutes));
  }
  return **explicit_lease_;
}

ServerSession* OperationRun::server_session() noexcept {
  if (explicit_session_) return explicit_lease_ ? explicit_lease_->get() : nullptr;
  return session_.get();
}

CursorSessionPtr OperationRun::take_session() {
  if (explicit_session_) return cursor_session_of(explicit_lease_);
  return CursorSessionPtr(session_.release());
}

bson::View OperationRun::prepare(const ops::CommandToSend& command, const SelectedServer& server,
                                 const ReadPreference* read_preference) {
  prepared_ = true;
  last_server_.reset();
  if (server.topology == TopologyType::kSharded) last_server_ = server.address;
  bson::View body = command.body;
  const bool own_lsid = body.contains("lsid");
  ServerSession* session = nullptr;
  std::optional<bson::Document> causal_body;
  if (explicit_session_ && !own_lsid) {
    session = &explicit_server_session(body, server);
    if (kind_ == ops::OperationKind::kRead && takes_read_concern(body) &&
        explicit_session_->causal_consistency() && server.type != ServerType::kStandalone) {
      if (auto after = explicit_session_->operation_time()) {
        causal_body = with_after_cluster_time(body, *after);
        body = causal_body->view();
      }
    }
  } else if (!explicit_session_) {
    if (implicit_session_ && !session_ && !own_lsid && server.session_timeout_minutes &&
        is_acknowledged(body)) {
      session_ = core_.sessions().acquire(std::chrono::minutes(*server.session_timeout_minutes));
    }
    if (session_ && !own_lsid && server.session_timeout_minutes) session = session_.get();
  }
  const bool with_lsid = session != nullptr;
  if (!retrying_) txn_number_.reset();
  if (with_lsid && kind_ == ops::OperationKind::kWrite && retryable_operation_ &&
      core_.uri().retry_writes && supports_retryable_writes(server) && !txn_number_) {
    txn_number_ = session->next_txn_number();
  }
  std::shared_ptr<const bson::Document> cluster_time;
  std::optional<bson::Document> session_cluster_time;
  if (!body.contains("$clusterTime")) {
    cluster_time = core_.cluster_time();
    // The session's may be later: one given by advance_cluster_time.
    if (explicit_session_) session_cluster_time = explicit_session_->cluster_time();
    if (session_cluster_time &&
        (!cluster_time || later(session_cluster_time->view()["clusterTime"].get_timestamp(),
                                cluster_time->view()["clusterTime"].get_timestamp()))) {
      cluster_time = std::make_shared<const bson::Document>(std::move(*session_cluster_time));
    }
  }
  std::optional<bson::Document> preference;
  if (read_preference && !body.contains("$readPreference")) {
    preference = wire_read_preference(*read_preference, server.type, server.topology);
  }
  const bool with_txn = with_lsid && txn_number_;
  if (!with_lsid && !cluster_time && !preference && !causal_body) {
    body_.reset();
    return body;
  }
  bson::Builder builder;
  builder.concat(body);
  if (with_lsid) builder.append("lsid", session->lsid());
  if (with_txn) builder.append("txnNumber", *txn_number_);
  if (cluster_time) builder.append("$clusterTime", cluster_time->view());
  if (preference) builder.append("$readPreference", preference->view());
  body_ = builder.build();
  return body_->view();
}

bool OperationRun::retry_allowed() const noexcept {
  if (!retryable_operation_) return false;
  if (kind_ == ops::OperationKind::kRead) return core_.uri().retry_reads;
  // A write is retried only if its command carried a txnNumber (or never left: a checkout).
  return core_.uri().retry_writes && (!prepared_ || txn_number_.has_value());
}

bool OperationRun::accept(bson::Document& reply, std::int32_t wire_version) {
  core_.advance_cluster_time(reply.view());
  if (explicit_session_) explicit_session_->advance_from_reply(reply.view());
  if (!retrying_ && kind_ == ops::OperationKind::kWrite && txn_number_ && retry_allowed() &&
      is_retryable_write_concern_reply(reply.view(), wire_version)) {
    retrying_ = true;
    first_reply_ = std::move(reply);
    failed_server_ = last_server_;
    return false;
  }
  end_command();
  return true;
}

bool OperationRun::should_retry(const std::exception_ptr& failure, std::int32_t wire_version) {
  return with_exception(failure, [&](const std::exception& e) {
    if (auto* server_error = dynamic_cast<const ServerError*>(&e)) {
      core_.advance_cluster_time(server_error->reply().view());
      if (explicit_session_) explicit_session_->advance_from_reply(server_error->reply().view());
    }
    // The server may still be running the command in this session: the pool drops it.
    if (ServerSession* session = server_session(); session && is_network_class_error(e)) {
      session->mark_dirty();
    }
    if (retrying_ || !retry_allowed()) return false;
    const bool retryable = kind_ == ops::OperationKind::kRead
                               ? is_retryable_read_error(e)
                               : is_retryable_write_error(e, wire_version);
    if (!retryable) return false;
    retrying_ = true;
    first_error_ = failure;
    failed_server_ = last_server_;
    return true;
  });
}

bool OperationRun::can_retry_on(const SelectedServer& server) const noexcept {
  if (kind_ == ops::OperationKind::kRead || !txn_number_) return true;
  return supports_retryable_writes(server);
}

bson::Document OperationRun::give_up(std::exception_ptr retry_failure) {
  if (!retrying_) {
    end_command();
    // The first attempt's own, final failure.
    if (retry_failure) std::rethrow_exception(retry_failure);
    throw Error(errc::invalid_argument, "give_up() without a failure or a retry (driver bug)");
  }
  std::exception_ptr first = std::move(first_error_);
  std::optional<bson::Document> first_reply = std::move(first_reply_);
  end_command();
  if (retry_failure && !with_exception(retry_failure, [](const std::exception& e) {
        return says_no_writes_performed(e);
      })) {
    std::rethrow_exception(retry_failure);
  }
  if (first_reply) return std::move(*first_reply);
  std::rethrow_exception(first);
}

std::span<const HostAndPort> OperationRun::deprioritized() const noexcept {
  if (!failed_server_) return {};
  return {&*failed_server_, 1};
}

void OperationRun::end_command() noexcept {
  retrying_ = false;
  first_error_ = nullptr;
  first_reply_.reset();
  failed_server_.reset();
}

}  // namespace mongoslice
