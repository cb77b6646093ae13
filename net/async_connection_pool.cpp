#include "net/async_connection_pool.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <exception>

#include "net/async_context_guard.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace asio = boost::asio;

namespace {

asio::execution_context& context_of(const asio::any_io_executor& executor) noexcept {
  return asio::query(executor, asio::execution::context);
}

}  // namespace

bool AsyncContextGuard::watch(const std::shared_ptr<AsyncConnectionPool>& pool) {
  std::lock_guard lock(mutex_);
  if (shut_down_) return false;
  for (const auto& watched : pools_) {
    if (!watched.owner_before(pool) && !pool.owner_before(watched)) return true;
  }
  std::erase_if(pools_, [](const auto& watched) { return watched.expired(); });
  pools_.push_back(pool);
  return true;
}

void AsyncContextGuard::shutdown() {
  std::vector<std::weak_ptr<AsyncConnectionPool>> pools;
  {
    std::lock_guard lock(mutex_);
    shut_down_ = true;
    pools.swap(pools_);
  }
  for (const auto& weak : pools) {
    if (auto pool = weak.lock()) pool->drop_idle_of(context());
  }
}

// One checkout in the queue. Its timer expires at the checkout's wait deadline; a wake sets
// `woken` and cancels the timer's wait (posted to the timer's executor, the only place the timer
// is touched), so the checkout looks again. `waiting` says, under `mutex`, that a wait is pending
// for the wake to cancel.
struct AsyncConnectionPool::Waiter {
  explicit Waiter(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;
  std::mutex mutex;
  bool woken = false;
  bool waiting = false;
  // Under the pool's mutex: whether it is on waiters_, and where.
  bool listed = false;
  std::list<std::shared_ptr<Waiter>>::iterator position;
};

AsyncConnectionPool::Lease& AsyncConnectionPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    give_back(false);
    pool_ = std::move(other.pool_);
    connection_ = std::move(other.connection_);
    generation_ = other.generation_;
  }
  return *this;
}

void AsyncConnectionPool::Lease::give_back(bool discard) noexcept {
  if (!connection_) return;
  if (pool_) pool_->give_back(std::move(connection_), generation_, discard);
  connection_.reset();
  pool_.reset();
}

std::shared_ptr<AsyncConnectionPool> AsyncConnectionPool::create(
    std::shared_ptr<ConnectionPool> twin) {
  return std::make_shared<AsyncConnectionPool>(std::move(twin));
}

AsyncConnectionPool::AsyncConnectionPool(std::shared_ptr<ConnectionPool> twin)
    : twin_(twin),
      address_(twin->address()),
      options_(twin->options()),
      connection_options_(std::make_shared<const ConnectionOptions>(options_.connection)) {
}

void AsyncConnectionPool::check_open_locked() const {
  auto twin = twin_.lock();
  if (closed_ || !twin || twin->closed()) {
    throw Error(errc::client_closed, "pool of " + address_.to_string() + " closed");
  }
}

void AsyncConnectionPool::check_ready_locked(const ConnectionPool& twin) const {
  // CMAP: nothing is handed out while the server's pool is paused (created paused, cleared
  // after an error, ready once a check succeeds).
  if (twin.paused()) {
    throw Error(errc::pool_cleared,
                "the pool of " + address_.to_string() + " is paused (cleared after an error)");
  }
}

void AsyncConnectionPool::add_busy_locked(AsyncConnection& connection) noexcept {
  connection.busy_ = true;
  connection.busy_prev_ = nullptr;
  connection.busy_next_ = busy_head_;
  if (busy_head_) busy_head_->busy_prev_ = &connection;
  busy_head_ = &connection;
}

void AsyncConnectionPool::forget_busy_locked(AsyncConnection& connection) noexcept {
  if (!connection.busy_) return;
  if (connection.busy_prev_) {
    connection.busy_prev_->busy_next_ = connection.busy_next_;
  } else {
    busy_head_ = connection.busy_next_;
  }
  if (connection.busy_next_) connection.busy_next_->busy_prev_ = connection.busy_prev_;
  connection.busy_prev_ = connection.busy_next_ = nullptr;
  connection.busy_ = false;
}

void AsyncConnectionPool::wake_one_locked() noexcept {
  if (waiters_.empty()) return;
  std::shared_ptr<Waiter> waiter = std::move(waiters_.front());
  waiters_.pop_front();
  waiter->listed = false;
  {
    std::lock_guard lock(waiter->mutex);
    waiter->woken = true;
  }
  try {
    asio::post(waiter->timer.get_executor(), [waiter] {
      // Not when the wake was used already (the checkout resumed at its deadline and looked):
      // this cancel would then break the checkout's next wait.
      std::lock_guard lock(waiter->mutex);
      if (waiter->waiting && waiter->woken) waiter->timer.cancel();
    });
  } catch (...) {
    // Posting allocates; without memory the waiter finds out at its deadline instead.
  }
}

std::optional<AsyncConnectionPool::Lease> AsyncConnectionPool::take_idle_locked(
    const asio::execution_context& context, std::uint64_t generation) {
  for (std::size_t i = idle_.size(); i-- > 0;) {
    Idle& idle = idle_[i];
    if (idle.generation != generation || !idle.connection->is_open()) {
      idle.connection->close();
      idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(i));
      --total_;
      continue;
    }
    if (&context_of(idle.connection->executor()) != &context) continue;
    Lease lease(shared_from_this(), std::move(idle.connection), idle.generation);
    idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(i));
    add_busy_locked(*lease.connection_);
    return lease;
  }
  return std::nullopt;
}

std::optional<AsyncConnectionPool::Lease> AsyncConnectionPool::try_checkout(
    const asio::any_io_executor& executor) {
  const std::shared_ptr<ConnectionPool> twin = twin_.lock();
  std::lock_guard lock(mutex_);
  check_open_locked();  // throws when the twin is gone
  check_ready_locked(*twin);
  return take_idle_locked(context_of(executor), twin->generation());
}

asio::awaitable<AsyncConnectionPool::Lease> AsyncConnectionPool::checkout(
    asio::any_io_executor executor, std::optional<Deadline> limit) {
  return async_checkout(std::move(executor), std::move(limit), asio::use_awaitable);
}

AsyncConnectionPool::CheckoutOp::CheckoutOp(std::shared_ptr<AsyncConnectionPool> p,
                                            asio::any_io_executor e, std::optional<Deadline> l)
    : pool(std::move(p)), executor(std::move(e)), limit(std::move(l)) {
  const Deadline pool_deadline = Deadline::after(pool->options_.wait_timeout, "waitQueueTimeoutMS");
  wait_deadline = limit ? Deadline::earlier(pool_deadline, *limit) : pool_deadline;
  pool_timeout = wait_deadline.source == pool_deadline.source;
}

void AsyncConnectionPool::CheckoutOp::leave_queue() noexcept {
  if (!pool || !waiter) return;
  {
    std::lock_guard lock(pool->mutex_);
    pool->leave_queue_locked(*waiter);
  }
  waiter.reset();
}

void AsyncConnectionPool::leave_queue_locked(Waiter& waiter) noexcept {
  if (waiter.listed) {
    waiters_.erase(waiter.position);
    waiter.listed = false;
    return;
  }
  // Woken but leaving without looking (its deadline, a cancellation, its io_context destroyed):
  // the wake meant a connection or a slot is free, so it passes to the next waiter.
  bool woken = false;
  {
    std::lock_guard waiter_lock(waiter.mutex);
    woken = std::exchange(waiter.woken, false);
  }
  if (woken) wake_one_locked();
}

asio::steady_timer& AsyncConnectionPool::timer_of(Waiter& waiter) noexcept {
  return waiter.timer;
}

AsyncConnectionPool::Next AsyncConnectionPool::checkout_step(
    CheckoutOp& op, const boost::system::error_code* waited, bool cancelled,
    std::exception_ptr& failure) noexcept {
  try {
    if (waited) {
      bool woken = false;
      {
        std::lock_guard lock(op.waiter->mutex);
        op.waiter->waiting = false;
        // A cancelled checkout leaves a wake it got set: leave_queue() passes it on.
        if (!cancelled) woken = std::exchange(op.waiter->woken, false);
      }
      if (!woken) {
        const Deadline& deadline = op.wait_deadline;
        if (cancelled || *waited) {
          throw cancelled_error("waiting for a connection to " + address_.to_string());
        }
        if (op.pool_timeout) {
          throw Error(errc::pool_timeout,
                      "no connection to " + address_.to_string() + " came free within " +
                          std::to_string(deadline.budget.count()) + " ms (waitQueueTimeoutMS)");
        }
        throw Error(errc::timeout, "waiting for a connection to " + address_.to_string() +
                                       " timed out after " +
                                       std::to_string(deadline.budget.count()) + " ms (" +
                                       std::string(deadline.source) + ")");
      }
    }
    for (;;) {
      Next next = next_step(op.executor, op.wait_deadline, op.waiter);
      if (next.lease || next.establish) return next;
      // Listed: wait, unless a wake came in the meantime (then look again at once).
      std::lock_guard lock(op.waiter->mutex);
      if (std::exchange(op.waiter->woken, false)) continue;
      op.waiter->waiting = true;
      return next;
    }
  } catch (...) {
    failure = std::current_exception();
  }
  return {};
}

AsyncConnectionPool::Next AsyncConnectionPool::next_step(const asio::any_io_executor& executor,
                                                         const Deadline& wait_deadline,
                                                         std::shared_ptr<Waiter>& waiter) {
  const asio::execution_context& context = context_of(executor);
  const std::shared_ptr<ConnectionPool> twin = twin_.lock();
  std::lock_guard lock(mutex_);
  check_open_locked();  // throws when the twin is gone
  check_ready_locked(*twin);
  Next next;
  next.generation = twin->generation();
  next.lease = take_idle_locked(context, next.generation);
  if (next.lease) return next;
  const bool slot_free = options_.max_size == 0 || total_ < options_.max_size;
  if (!slot_free && !idle_.empty()) {
    // Every slot is taken and the idle ones belong to other contexts: free one.
    idle_.front().connection->close();
    idle_.erase(idle_.begin());
    --total_;
  }
  const std::size_t max_connecting = std::max<std::uint32_t>(options_.max_connecting, 1);
  if ((options_.max_size == 0 || total_ < options_.max_size) && connecting_ < max_connecting) {
    ++total_;
    ++connecting_;
    next.establish = true;
    return next;
  }
  if (!waiter) {
    waiter = std::make_shared<Waiter>(executor);
    waiter->timer.expires_at(wait_deadline.at ? *wait_deadline.at
                                              : asio::steady_timer::time_point::max());
  }
  if (!waiter->listed) {
    waiters_.push_back(waiter);
    waiter->position = std::prev(waiters_.end());
    waiter->listed = true;
  }
  return next;
}

asio::awaitable<AsyncConnectionPool::Lease> AsyncConnectionPool::establish(
    asio::any_io_executor executor, std::uint64_t generation, std::optional<Deadline> limit) {
  // However this establishment ends (connected, failed, cancelled, an exception before the
  // connect, or the frame destroyed with its io_context), its maxConnecting turn frees and the
  // next waiter looks again; unless it was handed out, its slot (total_) frees too and the
  // connection leaves the busy list before it can be freed.
  struct Establishing {
    AsyncConnectionPool* pool;
    // On the busy list; held, so that it is unlinked before it can be freed (the frame's locals
    // are destroyed before this guard).
    std::shared_ptr<AsyncConnection> linked;
    bool handed_out = false;
    ~Establishing() {
      std::lock_guard lock(pool->mutex_);
      --pool->connecting_;
      if (!handed_out) {
        if (linked) pool->forget_busy_locked(*linked);
        --pool->total_;
      }
      pool->wake_one_locked();
    }
  } establishing{this};
  const HostAndPort& target = options_.connect_to ? *options_.connect_to : address_;
  auto connection = std::make_shared<AsyncConnection>(executor, target, connection_options_);
  // The guard exists before anything of this connection can be parked (see
  // net/async_context_guard.hpp for why it must come right after the socket).
  asio::use_service<AsyncContextGuard>(context_of(connection->executor()));
  {
    std::lock_guard lock(mutex_);
    add_busy_locked(*connection);
    establishing.linked = connection;
  }
  std::exception_ptr failure;
  try {
    co_await connection->connect(limit);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const Error& e) {
      // Cancellation and close are ours, not the server's: SDAM does not hear of them.
      const bool ours = e.code().value() == ECANCELED || e.code() == errc::client_closed;
      if (auto twin = twin_.lock(); twin && !ours) twin->report_establishment_error(generation, e);
    } catch (const std::exception& e) {
      if (auto twin = twin_.lock()) twin->report_establishment_error(generation, e);
    }
    std::rethrow_exception(failure);
  }
  establishing.handed_out = true;
  co_return Lease(shared_from_this(), std::move(connection), generation);
}

void AsyncConnectionPool::give_back(std::shared_ptr<AsyncConnection> connection,
                                    std::uint64_t generation, bool discard) noexcept {
  // A connection is parked only where its context's guard will free it. Asked before mutex_ is
  // taken: the guard calls drop_idle_of (which takes mutex_) without its own lock held, so the
  // two locks are never held together.
  bool watched = false;
  if (!discard && connection->is_open()) {
    try {
      watched = asio::use_service<AsyncContextGuard>(context_of(connection->executor()))
                    .watch(shared_from_this());
    } catch (...) {
      // Without memory for the guard's list the connection is closed instead of parked.
    }
  }
  std::lock_guard lock(mutex_);
  forget_busy_locked(*connection);
  auto twin = twin_.lock();
  bool park = watched && !closed_ && twin && !twin->closed() && generation == twin->generation();
  if (park) {
    try {
      idle_.push_back({connection, generation});
    } catch (...) {
      park = false;
    }
  }
  if (!park) {
    connection->close();
    --total_;
  }
  wake_one_locked();
}

void AsyncConnectionPool::drop_idle_of(const asio::execution_context& context) noexcept {
  std::vector<std::shared_ptr<AsyncConnection>> dropped;
  std::lock_guard lock(mutex_);
  for (std::size_t i = idle_.size(); i-- > 0;) {
    if (&context_of(idle_[i].connection->executor()) != &context) continue;
    idle_[i].connection->close();
    dropped.push_back(std::move(idle_[i].connection));
    idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(i));
    --total_;
  }
}

void AsyncConnectionPool::close() noexcept {
  std::vector<std::shared_ptr<AsyncConnection>> idle;
  std::vector<std::weak_ptr<AsyncConnection>> busy;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    for (auto& entry : idle_) idle.push_back(std::move(entry.connection));
    total_ -= idle_.size();
    idle_.clear();
    try {
      for (AsyncConnection* c = busy_head_; c; c = c->busy_next_) {
        busy.push_back(c->weak_from_this());
      }
    } catch (...) {
      // Without memory for the list, the connections in use stay open until their operations
      // end; new checkouts are refused all the same.
    }
    while (!waiters_.empty()) wake_one_locked();
  }
  // Each connection is closed on its own executor: an Asio socket is not to be touched from
  // another thread while an operation on it may be running.
  for (auto& connection : idle) {
    auto executor = connection->executor();
    try {
      asio::post(executor, [connection = std::move(connection)] { connection->close(); });
    } catch (...) {
    }
  }
  for (auto& weak : busy) {
    auto connection = weak.lock();
    if (!connection) continue;
    try {
      asio::post(connection->executor(), [weak] {
        if (auto alive = weak.lock()) alive->close();
      });
    } catch (...) {
    }
  }
}

std::size_t AsyncConnectionPool::idle_count() const {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

std::size_t AsyncConnectionPool::total_count() const {
  std::lock_guard lock(mutex_);
  return total_;
}

std::size_t AsyncConnectionPool::connecting_count() const {
  std::lock_guard lock(mutex_);
  return connecting_;
}

std::size_t AsyncConnectionPool::waiter_count() const {
  std::lock_guard lock(mutex_);
  return waiters_.size();
}

}  // namespace mongoslice
