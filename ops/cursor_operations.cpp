#include "ops/cursor_operations.hpp"

namespace mongoslice::ops {

GetMoreOperation::GetMoreOperation(std::string_view db, std::string_view collection,
                                   std::int64_t cursor_id, const wire::GetMoreCommand& command)
    : db_(db), with_comment_(wire::make_get_more(db, collection, cursor_id, command)) {
  if (command.comment) {
    wire::GetMoreCommand bare = command;
    bare.comment.reset();
    without_comment_ = wire::make_get_more(db, collection, cursor_id, bare);
  }
}

Step GetMoreOperation::start(const ServerLimits& limits) {
  const bool comment_taken = limits.max_wire_version >= kCommentMinWireVersion;
  const bson::Document& body =
      without_comment_ && !comment_taken ? *without_comment_ : with_comment_;
  return Send{{db_, body.view(), {}}};
}

Step GetMoreOperation::on_reply(bson::Document reply) {
  reply_ = std::move(reply);
  return Done{};
}

}  // namespace mongoslice::ops
