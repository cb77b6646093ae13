#include "driver/connection_checker.hpp"

#include <utility>

#include "wire/error.hpp"

namespace mongoslice {

ConnectionChecker::ConnectionChecker(HostAndPort address, ConnectionOptions options)
    : address_(std::move(address)),
      options_(std::move(options)),
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
}

CheckResult ConnectionChecker::check() {
  if (interrupt_.interrupted()) {
    throw Error(errc::interrupted, "monitor of " + address_.to_string() + " is closing");
  }
  if (!connection_ || !connection_->is_open()) {
    install(std::make_unique<Connection>(address_, options_));
    connection_->connect();
    return {connection_->hello_reply(), connection_->handshake_rtt()};
  }
  const bson::Document& command = connection_->hello_ok() ? hello_ : legacy_hello_;
  const auto started = SteadyClock::now();
  try {
    auto reply = connection_->run_command("admin", command.view());
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

void ConnectionChecker::reset() noexcept {
  drop();
}

}  // namespace mongoslice
