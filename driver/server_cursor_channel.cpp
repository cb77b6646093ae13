#include "driver/server_cursor_channel.hpp"

#include "driver/async_engine.hpp"
#include "driver/client_core.hpp"
#include "driver/operation_engine.hpp"
#include "ops/commands.hpp"
#include "ops/cursor_operations.hpp"
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
  return get_more_with(ns, cursor_id, GetMoreFields{.batch_size = batch_size});
}

bson::Document ServerCursorChannel::get_more_with(const Namespace& ns, std::int64_t cursor_id,
                                                  const GetMoreFields& fields) {
  auto core = lock();
  // The cursor reads the reply itself (Cursor checks ok and the batch).
  ops::GetMoreOperation op(
      ns.db, ns.collection, cursor_id,
      wire::GetMoreCommand{fields.batch_size, fields.max_time_ms, fields.comment, fields.lsid});
  return execute_on(*core, server_, op).result;
}

boost::asio::awaitable<bson::Document> ServerCursorChannel::co_get_more(const Namespace& ns,
                                                                        std::int64_t cursor_id,
                                                                        GetMoreFields fields) {
  auto core = lock();
  ops::GetMoreOperation op(
      ns.db, ns.collection, cursor_id,
      wire::GetMoreCommand{fields.batch_size, fields.max_time_ms, fields.comment, fields.lsid});
  co_return (co_await co_execute_on(core, server_, op)).result;
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
