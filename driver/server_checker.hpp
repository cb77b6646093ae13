#pragma once
// The ServerChecker a Monitor uses in production: its own Connection to the server (operations
// never use it), connected and handshaken on the first check and after each failure, then one
// `hello` per check. A check's round trip is bounded by connectTimeoutMS, as the Server
// Monitoring spec asks of monitoring sockets.

#include <atomic>
#include <memory>

#include "driver/connection.hpp"
#include "monitor/server_checker.hpp"
#include "wire/address.hpp"

namespace mongoslice {

class ConnectionChecker final : public ServerChecker {
 public:
  ConnectionChecker(HostAndPort address, ConnectionOptions options);
  ~ConnectionChecker() override;

  CheckResult check() override;
  void interrupt() noexcept override;
  void reset() noexcept override;

 private:
  void install(std::unique_ptr<Connection> connection);
  void drop() noexcept;

  HostAndPort address_;
  ConnectionOptions options_;
  // Built here, on the owner's thread: a function-local static would be destroyed during static
  // destruction while a monitor thread might still use it.
  const bson::Document hello_;
  // The monitor thread owns connection_; interrupt() reaches it through current_. Protocol: the
  // interrupter sets interrupted_, counts itself in interrupters_, then reads current_; the owner
  // publishes current_, then reads interrupted_. With sequentially consistent atomics one side
  // always sees the other. drop() unpublishes and waits for interrupters_ to reach 0 (a few
  // instructions) before destroying the connection.
  std::unique_ptr<Connection> connection_;
  std::atomic<Connection*> current_{nullptr};
  std::atomic<bool> interrupted_{false};
  std::atomic<int> interrupters_{0};
};

}  // namespace mongoslice
