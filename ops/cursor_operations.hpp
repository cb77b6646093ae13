#pragma once
// getMore as an operation (ops/operation.hpp): one command, a read (it goes to the cursor's own
// server, so the engine's execute_on runs it), never retried. The one thing it needs of the
// server's limits: a comment on getMore is taken from MongoDB 4.4 (maxWireVersion 9) on, and
// older servers refuse the field, so on an older server the comment is left out (the CRUD and
// run-command specs: the comment goes on getMore "if the server supports it"). Sans-I/O.

#include <cstdint>
#include <optional>
#include <string_view>

#include "ops/commands.hpp"
#include "ops/operation.hpp"
#include "wire/bson.hpp"

namespace mongoslice::ops {

class GetMoreOperation {
 public:
  using Result = bson::Document;  // the whole reply: the Cursor reads it
  static constexpr std::int32_t kCommentMinWireVersion = 9;

  // Builds both bodies at construction (throws what wire::make_get_more throws); `db` must
  // outlive the operation, `command`'s views only the constructor.
  GetMoreOperation(std::string_view db, std::string_view collection, std::int64_t cursor_id,
                   const wire::GetMoreCommand& command);

  OperationKind kind() const noexcept { return OperationKind::kRead; }
  bool retryable() const noexcept { return false; }
  Step start(const ServerLimits& limits);
  Step on_reply(bson::Document reply);
  Result result() && { return std::move(reply_); }

 private:
  std::string_view db_;
  bson::Document with_comment_;
  std::optional<bson::Document> without_comment_;  // only when the command has a comment
  bson::Document reply_;
};

}  // namespace mongoslice::ops
