#pragma once
// Operations as sans-I/O state machines: what an operation sends, how it reads each reply, and
// whether it reads or writes. An operation knows nothing of sockets, threads, pools or the
// topology; an engine runs it (driver/operation_engine.hpp: the blocking one; the async engine
// runs the very same operations). In the manner of Boost.MySQL's algorithms, an operation only
// ever answers "send this command" or "done":
//
//   Step step = op.start(limits);           // the selected server's handshake limits
//   while (auto* send = std::get_if<Send>(&step))
//     step = op.on_reply(round_trip(send->command));   // the engine does the I/O
//   Result result = std::move(op).result();
//
// Most operations are one command (SingleCommand below); a batched write sends one command per
// batch, each sized by the limits given to start().
//
// Errors: on_reply() throws what the reply means (ServerError for {ok: 0}, Error naming a
// malformed field); start() throws Error(errc::invalid_argument) for input refused before
// anything is sent. The engine hands the server's errors to SDAM itself; an operation never
// needs to.
//
// Thread-safety: an operation is used by one engine at a time; it holds no shared state.

#include <concepts>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "wire/bson.hpp"
#include "wire/op_msg.hpp"

namespace mongoslice::ops {

// For server selection: a read goes where the read preference leads (and carries
// $readPreference where the server-selection spec says so), a write to a writable server.
enum class OperationKind { kRead, kWrite };

// What the handshake of the connection an operation runs on told about the server. The
// defaults are the server defaults a handshake that leaves them out means.
struct ServerLimits {
  std::int32_t max_wire_version = 0;
  std::int32_t max_bson_object_size = 16 * 1024 * 1024;
  std::int32_t max_message_size_bytes = 48'000'000;
  std::int32_t max_write_batch_size = 100'000;
};

// One command to send: the body (with $db) and the OP_MSG document sequences beside it. The
// views point into the operation and stay valid until its next start() / on_reply() call.
struct CommandToSend {
  std::string_view db;
  bson::View body;
  std::span<const wire::DocumentSequence> sequences;
};

struct Send {
  CommandToSend command;
};
struct Done {};
using Step = std::variant<Send, Done>;

// What an engine needs of an operation.
template <typename Op>
concept Operation = requires(Op op, const Op& cop, const ServerLimits& limits,
                             bson::Document reply) {
  typename Op::Result;
  { cop.kind() } -> std::same_as<OperationKind>;
  // Whether the retryable reads / writes rules allow one retry (driver/operation_run.hpp).
  { cop.retryable() } -> std::same_as<bool>;
  { op.start(limits) } -> std::same_as<Step>;
  { op.on_reply(std::move(reply)) } -> std::same_as<Step>;
  { std::move(op).result() } -> std::same_as<typename Op::Result>;
};

// Throws Error(errc::invalid_argument) naming `what` when the server's wire version is below
// `required` (nothing is sent then).
void check_wire_version(const ServerLimits& limits, std::int32_t required, std::string_view what);

// An operation of one command: `Parse` turns the reply into the result (and throws what the
// reply means). The command is built before the engine runs, so a refused argument throws at
// construction, before a server is even selected.
template <typename ResultT, typename Parse>
class SingleCommand {
 public:
  using Result = ResultT;

  SingleCommand(OperationKind kind, std::string_view db, bson::Document body, Parse parse,
                bool retryable = false)
      : kind_(kind),
        db_(db),
        body_(std::move(body)),
        parse_(std::move(parse)),
        retryable_(retryable) {}

  // Refuses, in start(), a server older than `wire_version` with
  // Error(errc::invalid_argument, "<what> needs ... "): for an option that older servers would
  // silently ignore (e.g. a delete's hint before MongoDB 4.4, wire version 9).
  SingleCommand& require_wire_version(std::int32_t wire_version, std::string what) {
    if (wire_version > required_wire_version_) {
      required_wire_version_ = wire_version;
      required_for_ = std::move(what);
    }
    return *this;
  }

  OperationKind kind() const noexcept { return kind_; }
  bool retryable() const noexcept { return retryable_; }
  Step start(const ServerLimits& limits) {
    check_wire_version(limits, required_wire_version_, required_for_);
    return Send{{db_, body_.view(), {}}};
  }
  Step on_reply(bson::Document reply) {
    result_.emplace(parse_(std::move(reply)));
    return Done{};
  }
  Result result() && { return std::move(*result_); }

 private:
  OperationKind kind_;
  // Owned: an async operation's body may keep only the operation, not the handle it was made
  // from (driver/collection_read.cpp, find_one), so the database's name must not be a view.
  std::string db_;
  bson::Document body_;
  Parse parse_;
  bool retryable_;
  std::int32_t required_wire_version_ = 0;
  std::string required_for_;
  std::optional<Result> result_;
};

template <typename ResultT, typename Parse>
SingleCommand<ResultT, Parse> single_command(OperationKind kind, std::string_view db,
                                             bson::Document body, Parse parse,
                                             bool retryable = false) {
  return {kind, db, std::move(body), std::move(parse), retryable};
}

// The whole reply, unread (run_command; a cursor's first reply, which the driver wraps).
struct KeepReply {
  bson::Document operator()(bson::Document reply) const { return reply; }
};

}  // namespace mongoslice::ops
