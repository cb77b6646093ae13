#pragma once
// The asynchronous engine's connections to one server: AsyncConnections, each opened on the
// executor of the operation that needed it and reused only by operations on that same executor.
//
// One pool per engine (DESIGN.md): the blocking engine's ConnectionPool holds Connections
// with their own io_context each, this one Asio sockets on the user's executors; the two cannot
// lend each other a connection. They share everything SDAM looks at through the "twin", the
// server's blocking pool: its generation (a clear() by SDAM makes this pool's older connections
// stale too), its closed state (the topology removed the server, or the client closed), and its
// establishment error handler (a failed connect or handshake reaches SDAM the same way), and
// its paused state: a checkout while the twin is paused (CMAP: created paused, cleared after an
// error, ready once a check succeeds) fails with errc::pool_cleared. A checkout already waiting
// here sees the pause when it is next woken (a connection back, a slot free, its deadline). This
// pool publishes no CMAP events (not yet).
//
//   AsyncConnectionPool::Lease lease = co_await pool->checkout(executor, deadline);
//   bson::Document reply = co_await lease->run_command(...);
//   // the lease's destructor returns the connection, or closes it if it broke or is stale
//
// At most max_size connections exist at once (PoolOptions::max_size; 0: no limit), and at most
// max_connecting (CMAP's maxConnecting, 2 by default) are being connected at once; an operation
// beyond either waits, without a thread, for a connection to come back or an establishment to
// end, until waitQueueTimeoutMS or its own deadline (errc::pool_timeout / errc::timeout), its
// cancellation, or close(). So a burst of operations on a cold pool opens its connections two
// at a time, and the burst's memory is that of the waits, not of a thousand handshakes at once.
//
// close() (the client's close()) refuses new checkouts with errc::client_closed, wakes every
// waiter, and closes every connection checked out on its own executor (posted there), so that
// the operations using them fail at once. It waits for none of them.
//
// A client may outlive the io_context its operations ran on: each context the pool parks idle
// connections of gets an AsyncContextGuard service, whose shutdown (the io_context's destruction
// or shutdown) frees them while the context can still take their sockets back.
//
// Thread-safety: every member may be called from any thread; a Lease and its connection belong
// to one coroutine at a time. Like any Asio object, a connection is used on one executor at a
// time: operations sharing a multi-threaded io_context need a strand each.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <vector>

#include "net/async_connection.hpp"
#include "net/connection_pool.hpp"
#include "net/deadline.hpp"

namespace mongoslice {

class AsyncConnectionPool : public std::enable_shared_from_this<AsyncConnectionPool> {
 public:
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease() { give_back(false); }

    AsyncConnection& operator*() const noexcept { return *connection_; }
    AsyncConnection* operator->() const noexcept { return connection_.get(); }
    explicit operator bool() const noexcept { return connection_ != nullptr; }
    // Closes the connection instead of returning it.
    void discard() noexcept { give_back(true); }
    std::uint64_t generation() const noexcept { return generation_; }

   private:
    friend class AsyncConnectionPool;
    Lease(std::shared_ptr<AsyncConnectionPool> pool, std::shared_ptr<AsyncConnection> connection,
          std::uint64_t generation) noexcept
        : pool_(std::move(pool)), connection_(std::move(connection)), generation_(generation) {}
    void give_back(bool discard) noexcept;

    std::shared_ptr<AsyncConnectionPool> pool_;
    std::shared_ptr<AsyncConnection> connection_;
    std::uint64_t generation_ = 0;
  };

  static std::shared_ptr<AsyncConnectionPool> create(std::shared_ptr<ConnectionPool> twin);
  AsyncConnectionPool(std::shared_ptr<ConnectionPool> twin);

  // An idle connection opened on `executor`'s execution context, else a new one (connected and
  // handshaken on `executor`) when under max_size, else the first to come back. `limit` bounds the
  // whole of it. Throws Error(errc::client_closed) after close() or once the twin is closed,
  // errc::pool_cleared while the twin is paused, errc::pool_timeout, errc::timeout (naming
  // `limit`), the cancellation error (net/async_connection.hpp), and what a new connection's
  // connect and handshake throw.
  boost::asio::awaitable<Lease> checkout(boost::asio::any_io_executor executor,
                                         std::optional<Deadline> limit = std::nullopt);
  // checkout() as an Asio asynchronous operation completing with (std::exception_ptr, Lease),
  // without a coroutine: awaited with boost::asio::deferred (as the engine does), a checkout
  // waiting in the queue is only this operation's state, held by its timer's pending wait, and
  // the pool's Waiter. A connection of its own is still established by a coroutine (establish).
  template <typename Token>
  auto async_checkout(boost::asio::any_io_executor executor, Token&& token) {
    // The initiation holds only the pool and the executor until it runs: a deferred operation
    // is kept, twice, in the frame of the coroutine that awaits it.
    return boost::asio::async_initiate<Token, void(std::exception_ptr, Lease)>(
        InitiateCheckout{shared_from_this()}, token, std::move(executor));
  }
  template <typename Token>
  auto async_checkout(boost::asio::any_io_executor executor, std::optional<Deadline> limit,
                      Token&& token) {
    return boost::asio::async_initiate<Token, void(std::exception_ptr, Lease)>(
        InitiateCheckout{shared_from_this()}, token, std::move(executor), std::move(limit));
  }
  // checkout()'s first step without a coroutine: an idle connection of `executor`'s context, or
  // an empty optional when there is none (checkout() would connect or wait). Throws
  // Error(errc::client_closed) as checkout() does. The engine's fast path: an operation that
  // finds a connection at once starts no checkout operation.
  std::optional<Lease> try_checkout(const boost::asio::any_io_executor& executor);

  void close() noexcept;
  // Closes and frees every idle connection of `context`: its io_context is shutting down, and
  // a socket must not outlive the context it was made on (AsyncContextGuard calls this).
  void drop_idle_of(const boost::asio::execution_context& context) noexcept;

  const HostAndPort& address() const noexcept { return address_; }
  // Whether `twin` is the blocking pool this one shares its generation with.
  bool serves(const std::shared_ptr<ConnectionPool>& twin) const noexcept {
    return !twin_.owner_before(twin) && !twin.owner_before(twin_);
  }
  // For tests and diagnostics.
  std::size_t idle_count() const;
  std::size_t total_count() const;  // idle + checked out + being connected
  std::size_t waiter_count() const;
  std::size_t connecting_count() const;  // being connected now

 private:
  struct Idle {
    std::shared_ptr<AsyncConnection> connection;
    std::uint64_t generation;
  };
  struct Waiter;  // one checkout in the queue (defined in the .cpp)

  // What checkout does next: take `lease`, establish a new connection (a slot and a
  // maxConnecting turn are reserved for it), or neither: wait, `waiter` listed.
  struct Next {
    std::optional<Lease> lease;
    bool establish = false;
    std::uint64_t generation = 0;
  };
  // The steps of async_checkout: look (next_step); take the lease, establish one, or wait on the
  // Waiter's timer, which a wake cancels; look again when woken.
  struct CheckoutOp {
    CheckoutOp(std::shared_ptr<AsyncConnectionPool> p, boost::asio::any_io_executor e,
               std::optional<Deadline> l);
    CheckoutOp(CheckoutOp&&) noexcept = default;
    CheckoutOp& operator=(CheckoutOp&&) = delete;
    // A checkout destroyed without completing (its io_context destroyed) leaves the queue too.
    ~CheckoutOp() { leave_queue(); }

    template <typename Self>
    void operator()(Self& self) {
      step(self, nullptr);
    }
    template <typename Self>
    void operator()(Self& self, boost::system::error_code waited) {
      step(self, &waited);
    }
    template <typename Self>
    void operator()(Self& self, std::exception_ptr failure, Lease lease) {
      leave_queue();
      self.complete(std::move(failure), std::move(lease));
    }
    template <typename Self>
    void step(Self& self, const boost::system::error_code* waited) {
      std::exception_ptr failure;
      // A wake and the user's cancellation can end the same wait (each cancels the timer): the
      // wait's error code cannot tell them apart, the cancellation state can.
      const bool cancelled =
          waited != nullptr && self.cancelled() != boost::asio::cancellation_type::none;
      Next next = pool->checkout_step(*this, waited, cancelled, failure);
      if (failure || next.lease) {
        leave_queue();
        self.complete(std::move(failure), next.lease ? std::move(*next.lease) : Lease());
        return;
      }
      if (next.establish) {
        // Copied first: `self` (this object with it) is moved into the completion.
        boost::asio::any_io_executor on = executor;
        auto establishing = pool->establish(on, next.generation, limit);
        boost::asio::co_spawn(on, std::move(establishing), std::move(self));
        return;
      }
      boost::asio::steady_timer& timer = timer_of(*waiter);
      timer.async_wait(std::move(self));
    }
    // Takes the waiter off the queue; a wake it got and did not use passes to the next waiter.
    void leave_queue() noexcept;

    std::shared_ptr<AsyncConnectionPool> pool;  // empty once moved from
    boost::asio::any_io_executor executor;
    std::optional<Deadline> limit;
    Deadline wait_deadline;          // waitQueueTimeoutMS from the start, or `limit` if earlier
    bool pool_timeout = true;        // whether wait_deadline is waitQueueTimeoutMS's
    std::shared_ptr<Waiter> waiter;  // made when it first has to wait
  };
  struct InitiateCheckout {
    std::shared_ptr<AsyncConnectionPool> pool;
    template <typename Handler>
    void operator()(Handler&& handler, boost::asio::any_io_executor executor,
                    std::optional<Deadline> limit = std::nullopt) const {
      boost::asio::async_compose<std::decay_t<Handler>, void(std::exception_ptr, Lease)>(
          CheckoutOp(pool, std::move(executor), std::move(limit)), handler);
    }
  };

  void give_back(std::shared_ptr<AsyncConnection> connection, std::uint64_t generation,
                 bool discard) noexcept;
  // Under mutex_: closes the idle connections that are stale (older generation) or broken, and
  // takes the most recently returned one of `context`, if any.
  std::optional<Lease> take_idle_locked(const boost::asio::execution_context& context,
                                        std::uint64_t generation);
  Next next_step(const boost::asio::any_io_executor& executor, const Deadline& wait_deadline,
                 std::shared_ptr<Waiter>& waiter);
  // One step of CheckoutOp: after a wait (`waited`: how the timer's wait ended) the wait's
  // outcome, then next_step until it gives a lease or an establishment, or the checkout must
  // wait (its waiter listed and not woken yet). A failure goes to `failure`. A `cancelled`
  // checkout fails with the cancellation error even when it was woken too, and leaves the wake
  // for leave_queue() to pass on.
  Next checkout_step(CheckoutOp& op, const boost::system::error_code* waited, bool cancelled,
                     std::exception_ptr& failure) noexcept;
  static boost::asio::steady_timer& timer_of(Waiter& waiter) noexcept;
  void leave_queue_locked(Waiter& waiter) noexcept;
  boost::asio::awaitable<Lease> establish(boost::asio::any_io_executor executor,
                                          std::uint64_t generation, std::optional<Deadline> limit);
  // Under mutex_: wakes the first waiter (a connection or a slot may be free for it).
  void wake_one_locked() noexcept;
  void check_open_locked() const;
  void check_ready_locked(const ConnectionPool& twin) const;  // Error(pool_cleared) if paused
  void add_busy_locked(AsyncConnection& connection) noexcept;
  void forget_busy_locked(AsyncConnection& connection) noexcept;

  const std::weak_ptr<ConnectionPool> twin_;
  const HostAndPort address_;
  const PoolOptions options_;
  // One copy for all of this pool's connections.
  const std::shared_ptr<const ConnectionOptions> connection_options_;
  mutable std::mutex mutex_;
  std::vector<Idle> idle_;  // most recently returned last
  // Connections checked out or being connected, for close(): an intrusive list through
  // AsyncConnection::busy_prev_/busy_next_ (a connection leaves it before it can be freed).
  AsyncConnection* busy_head_ = nullptr;
  std::size_t total_ = 0;
  std::size_t connecting_ = 0;  // of total_, being connected (at most max_connecting)
  std::list<std::shared_ptr<Waiter>> waiters_;  // first come, first woken
  bool closed_ = false;
};

}  // namespace mongoslice
