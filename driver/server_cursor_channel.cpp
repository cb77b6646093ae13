#include "driver/server_cursor_channel.hpp"

#include "driver/client_core.hpp"
#include "driver/operation_engine.hpp"
#include "ops/commands.hpp"
#include "wire/error.hpp"

namespace mongoslice {

std::shared_ptr<ClientCore> ServerCursorChannel::lock() const {
  auto core = core_.lock();
  if (!core || core->closed()) {
    throw Error(errc::client_closed, "the client of this cursor was closed");
  }
  return core;
}

bson::Document ServerCursorChannel::get_more(const Namespace& ns, std::int64_t cursor_id,
                                             std::optional<std::int32_t> batch_size) {
  auto core = lock();
  // The cursor reads the reply itself (Cursor checks ok and the batch).
  auto op = ops::single_command<bson::Document>(
      ops::OperationKind::kRead, ns.db,
      wire::make_get_more(ns.db, ns.collection, cursor_id, batch_size), ops::KeepReply{});
  return execute_on(*core, server_, op).result;
}

void ServerCursorChannel::kill_now(const Namespace& ns, std::int64_t cursor_id) {
  auto core = lock();
  auto op = ops::single_command<wire::KillCursorsReply>(
      ops::OperationKind::kRead, ns.db,
      wire::make_kill_cursors(ns.db, ns.collection, {&cursor_id, 1}),
      [](const bson::Document& reply) { return wire::parse_kill_cursors_reply(reply.view()); });
  execute_on(*core, server_, op, core->kill_deadline());
}

}  // namespace mongoslice
