#pragma once
// The background work of a client's connection pools (the CMAP spec's background thread): one
// PeriodicExecutor per Topology, made only when minPoolSize or maxIdleTimeMS is set, that runs
// ConnectionPool::maintain() on each of the topology's pools. It sleeps until a pool wakes it
// (net/pool_maintenance.hpp: ready, a connection gone below minPoolSize, a first idle
// connection) or until the earliest maxIdleTimeMS deadline of an idle connection; with no idle
// connection and nothing to establish it has no timer at all. A client without either option
// has no maintainer and no thread.
//
// close() ends the thread at once, also while it establishes connections (the interrupt hook
// breaks each connect or handshake in progress through its OperationInterrupt; the process's
// exit handler uses the same hook). A pool's establishments of one round run at once, all but
// one on short-lived threads that end with the round. The pools hold the maintainer as their
// PoolMaintenance; it holds them weakly, so a pool the topology dropped is forgotten.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "monitor/periodic_executor.hpp"
#include "net/connection_pool.hpp"
#include "net/operation_interrupt.hpp"
#include "net/pool_maintenance.hpp"

namespace mongoslice {

class PoolMaintainer final : public PoolMaintenance {
 public:
  // A pool's background establishments run at most this many at once (and at most
  // maxConnecting): each has an OperationInterrupt of its own that the interrupt hook, which
  // must not allocate or lock, can reach.
  static constexpr std::size_t kParallelEstablishments = 4;

  // The thread starts with open().
  static std::shared_ptr<PoolMaintainer> create();
  ~PoolMaintainer() override;

  // Maintains `pool` from now on (the pool's options must name this maintainer).
  void add(const std::shared_ptr<ConnectionPool>& pool);
  void open();
  // Ends the thread (and an establishment in progress) at once; join() or the destructor
  // waits for it.
  void close() noexcept;
  bool join(std::chrono::milliseconds timeout) { return executor_->join(timeout); }

  void wake() noexcept override { executor_->wake(); }
  std::uint64_t runs() const noexcept { return executor_->runs(); }

  struct State;  // shared with the thread, which must not touch the maintainer itself

 private:
  PoolMaintainer() = default;
  std::shared_ptr<State> state_;
  std::shared_ptr<PeriodicExecutor> executor_;
};

}  // namespace mongoslice
