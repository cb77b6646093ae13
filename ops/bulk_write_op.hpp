#pragma once
// BulkWrite: the operation behind Collection's insert_one, insert_many, update_*, replace_one,
// delete_* and bulk_write. It takes the write statements of one collection in the caller's order
// and sends them as insert / update / delete commands:
//
//   - consecutive statements of the same command (insert; update and replace; delete) share one
//     command, in order (for ordered and unordered writes alike: the order is always kept);
//   - each such run is split into batches by the limits start() is given: at most
//     max_write_batch_size statements, and a whole OP_MSG (header, body, the document sequence)
//     of at most max_message_size_bytes less kMessageReserve;
//   - each batch is one command whose statements travel as an OP_MSG document sequence
//     (wire::kInsertDocuments / kUpdateStatements / kDeleteStatements).
//
// The replies are summed into a BulkWriteResult; the indexes of write errors and upserts are
// mapped back to the statements' positions in the caller's list. An ordered write stops after
// the first batch that reports a write error; an unordered one sends every batch and collects
// every error. A write-concern error does not stop either.
//
// With an unacknowledged write concern (w: 0) the commands are sent as usual (each one's reply
// is waited for, so the writes are applied in order and an {ok: 0} still throws), but their
// counts and write errors are not read: the result says acknowledged = false.
//
//   ops::BulkWrite op("db", "c", statements, options);   // throws for bad input
//   auto [outcome, server] = execute(core, op);          // driver/operation_engine.hpp
//
// Thread-safety: as every operation (ops/operation.hpp).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ops/operation.hpp"
#include "ops/write_ops.hpp"
#include "ops/write_results.hpp"
#include "wire/bson.hpp"
#include "wire/op_msg.hpp"

namespace mongoslice::ops {

enum class StatementKind { kInsert, kUpdate, kReplace, kDelete };

// One write, as its command's document sequence carries it. The view must stay valid while the
// operation runs (the caller owns the bytes).
struct WriteStatement {
  StatementKind kind = StatementKind::kInsert;
  // kInsert: the document itself, with its _id (an insert without _id is sent as it is, but is
  // not listed in inserted_ids). kUpdate / kReplace: {q, u, ...} as
  // wire::make_update_statement builds it. kDelete: {q, limit, ...} (make_delete_statement).
  bson::View statement;
};

// What a bulk write did: the result of what the server acknowledged, and its errors.
struct BulkWriteOutcome {
  BulkWriteResult result;
  // The writeErrors of every command, each index that of the statement in the caller's list.
  std::vector<WriteErrorDetail> write_errors;
  // The writeConcernError of each command that had one (index 0).
  std::vector<WriteErrorDetail> write_concern_errors;
  std::int32_t commands_sent = 0;

  bool has_errors() const noexcept {
    return !write_errors.empty() || !write_concern_errors.empty();
  }
};

class BulkWrite {
 public:
  using Result = BulkWriteOutcome;

  // Bytes of every message kept free beyond its exact header, body and document sequence: room
  // for the fields an engine adds to the body (lsid, txnNumber, $clusterTime: well under 300
  // bytes; driver/operation_run.hpp).
  static constexpr std::size_t kMessageReserve = 1024;

  // Builds the command bodies (with options.write_concern). Throws Error(errc::invalid_argument)
  // when `statements` is empty, and what wire::append_write_concern throws for a concern the
  // spec forbids. options.let is not sent with inserts (the insert command has none).
  BulkWrite(std::string_view db, std::string_view collection,
            std::vector<WriteStatement> statements, const wire::WriteCommandOptions& options);

  OperationKind kind() const noexcept { return OperationKind::kWrite; }
  // Retryable (each command sent once more on a retryable error, with the same txnNumber)
  // unless unacknowledged or holding a multi-document update or delete.
  bool retryable() const noexcept { return retryable_; }

  // Checks every statement against the limits (a limit that is not positive reads as the
  // ServerLimits default), then sends the first batch. Throws
  // Error(errc::invalid_argument) naming the index and the sizes, before anything is sent, when an
  // inserted document or a replacement is larger than limits.max_bson_object_size, or when a
  // statement alone cannot fit in a message of limits.max_message_size_bytes.
  Step start(const ServerLimits& limits);
  // Reads the reply of the batch sent last and sends the next one, or is done. Throws ServerError
  // for {ok: 0} and Error naming the field of a malformed reply (as parse_write_reply,
  // parse_update_reply and parse_delete_reply do; also for an error or upsert index outside the
  // batch).
  Step on_reply(bson::Document reply);
  Result result() && { return std::move(outcome_); }

 private:
  enum Command : std::size_t { kInsertCommand, kUpdateCommand, kDeleteCommand };
  static Command command_of(StatementKind kind) noexcept;
  // The OP_MSG bytes of a batch of `command` besides its statements' own.
  std::size_t framing_of(Command command) const noexcept;
  Step send_next();
  // Maps the batch's local index to the caller's; throws for an index outside the batch.
  std::int64_t original_index(std::int64_t local, std::string_view what) const;
  void read_insert_reply(bson::View reply);
  void read_update_reply(bson::View reply);
  void read_delete_reply(bson::View reply);
  void add_write_errors(const std::vector<wire::WriteError>& errors,
                        const std::optional<wire::WriteConcernError>& concern);

  std::string db_;
  bool ordered_;
  bool acknowledged_;
  bool retryable_ = false;
  std::vector<StatementKind> kinds_;
  std::vector<bson::View> statements_;                   // contiguous: a batch is a subspan
  std::array<std::optional<bson::Document>, 3> bodies_;  // by Command, for the kinds present
  ServerLimits limits_;
  std::size_t next_ = 0;                         // the first statement not sent yet
  std::size_t batch_begin_ = 0, batch_end_ = 0;  // the batch sent last
  wire::DocumentSequence sequence_;
  BulkWriteOutcome outcome_;
};

}  // namespace mongoslice::ops
