#pragma once
// A pool of Connections to one server (the client engineer codes against acquire / Lease /
// clear / close / address).
//
//   auto lease = pool->acquire();          // waits at most wait_timeout for a free connection
//   auto reply = lease->run_command(...);
//   // on an error: lease.discard(); topology.handle_application_error(...) with
//   // lease.generation(); the lease's destructor returns the connection (or closes it)
//
// At most max_size connections exist at once (0: no limit). A new connection connects and
// handshakes OUTSIDE the pool's lock, so one slow server handshake does not block returns or
// other acquirers. clear() (the server's monitor or an operation saw a network error) bumps a
// generation: every connection made before it, idle or checked out, is closed instead of being
// reused. close() clears, interrupts every connection checked out or being connected (their
// operations fail at once with errc::interrupted), wakes every waiter and refuses further
// acquires with errc::client_closed.
//
// Waiting for a free connection sleeps on a futex word rather than a condition variable, so that
// wake_waiters() needs no lock: an OperationInterrupt (net/operation_interrupt.hpp) can break
// a wait from an interrupt hook or the exit handler.
//
// A failure to establish a new connection (connect, handshake) is reported to the
// EstablishmentErrorHandler, if one is set, with the pool generation the attempt began in, before
// acquire() rethrows it: SDAM judges such errors apart from those of operations (the topology
// sets the handler; driver/topology.cpp).
//
// Thread-safety: every member may be called from any thread. A Lease belongs to one thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "net/connection.hpp"
#include "net/deadline.hpp"
#include "net/operation_interrupt.hpp"
#include "wire/address.hpp"

namespace mongoslice {

struct PoolOptions {
  std::uint32_t max_size = 100;  // maxPoolSize; 0 means no limit
  // maxConnecting (CMAP): at most this many connections being established at once (at least
  // 1); the other checkouts that need a new one wait for one of those, or for a connection to
  // come back. The async pool keeps to it (net/async_connection_pool.hpp).
  std::uint32_t max_connecting = 2;
  std::chrono::milliseconds wait_timeout{30'000};  // waitQueueTimeoutMS (~serverSelectionTimeoutMS)
  ConnectionOptions connection;                    // for every connection the pool opens
  // Where to connect for the pool's server, when not at its address itself (tests: a scripted
  // server on loopback standing in for "a:27017"). The connections keep that endpoint as their
  // address; the pool keeps the server's.
  std::optional<HostAndPort> connect_to;
};

// Told of a connection that could not be established: the pool generation the attempt began
// in, and the error. Called on the acquiring thread, with no lock of the pool held.
using EstablishmentErrorHandler = std::function<void(std::uint64_t, const std::exception&)>;

class ConnectionPool : public std::enable_shared_from_this<ConnectionPool> {
 public:
  // RAII loan of one connection; returns it to the pool on destruction, or closes it when it
  // was discarded, is broken (!is_open()) or is stale (made before a clear()).
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease();

    Connection& operator*() const noexcept { return *connection_; }
    Connection* operator->() const noexcept { return connection_.get(); }
    explicit operator bool() const noexcept { return connection_ != nullptr; }
    // Closes the connection instead of returning it (after an error on it). The lease is empty
    // afterwards.
    void discard() noexcept;
    // The pool generation the connection was made in (SDAM ignores errors of older ones).
    std::uint64_t generation() const noexcept { return generation_; }

   private:
    friend class ConnectionPool;
    Lease(std::shared_ptr<ConnectionPool> pool, std::unique_ptr<Connection> connection,
          std::uint64_t generation) noexcept
        : pool_(std::move(pool)), connection_(std::move(connection)), generation_(generation) {}
    void give_back(bool discard) noexcept;

    std::shared_ptr<ConnectionPool> pool_;
    std::unique_ptr<Connection> connection_;
    std::uint64_t generation_ = 0;
  };

  // Create through make_shared (leases keep their pool alive).
  static std::shared_ptr<ConnectionPool> create(HostAndPort address, PoolOptions options);
  ConnectionPool(HostAndPort address, PoolOptions options);
  ~ConnectionPool();

  // An idle connection, or a new one when under max_size, or the first one returned within
  // wait_timeout. Throws Error(errc::pool_timeout) when none frees up in time,
  // Error(errc::client_closed) after close(), Error(errc::interrupted) when `interrupt` fires
  // (during the wait or a new connection's connect and handshake); a new connection's
  // connect/handshake errors propagate. `limit`, when given, bounds the whole call as well
  // (the wait and a new connection's connect + handshake): Error(errc::timeout) naming it.
  Lease acquire(OperationInterrupt* interrupt = nullptr, std::optional<Deadline> limit = {});
  void clear() noexcept;
  // Clears only if the generation is still `generation`: of several errors seen on connections
  // of one generation, only the first clears. True when this call cleared.
  bool clear_if_generation(std::uint64_t generation) noexcept;
  void close() noexcept;
  // Set once, before the pool is used.
  void set_establishment_error_handler(EstablishmentErrorHandler handler) {
    establishment_error_handler_ = std::move(handler);
  }
  // Wakes every thread waiting in acquire() so that it re-checks (its interrupt, the pool's
  // state). Lock-free and allocation-free.
  void wake_waiters() noexcept;

  const HostAndPort& address() const noexcept { return address_; }
  const PoolOptions& options() const noexcept { return options_; }
  // For tests and diagnostics.
  std::size_t idle_count() const;
  std::size_t total_count() const;  // idle + checked out + being connected
  std::uint64_t generation() const;
  bool closed() const;
  // Tells the establishment error handler (if set) of a connection the asynchronous engine's
  // pool for this server could not establish, as acquire() does for its own: one SDAM input for
  // both engines. Called with no lock held.
  void report_establishment_error(std::uint64_t generation, const std::exception& error) const {
    if (establishment_error_handler_) establishment_error_handler_(generation, error);
  }
  // The server-selection spec's operationCount: operations that selected this server and have
  // not finished, counted from the selection on (so an operation still waiting for a connection,
  // or for a new connection's handshake, counts). An OperationToken is one of them.
  class OperationToken {
   public:
    OperationToken() = default;
    OperationToken(OperationToken&& other) noexcept = default;
    OperationToken& operator=(OperationToken&& other) noexcept {
      end();
      pool_ = std::move(other.pool_);
      return *this;
    }
    ~OperationToken() { end(); }

   private:
    friend class ConnectionPool;
    explicit OperationToken(std::shared_ptr<ConnectionPool> pool) noexcept
        : pool_(std::move(pool)) {}
    void end() noexcept {
      if (pool_) pool_->operation_count_.fetch_sub(1, std::memory_order_relaxed);
      pool_.reset();
    }
    std::shared_ptr<ConnectionPool> pool_;
  };
  OperationToken begin_operation() {
    operation_count_.fetch_add(1, std::memory_order_relaxed);
    return OperationToken(shared_from_this());
  }
  std::size_t operation_count() const noexcept {
    return operation_count_.load(std::memory_order_relaxed);
  }

 private:
  struct Idle {
    std::unique_ptr<Connection> connection;
    std::uint64_t generation;
  };
  void give_back(std::unique_ptr<Connection> connection, std::uint64_t generation,
                 bool discard) noexcept;
  void forget_busy_locked(const Connection* connection) noexcept;
  void release_failed_slot(const Connection* connection, bool registered) noexcept;
  bool clear_if(std::optional<std::uint64_t> generation) noexcept;
  std::unique_ptr<Connection> connect_new(OperationInterrupt* interrupt,
                                          const std::optional<Deadline>& limit,
                                          std::uint64_t generation);

  const HostAndPort address_;
  const PoolOptions options_;
  mutable std::mutex mutex_;
  // Bumped (and its sleepers woken) whenever a waiter should look again: a connection came
  // back or was destroyed, clear(), close(), wake_waiters().
  std::atomic<std::uint32_t> wait_word_{0};
  std::vector<Idle> idle_;  // most recently returned last (reused first: it is warm)
  // Connections checked out or being connected, so that close() can interrupt them. An entry
  // is removed (under mutex_) before its connection can be destroyed.
  std::vector<Connection*> busy_;
  std::size_t total_ = 0;
  std::atomic<std::size_t> operation_count_{0};  // OperationTokens alive
  EstablishmentErrorHandler establishment_error_handler_;
  std::uint64_t generation_ = 0;
  bool closed_ = false;
  // The fork generation the pool was made in: a fork() child never blocks on mutex_ (a parent
  // thread may have held it at fork time) and never interrupts the parent's connections.
  const std::uint64_t fork_generation_;
};

}  // namespace mongoslice
