#include "driver/connection_checker.hpp"

#include <utility>

#include "wire/error.hpp"

namespace mongoslice {

ConnectionChecker::ConnectionChecker(HostAndPort address, ConnectionOptions options,
                                     CheckerOptions checker)
    : address_(std::move(address)),
      options_(std::move(options)),
      checker_options_(checker),
      connect_timeout_(options_.connect_timeout),
      hello_(bson::Builder{}.append("hello", 1).append("helloOk", true).build()),
      legacy_hello_(bson::Builder{}.append("isMaster", 1).append("helloOk", true).build()) {
  // A monitoring round trip must not wait forever: connectTimeoutMS bounds it (0: no limit).
  if (options_.connect_timeout.count() > 0) options_.socket_timeout = options_.connect_timeout;
}

ConnectionChecker::~ConnectionChecker() {
  drop();
}

void ConnectionChecker::install(std::unique_ptr<Connection> connection) {
  drop();
  connection_ = std::move(connection);
  interrupt_.publish(connection_.get());  // interrupts it at once if interrupt() came first
}

void ConnectionChecker::drop() noexcept {
  interrupt_.withdraw();
  connection_.reset();
  topology_version_.reset();
}

bool ConnectionChecker::next_check_awaited() const noexcept {
  if (!connection_ || !connection_->is_open()) return false;  // the next check is a handshake
  return connection_->more_to_come() || topology_version_.has_value();
}

void ConnectionChecker::note_topology_version(bson::View reply) {
  topology_version_.reset();
  if (!checker_options_.streaming) return;
  if (auto version = reply.find("topologyVersion");
      version && version->type() == bson::Type::kDocument) {
    topology_version_.emplace(version->get_document());
  }
}

Deadline ConnectionChecker::streaming_deadline() const {
  // The server may hold an awaitable hello for maxAwaitTimeMS before it answers.
  if (connect_timeout_.count() <= 0) return Deadline::none();
  return Deadline::after(connect_timeout_ + checker_options_.heartbeat_frequency,
                         "connectTimeoutMS + heartbeatFrequencyMS");
}

CheckResult ConnectionChecker::awaited_check() {
  const auto started = SteadyClock::now();
  bson::Document reply;
  try {
    if (connection_->more_to_come()) {
      reply = connection_->receive_more(streaming_deadline());
    } else {
      bson::Builder command;
      command.append(connection_->hello_ok() ? "hello" : "isMaster", 1);
      command.append("topologyVersion", *topology_version_);
      command.append("maxAwaitTimeMS",
                     static_cast<std::int64_t>(checker_options_.heartbeat_frequency.count()));
      const bson::Document awaitable = command.build();
      reply = connection_->run_exhaust_command("admin", awaitable.view(), streaming_deadline());
    }
  } catch (const ServerError&) {
    drop();  // as for a plain hello; and a stream that said ok: 0 is not read further
    throw;
  }
  note_topology_version(reply.view());
  return {std::move(reply), SteadyClock::now() - started, /*awaited=*/true};
}

CheckResult ConnectionChecker::check() {
  if (interrupt_.interrupted()) {
    throw Error(errc::interrupted, "monitor of " + address_.to_string() + " is closing");
  }
  if (!connection_ || !connection_->is_open()) {
    install(std::make_unique<Connection>(address_, options_));
    connection_->connect();
    note_topology_version(connection_->hello_reply().view());
    return {connection_->hello_reply(), connection_->handshake_rtt()};
  }
  if (next_check_awaited()) return awaited_check();
  const bson::Document& command = connection_->hello_ok() ? hello_ : legacy_hello_;
  const auto started = SteadyClock::now();
  try {
    auto reply = connection_->run_command("admin", command.view());
    note_topology_version(reply.view());
    return {std::move(reply), SteadyClock::now() - started};
  } catch (const ServerError&) {
    // ok: 0 is a failed check (Server Monitoring spec): the connection goes with it, although
    // the reply itself was well formed.
    drop();
    throw;
  }
}

void ConnectionChecker::interrupt() noexcept {
  interrupt_.interrupt();
}

void ConnectionChecker::cancel_check() noexcept {
  interrupt_.break_published();
}

void ConnectionChecker::reset() noexcept {
  drop();
}

}  // namespace mongoslice
