#pragma once
// An Asio service per execution context that outlives-proofs the asynchronous pools: it lists
// the pools that park idle connections made on its context, and when the context shuts down
// (io_context destroyed or shut down) it has each of them free those connections then, while
// the context's socket and timer services still exist. Services shut down newest first, and this
// one is made (AsyncConnectionPool::checkout) right after the first socket of the context, so it
// runs before the socket service's. Timers made later shut down before it: the operations their
// destruction ends give their connections back while the guard still takes them.

#include <boost/asio/execution_context.hpp>
#include <memory>
#include <mutex>
#include <vector>

namespace mongoslice {

class AsyncConnectionPool;

class AsyncContextGuard final : public boost::asio::execution_context::service {
 public:
  using key_type = AsyncContextGuard;
  static inline boost::asio::execution_context::id id;

  explicit AsyncContextGuard(boost::asio::execution_context& context)
      : boost::asio::execution_context::service(context) {}

  // Idempotent per pool. False once the context has begun to shut down: a connection given back
  // then (its operation's frame destroyed by the shutdown) must be closed, not parked.
  bool watch(const std::shared_ptr<AsyncConnectionPool>& pool);

 private:
  void shutdown() override;

  std::mutex mutex_;
  std::vector<std::weak_ptr<AsyncConnectionPool>> pools_;
  bool shut_down_ = false;
};

}  // namespace mongoslice
