#pragma once
// A pool of Connections to one server, as the CMAP spec (connection monitoring and pooling)
// describes it. The client engineer codes against acquire / Lease / clear / ready / close.
//
//   auto lease = pool->acquire();          // waits at most wait_timeout for a connection
//   auto reply = lease->run_command(...);
//   // on an error: lease.discard(); topology.handle_application_error(...) with
//   // lease.generation(); the lease's destructor returns the connection (or closes it)
//
// States. A pool starts paused: acquire() fails at once with errc::pool_cleared until ready()
// (the topology calls it when its server's monitor check succeeds). clear() (the server went
// Unknown) bumps a generation and pauses the pool again: every connection made before it, idle
// or checked out, is closed instead of being reused, and every waiting acquire() fails with
// errc::pool_cleared. clear(true) (interruptInUseConnections, after a network timeout) also
// interrupts the connections of older generations that are checked out or being established:
// their operations fail at once with errc::interrupted. close() interrupts every connection
// checked out or being connected, wakes every waiter and refuses further acquires with
// errc::client_closed.
//
// Limits. At most max_size connections exist at once (0: no limit), and at most max_connecting
// of them are being established (connect and handshake, OUTSIDE the pool's lock, so one slow
// server handshake blocks no return and no other acquirer). Waiting acquirers are served in
// the order they arrived (the CMAP wait queue); each waits until wait_timeout or its own
// `limit` (server selection's deadline), whichever comes first.
//
// Waiting sleeps on a futex word rather than a condition variable, so that wake_waiters() needs
// no lock: an OperationInterrupt (net/operation_interrupt.hpp) can break a wait from an
// interrupt hook or the exit handler.
//
// Events. Every CMAP event goes to PoolOptions::events, if set, on the thread where it happens
// and never while the pool's mutex is held. clear_later() lets the topology pause the pool
// inside its own critical section and publish the event after leaving it.
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
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "net/connection.hpp"
#include "net/deadline.hpp"
#include "net/operation_interrupt.hpp"
#include "net/pool_events.hpp"
#include "net/pool_options.hpp"
#include "wire/address.hpp"
#include "wire/error.hpp"

namespace mongoslice {

// Told of a connection that could not be established: the pool generation the attempt began
// in, and the error. Called on the acquiring thread, with no lock of the pool held.
using EstablishmentErrorHandler = std::function<void(std::uint64_t, const std::exception&)>;

// An idle connection in a pool: when it came back (maxIdleTimeMS) and what it is.
struct IdleConnection {
  std::unique_ptr<Connection> connection;
  std::uint64_t generation;
  std::uint64_t id;
  std::chrono::steady_clock::time_point since;
};

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
    // The connection's id in its pool (1, 2, ... in the order they were created).
    std::uint64_t connection_id() const noexcept { return id_; }

   private:
    friend class ConnectionPool;
    Lease(std::shared_ptr<ConnectionPool> pool, std::unique_ptr<Connection> connection,
          std::uint64_t generation, std::uint64_t id) noexcept
        : pool_(std::move(pool)),
          connection_(std::move(connection)),
          generation_(generation),
          id_(id) {}
    void give_back(bool discard) noexcept;

    std::shared_ptr<ConnectionPool> pool_;
    std::unique_ptr<Connection> connection_;
    std::uint64_t generation_ = 0;
    std::uint64_t id_ = 0;
  };

  // What clear_later() took from the pool: the stale idle connections and the PoolCleared event,
  // published (connections closed, events emitted) by publish() or the destructor.
  class PendingClear {
   public:
    PendingClear() = default;
    PendingClear(PendingClear&& other) noexcept = default;
    PendingClear& operator=(PendingClear&& other) noexcept {
      publish();
      pool_ = std::move(other.pool_);
      stale_ = std::move(other.stale_);
      interrupt_in_use_ = other.interrupt_in_use_;
      announce_ = other.announce_;
      announce_ready_ = other.announce_ready_;
      return *this;
    }
    ~PendingClear() { publish(); }
    // True when the clear happened (clear_later's generation still matched).
    explicit operator bool() const noexcept { return pool_ != nullptr; }
    void publish() noexcept;

   private:
    friend class ConnectionPool;
    std::shared_ptr<ConnectionPool> pool_;
    std::vector<IdleConnection> stale_;
    bool interrupt_in_use_ = false;
    bool announce_ = false;        // the pool was ready: PoolCleared is emitted
    bool announce_ready_ = false;  // its PoolReady was still unpublished: emitted first
  };

  // Create through make_shared (leases keep their pool alive). Emits PoolCreated, unless
  // `announce` is false: then the caller (holding a lock of its own) calls publish_created().
  static std::shared_ptr<ConnectionPool> create(HostAndPort address, PoolOptions options,
                                                bool announce = true);
  ConnectionPool(HostAndPort address, PoolOptions options);
  void publish_created() const noexcept { emit(PoolEventKind::kPoolCreated); }
  ~ConnectionPool();

  // An idle connection, or a new one when under max_size (and max_connecting), or the first one
  // returned, in arrival order, within wait_timeout. Throws Error(errc::pool_timeout) when none
  // frees up in time, Error(errc::pool_cleared) while the pool is paused (at once, and when a
  // clear() ends the wait), Error(errc::client_closed) after close(), Error(errc::interrupted)
  // when `interrupt` fires (during the wait or a new connection's connect and handshake); a new
  // connection's connect/handshake errors propagate. `limit`, when given, bounds the whole call
  // as well (the wait and a new connection's connect + handshake): Error(errc::timeout) naming it.
  Lease acquire(OperationInterrupt* interrupt = nullptr, std::optional<Deadline> limit = {});
  // Pauses the pool and bumps its generation (see above). Emits PoolCleared unless the pool
  // was paused already, then ConnectionClosed (stale) for each idle connection.
  void clear(bool interrupt_in_use_connections = false) noexcept;
  // Clears only if the generation is still `generation`: of several errors seen on connections
  // of one generation, only the first clears. True when this call cleared.
  bool clear_if_generation(std::uint64_t generation,
                           bool interrupt_in_use_connections = false) noexcept;
  // clear_if_generation (any generation when none is given) with its events and the closing of
  // the stale connections left to the PendingClear: for a caller holding a lock of its own.
  PendingClear clear_later(std::optional<std::uint64_t> generation,
                           bool interrupt_in_use_connections) noexcept;
  // Lets acquire() hand out connections again. Emits PoolReady unless the pool is ready or
  // closed already.
  void ready() noexcept;
  // ready() with its PoolReady event left to the caller (publish_ready()), for a caller holding
  // a lock of its own. True when the pool was paused and is ready now.
  // The event is published once: by publish_ready(), or earlier by whichever comes first of an
  // acquire() (before its CheckOutStarted), a clear() (before its PoolCleared) and maintain()
  // (before its first ConnectionCreated).
  bool ready_later() noexcept;
  void publish_ready() noexcept;
  // Closes the idle connections (ConnectionClosed, poolClosed), interrupts those in use, then
  // emits PoolClosed. Idempotent.
  void close() noexcept;
  // The pool's background maintenance, run by the thread of driver/pool_maintainer.hpp (the
  // CMAP spec's background thread): closes the idle connections that are stale, broken or idle
  // past maxIdleTimeMS (ConnectionClosed), then, while the pool is ready and holds fewer than
  // min_size connections, establishes new ones and parks them idle, where waiting checkouts
  // take them. Each round reserves what max_connecting allows (the checkouts' establishments
  // counted), at most interrupts.size() slots, announces them (ConnectionCreated) and
  // establishes them at once, on short-lived threads for all but the first; slot i's
  // establishment is published in interrupts[i], and interrupting interrupts.front() stops the
  // rounds (close() breaks every establishment too). An establishment that fails is reported as
  // acquire() reports it (the establishment error handler, ConnectionClosed) and ends the
  // rounds: the next comes with the next wake, so a failing server is not hammered. Returns
  // when the pool next has work without a wake: the earliest maxIdleTimeMS deadline of an idle
  // connection, or none.
  std::optional<SteadyClock::time_point> maintain(
      std::span<OperationInterrupt> interrupts) noexcept;
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
  bool paused() const;  // false once closed
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
  enum class State { kPaused, kReady, kClosed };
  struct Busy {  // checked out or being established
    Connection* connection;
    std::uint64_t generation;
  };
  struct Closing {  // a connection leaving the pool, closed (and announced) outside the lock
    std::unique_ptr<Connection> connection;
    std::uint64_t id;
    ConnectionClosedReason reason;
  };
  // A reserved slot for a connection about to be established.
  struct Reservation {
    std::uint64_t id;
    std::uint64_t generation;
  };

  void give_back(std::unique_ptr<Connection> connection, std::uint64_t generation, std::uint64_t id,
                 bool discard) noexcept;
  void forget_busy_locked(const Connection* connection) noexcept;
  void release_failed_slot(const Connection* connection, bool registered) noexcept;
  Lease connect_new(OperationInterrupt* interrupt, const std::optional<Deadline>& limit,
                    Reservation reservation, SteadyClock::time_point started);
  // Connects and handshakes a reserved slot's connection (registered busy meanwhile, so that
  // close() and clear(true) interrupt it), then emits ConnectionReady and frees the
  // establishing slot. A failure releases the slot, goes to the establishment error handler,
  // emits ConnectionClosed (error) and is rethrown; a close() first releases the slot, emits
  // ConnectionClosed (poolClosed) and returns null. On success the connection is still busy,
  // and with `keep_slot` still counts as establishing (park_established() frees the slot).
  std::unique_ptr<Connection> establish(OperationInterrupt* interrupt,
                                        const std::optional<Deadline>& limit,
                                        const Reservation& reservation, bool keep_slot = false);
  // maintain()'s steps.
  void close_unusable_idle_locked(SteadyClock::time_point now,
                                  std::vector<Closing>& to_close) noexcept;
  void park_established(std::unique_ptr<Connection> connection,
                        const Reservation& reservation) noexcept;
  void abandon_reservation(const Reservation& reservation) noexcept;
  void end_background_pending() noexcept;
  // True when the maintenance has connections to establish (a wake is due).
  bool below_min_size_locked() const noexcept;
  void wake_maintenance() const noexcept;
  void leave_queue_locked(std::uint64_t ticket) noexcept;
  [[noreturn]] void fail_checkout(CheckOutFailedReason reason, SteadyClock::time_point started,
                                  const Error& error);
  void emit(PoolEvent event) const noexcept;
  void emit(PoolEventKind kind, std::uint64_t id = 0) const noexcept;
  void close_all(std::vector<Closing>& closing) const noexcept;
  void close_all(std::vector<IdleConnection>& idle, ConnectionClosedReason reason) const noexcept;

  const HostAndPort address_;
  const PoolOptions options_;
  mutable std::mutex mutex_;
  // Bumped (and its sleepers woken) whenever a waiter should look again: a connection came
  // back or was destroyed, a connection finished establishing, the queue's head left, clear(),
  // close(), wake_waiters().
  std::atomic<std::uint32_t> wait_word_{0};
  std::vector<IdleConnection> idle_;  // most recently returned last (reused first: it is warm)
  // Connections checked out or being connected, so that close() and clear(true) can interrupt
  // them. An entry is removed (under mutex_) before its connection can be destroyed.
  std::vector<Busy> busy_;
  std::size_t total_ = 0;       // idle + busy + reserved slots not yet registered
  std::size_t connecting_ = 0;  // slots being established (<= max_connecting)
  // Of those, the maintenance's (minPoolSize): each comes to the wait queue when ready, so the
  // queue's head waits for it instead of establishing another.
  std::size_t background_pending_ = 0;
  // The wait queue: tickets of the acquire() calls in progress, first come first served.
  std::deque<std::uint64_t> queue_;
  std::uint64_t next_ticket_ = 0;
  std::uint64_t next_connection_id_ = 1;
  std::atomic<std::size_t> operation_count_{0};  // OperationTokens alive
  EstablishmentErrorHandler establishment_error_handler_;
  std::uint64_t generation_ = 0;
  // Connections being established with a generation below this are interrupted when they
  // register (a clear(true) came between their reservation and their registration).
  std::uint64_t interrupt_below_ = 0;
  State state_ = State::kPaused;
  bool ready_unpublished_ = false;  // ready_later() happened, its PoolReady not yet emitted
  bool take_ready_unpublished() noexcept;
  // The fork generation the pool was made in: a fork() child never blocks on mutex_ (a parent
  // thread may have held it at fork time) and never interrupts the parent's connections.
  const std::uint64_t fork_generation_;
};

}  // namespace mongoslice
