#include "driver/kill_cursors_wiring.hpp"

#include <string>

#include "driver/client_core.hpp"
#include "net/connection.hpp"
#include "wire/error.hpp"
#include "wire/log.hpp"

namespace mongoslice {

bson::Document PoolKillCursorsSender::send(const HostAndPort& server, std::string_view db,
                                           bson::View command) {
  return core_.run_on(server, db, command, {}, core_.kill_deadline(), interrupt_);
}

DirectKillCursorsSender::~DirectKillCursorsSender() = default;

bson::Document DirectKillCursorsSender::send(const HostAndPort& server, std::string_view db,
                                             bson::View command) {
  const auto budget =
      std::chrono::duration_cast<std::chrono::milliseconds>(ClientCore::kFinalKillBudget);
  const Deadline deadline{deadline_, budget, "close()'s final kill-cursors budget"};
  if (SteadyClock::now() >= deadline_) {
    throw Error(errc::timeout, "killCursors on " + server.to_string() +
                                   " not sent: close() ran out of its " +
                                   std::to_string(budget.count()) + " ms budget for final kills");
  }
  auto& connection = connections_[server];
  if (!connection) {
    auto options = core_.connection_options(server);
    if (!options) {
      throw Error(errc::network_error,
                  "server " + server.to_string() + " is no longer part of the topology");
    }
    auto fresh = std::make_unique<Connection>(server, *options);
    fresh->connect(deadline);
    connection = std::move(fresh);
  }
  try {
    return core_.run_monitored(*connection, db, command, {},
                               Deadline::earlier(deadline, core_.kill_deadline()));
  } catch (const ServerError&) {
    throw;
  } catch (...) {
    connection.reset();  // broken: a later send to this server connects afresh
    throw;
  }
}

void EventKillCursorsObserver::on_sent(const HostAndPort&, const Namespace&,
                                       std::span<const std::int64_t>, bson::View) noexcept {
  // The command events (started / succeeded with the reply's cursorsKilled, cursorsNotFound,
  // ...) already report it.
}

void EventKillCursorsObserver::on_dropped(const HostAndPort& server, const Namespace& ns,
                                          std::span<const std::int64_t> cursor_ids,
                                          KillDropReason reason, std::string_view detail) noexcept {
  try {
    std::string ns_text = ns.to_string();
    std::string why = std::string(to_string(reason));
    if (!detail.empty()) why += ": " + std::string(detail);
    events_.emit(CursorsDroppedEvent{server, ns_text, cursor_ids, why});
    if (log::enabled(log::component::cursor)) {
      std::string line = "dropped " + std::to_string(cursor_ids.size()) +
                         " cursor id(s) to kill on " + server.to_string() + " " + ns_text + " (" +
                         why + "):";
      for (std::int64_t id : cursor_ids) line += " " + std::to_string(id);
      log::emit(log::component::cursor, log::Level::warning, line);
    }
  } catch (...) {
    // Out of memory while reporting: nothing better to do than to go on.
  }
}

}  // namespace mongoslice
