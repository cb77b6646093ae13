#include "driver/server_cursor_channel.hpp"

#include "driver/client_core.hpp"
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
  auto command = wire::make_get_more(ns.db, ns.collection, cursor_id, batch_size);
  return core->run_on(server_, ns.db, command);
}

void ServerCursorChannel::kill_now(const Namespace& ns, std::int64_t cursor_id) {
  auto core = lock();
  auto command = wire::make_kill_cursors(ns.db, ns.collection, {&cursor_id, 1});
  core->run_on(server_, ns.db, command, {}, core->kill_deadline());
}

}  // namespace mongoslice
