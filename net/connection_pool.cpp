#include "net/connection_pool.hpp"

#include <algorithm>
#include <thread>
#include <utility>

#include "net/fork_safe_lock.hpp"
#include "net/futex.hpp"
#include "net/pool_maintenance.hpp"
#include "wire/error.hpp"

namespace mongoslice {

// ---- Lease ------------------------------------------------------------------------------------

ConnectionPool::Lease& ConnectionPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    give_back(false);
    pool_ = std::move(other.pool_);
    connection_ = std::move(other.connection_);
    generation_ = other.generation_;
    id_ = other.id_;
  }
  return *this;
}

ConnectionPool::Lease::~Lease() {
  give_back(false);
}

void ConnectionPool::Lease::discard() noexcept {
  give_back(true);
}

void ConnectionPool::Lease::give_back(bool discard) noexcept {
  if (pool_ && connection_) pool_->give_back(std::move(connection_), generation_, id_, discard);
  connection_.reset();
  pool_.reset();
}

// ---- PendingClear -----------------------------------------------------------------------------

void ConnectionPool::PendingClear::publish() noexcept {
  if (!pool_) return;
  const std::shared_ptr<ConnectionPool> pool = std::move(pool_);
  if (announce_ready_) pool->emit(PoolEventKind::kPoolReady);
  if (announce_) {
    PoolEvent event{PoolEventKind::kPoolCleared, pool->address_, pool->options_};
    event.interrupt_in_use_connections = interrupt_in_use_;
    pool->emit(event);
  }
  pool->close_all(stale_, ConnectionClosedReason::kStale);
}

// ---- ConnectionPool ---------------------------------------------------------------------------

std::shared_ptr<ConnectionPool> ConnectionPool::create(HostAndPort address, PoolOptions options,
                                                       bool announce) {
  auto pool = std::make_shared<ConnectionPool>(std::move(address), std::move(options));
  if (announce) pool->publish_created();
  return pool;
}

ConnectionPool::ConnectionPool(HostAndPort address, PoolOptions options)
    : address_(std::move(address)),
      options_(std::move(options)),
      fork_generation_(current_fork_generation()) {
}

ConnectionPool::~ConnectionPool() = default;

void ConnectionPool::emit(PoolEvent event) const noexcept {
  if (options_.events) options_.events->on_pool_event(event);
}

void ConnectionPool::emit(PoolEventKind kind, std::uint64_t id) const noexcept {
  if (!options_.events) return;
  PoolEvent event{kind, address_, options_};
  event.connection_id = id;
  options_.events->on_pool_event(event);
}

void ConnectionPool::close_all(std::vector<Closing>& closing) const noexcept {
  for (auto& c : closing) {
    c.connection.reset();  // closing a socket is a syscall: never under the lock
    PoolEvent event{PoolEventKind::kConnectionClosed, address_, options_};
    event.connection_id = c.id;
    event.closed_reason = c.reason;
    emit(event);
  }
  closing.clear();
}

void ConnectionPool::close_all(std::vector<IdleConnection>& idle,
                               ConnectionClosedReason reason) const noexcept {
  for (auto& c : idle) {
    c.connection.reset();
    PoolEvent event{PoolEventKind::kConnectionClosed, address_, options_};
    event.connection_id = c.id;
    event.closed_reason = reason;
    emit(event);
  }
  idle.clear();
}

void ConnectionPool::leave_queue_locked(std::uint64_t ticket) noexcept {
  if (auto it = std::find(queue_.begin(), queue_.end(), ticket); it != queue_.end())
    queue_.erase(it);
}

void ConnectionPool::fail_checkout(CheckOutFailedReason reason, SteadyClock::time_point started,
                                   const Error& error) {
  PoolEvent event{PoolEventKind::kCheckOutFailed, address_, options_};
  event.failed_reason = reason;
  event.duration = SteadyClock::now() - started;
  emit(event);
  throw error;
}

ConnectionPool::Lease ConnectionPool::acquire(OperationInterrupt* interrupt,
                                              std::optional<Deadline> limit) {
  const auto started = SteadyClock::now();
  if (take_ready_unpublished()) emit(PoolEventKind::kPoolReady);
  emit(PoolEventKind::kCheckOutStarted);
  const auto wait_deadline = Deadline::earlier(
      Deadline::after(options_.wait_timeout, "waitQueueTimeoutMS"), limit ? *limit : Deadline{});
  std::vector<Closing> to_close;  // closed after unlocking
  std::unique_lock lock(mutex_);
  const std::uint64_t ticket = next_ticket_++;
  queue_.push_back(ticket);
  // Leaves the wait queue, unlocks, and lets the next in line look (the head may have changed).
  auto leave = [&] {
    leave_queue_locked(ticket);
    const bool wake = !to_close.empty() && below_min_size_locked();
    lock.unlock();
    futex::bump_and_wake_all(wait_word_);
    close_all(to_close);
    if (wake) wake_maintenance();  // minPoolSize: replacements are due
  };
  for (;;) {
    if (state_ == State::kClosed) {
      leave();
      fail_checkout(CheckOutFailedReason::kPoolClosed, started,
                    Error(errc::client_closed,
                          "attempted to check out a connection from the closed pool of " +
                              address_.to_string()));
    }
    if (state_ == State::kPaused) {
      leave();
      fail_checkout(CheckOutFailedReason::kConnectionError, started,
                    Error(errc::pool_cleared, "the pool of " + address_.to_string() +
                                                  " is paused (cleared after an error)"));
    }
    if (interrupt && interrupt->interrupted()) {
      leave();
      fail_checkout(CheckOutFailedReason::kConnectionError, started,
                    Error(errc::interrupted,
                          "waiting for a connection to " + address_.to_string() + ": interrupted"));
    }
    if (queue_.front() == ticket) {
      const auto now = SteadyClock::now();
      while (!idle_.empty()) {
        IdleConnection idle = std::move(idle_.back());
        idle_.pop_back();
        std::optional<ConnectionClosedReason> reason;
        if (idle.generation != generation_) {
          reason = ConnectionClosedReason::kStale;
        } else if (options_.max_idle_time && now - idle.since >= *options_.max_idle_time) {
          reason = ConnectionClosedReason::kIdle;
        } else if (!idle.connection->is_open()) {
          reason = ConnectionClosedReason::kError;
        }
        if (reason) {
          --total_;
          to_close.push_back({std::move(idle.connection), idle.id, *reason});
          continue;
        }
        busy_.push_back({idle.connection.get(), idle.generation});
        leave();
        PoolEvent event{PoolEventKind::kCheckedOut, address_, options_};
        event.connection_id = idle.id;
        event.duration = SteadyClock::now() - started;
        emit(event);
        return Lease(shared_from_this(), std::move(idle.connection), idle.generation, idle.id);
      }
      // A connection the maintenance is establishing comes to this queue when ready: the head
      // waits for it rather than establish one more.
      if ((options_.max_size == 0 || total_ < options_.max_size) && background_pending_ == 0 &&
          connecting_ < std::max<std::uint32_t>(options_.max_connecting, 1)) {
        ++total_;  // reserve the slot, then connect without the lock
        ++connecting_;
        const Reservation reservation{next_connection_id_++, generation_};
        leave();
        return connect_new(interrupt, limit, reservation, started);
      }
    }
    if (SteadyClock::now() >= *wait_deadline.at) {
      leave();
      if (wait_deadline.source != "waitQueueTimeoutMS") {
        fail_checkout(CheckOutFailedReason::kTimeout, started,
                      Error(errc::timeout, "waiting for a connection to " + address_.to_string() +
                                               " timed out after " +
                                               std::to_string(wait_deadline.budget.count()) +
                                               " ms (" + std::string(wait_deadline.source) + ")"));
      }
      fail_checkout(CheckOutFailedReason::kTimeout, started,
                    Error(errc::pool_timeout,
                          "timed out while checking out a connection to " + address_.to_string() +
                              " after " + std::to_string(options_.wait_timeout.count()) +
                              " ms (maxPoolSize " + std::to_string(options_.max_size) +
                              ", maxConnecting " + std::to_string(options_.max_connecting) + ")"));
    }
    // Read the word before unlocking: any change after that (a return, a slot freed, the head
    // leaving) bumps it, so the sleep below ends.
    const std::uint32_t word = wait_word_.load();
    lock.unlock();
    close_all(to_close);
    {
      PublishedFor published(interrupt, this);
      if (!(interrupt && interrupt->interrupted()))
        futex::wait_until(wait_word_, word, *wait_deadline.at);
    }
    lock.lock();
  }
}

ConnectionPool::Lease ConnectionPool::connect_new(OperationInterrupt* interrupt,
                                                  const std::optional<Deadline>& limit,
                                                  Reservation reservation,
                                                  SteadyClock::time_point started) {
  emit(PoolEventKind::kConnectionCreated, reservation.id);
  std::unique_ptr<Connection> connection;
  try {
    connection = establish(interrupt, limit, reservation);
  } catch (const std::exception&) {
    PoolEvent failed{PoolEventKind::kCheckOutFailed, address_, options_};
    failed.failed_reason = CheckOutFailedReason::kConnectionError;
    failed.duration = SteadyClock::now() - started;
    emit(failed);
    throw;
  }
  if (!connection) {  // closed under us: not an establishment failure for SDAM to judge
    fail_checkout(CheckOutFailedReason::kPoolClosed, started,
                  Error(errc::client_closed, "pool of " + address_.to_string() + " closed"));
  }
  PoolEvent out{PoolEventKind::kCheckedOut, address_, options_};
  out.connection_id = reservation.id;
  out.duration = SteadyClock::now() - started;
  emit(out);
  return Lease(shared_from_this(), std::move(connection), reservation.generation, reservation.id);
}

std::unique_ptr<Connection> ConnectionPool::establish(OperationInterrupt* interrupt,
                                                      const std::optional<Deadline>& limit,
                                                      const Reservation& reservation,
                                                      bool keep_slot) {
  const auto created = SteadyClock::now();
  std::unique_ptr<Connection> connection;
  bool registered = false;
  bool closed = false;
  try {
    connection =
        std::make_unique<Connection>(options_.connect_to.value_or(address_), options_.connection);
    {
      std::lock_guard lock(mutex_);
      closed = state_ == State::kClosed;
      if (!closed) {
        busy_.push_back({connection.get(), reservation.generation});
        registered = true;
        if (reservation.generation < interrupt_below_) connection->interrupt();
      }
    }
    if (!closed) {
      PublishedFor published(interrupt, connection.get());
      if (interrupt && interrupt->interrupted()) connection->interrupt();
      connection->connect(limit);
    }
  } catch (const std::exception& e) {
    release_failed_slot(connection.get(), registered);
    if (establishment_error_handler_) establishment_error_handler_(reservation.generation, e);
    connection.reset();
    PoolEvent event{PoolEventKind::kConnectionClosed, address_, options_};
    event.connection_id = reservation.id;
    event.closed_reason = ConnectionClosedReason::kError;
    emit(event);
    throw;
  } catch (...) {
    release_failed_slot(connection.get(), registered);
    throw;
  }
  if (closed) {
    release_failed_slot(nullptr, false);
    connection.reset();
    PoolEvent event{PoolEventKind::kConnectionClosed, address_, options_};
    event.connection_id = reservation.id;
    event.closed_reason = ConnectionClosedReason::kPoolClosed;
    emit(event);
    return nullptr;
  }
  PoolEvent ready{PoolEventKind::kConnectionReady, address_, options_};
  ready.connection_id = reservation.id;
  ready.duration = SteadyClock::now() - created;
  emit(ready);  // before the establishing slot frees: a waiter's ConnectionCreated comes after
  if (keep_slot) return connection;
  {
    std::lock_guard lock(mutex_);
    --connecting_;
  }
  futex::bump_and_wake_all(wait_word_);
  return connection;
}

// ---- background maintenance (minPoolSize, maxIdleTimeMS) -------------------------------------

std::optional<SteadyClock::time_point> ConnectionPool::maintain(
    std::span<OperationInterrupt> interrupts) noexcept {
  if (interrupts.empty()) return std::nullopt;
  auto interrupted = [&] { return interrupts.front().interrupted(); };
  if (take_ready_unpublished()) emit(PoolEventKind::kPoolReady);
  const std::size_t parallel =
      std::min<std::size_t>(std::max<std::uint32_t>(options_.max_connecting, 1), interrupts.size());
  while (!interrupted()) {
    std::vector<Closing> to_close;
    std::vector<Reservation> reserved;
    {
      std::lock_guard lock(mutex_);
      if (state_ == State::kClosed) return std::nullopt;
      close_unusable_idle_locked(SteadyClock::now(), to_close);
      while (below_min_size_locked() && connecting_ < options_.max_connecting &&
             reserved.size() < parallel) {
        try {
          reserved.push_back({next_connection_id_, generation_});
        } catch (...) {  // no memory: establish what is reserved, the rest next time
          break;
        }
        ++next_connection_id_;
        ++total_;
        ++connecting_;
        ++background_pending_;
      }
    }
    if (!to_close.empty()) {
      futex::bump_and_wake_all(wait_word_);  // slots came free
      close_all(to_close);
    }
    if (reserved.empty()) break;
    // Every reserved slot is announced first, then all are established at once (as many
    // threads as slots, this one included), as the checkouts' own establishments would be: a
    // checkout that waits for them (they fill max_connecting) takes the first one ready.
    for (const Reservation& r : reserved) emit(PoolEventKind::kConnectionCreated, r.id);
    std::atomic<bool> failed{false};
    auto populate = [&](std::size_t i) noexcept {
      try {
        if (auto connection = establish(&interrupts[i], std::nullopt, reserved[i], true)) {
          park_established(std::move(connection), reserved[i]);
          return;
        }
      } catch (...) {  // reported by establish()
        failed = true;
      }
      end_background_pending();  // nothing comes to the queue from this slot
    };
    std::vector<std::thread> helpers;
    try {
      helpers.reserve(reserved.size() - 1);
      for (std::size_t i = 1; i < reserved.size(); ++i) helpers.emplace_back(populate, i);
    } catch (...) {  // no thread (or no memory): the rest are established here, in turn
    }
    // Slot 0 here, slots 1..helpers.size() on the helpers, any left here after slot 0.
    const std::size_t inline_from = helpers.size() + 1;
    populate(0);
    for (std::size_t i = inline_from; i < reserved.size(); ++i) {
      if (interrupted()) {
        abandon_reservation(reserved[i]);
      } else {
        populate(i);
      }
    }
    for (auto& helper : helpers) helper.join();
    if (failed) break;  // no retry at once: the next wake brings one
  }
  std::lock_guard lock(mutex_);
  if (!options_.max_idle_time || idle_.empty() || state_ == State::kClosed) return std::nullopt;
  // The front of idle_ came back first (returns go to the back), so it expires first.
  return idle_.front().since + *options_.max_idle_time;
}

void ConnectionPool::close_unusable_idle_locked(SteadyClock::time_point now,
                                                std::vector<Closing>& to_close) noexcept {
  try {
    to_close.reserve(idle_.size());
  } catch (...) {  // no memory: checkouts close them as they meet them
    return;
  }
  for (std::size_t i = idle_.size(); i-- > 0;) {
    IdleConnection& idle = idle_[i];
    std::optional<ConnectionClosedReason> reason;
    if (idle.generation != generation_) {
      reason = ConnectionClosedReason::kStale;
    } else if (options_.max_idle_time && now - idle.since >= *options_.max_idle_time) {
      reason = ConnectionClosedReason::kIdle;
    } else if (!idle.connection->is_open()) {
      reason = ConnectionClosedReason::kError;
    }
    if (!reason) continue;
    to_close.push_back({std::move(idle.connection), idle.id, *reason});
    idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(i));
    --total_;
  }
}

void ConnectionPool::park_established(std::unique_ptr<Connection> connection,
                                      const Reservation& reservation) noexcept {
  ConnectionClosedReason reason = ConnectionClosedReason::kStale;
  {
    std::lock_guard lock(mutex_);
    // The establishing slot frees with the connection parked, in one step: a waiter that
    // looks now finds the connection rather than a free slot to establish another in.
    --connecting_;
    --background_pending_;
    forget_busy_locked(connection.get());
    if (state_ == State::kClosed) reason = ConnectionClosedReason::kPoolClosed;
    if (state_ == State::kReady && reservation.generation == generation_) {
      try {
        idle_.push_back(
            {std::move(connection), reservation.generation, reservation.id, SteadyClock::now()});
      } catch (...) {  // no memory for the slot: close the connection instead
        reason = ConnectionClosedReason::kError;
      }
    }
    if (connection) --total_;
  }
  futex::bump_and_wake_all(wait_word_);  // a waiting checkout takes it
  if (connection) {
    connection.reset();
    PoolEvent event{PoolEventKind::kConnectionClosed, address_, options_};
    event.connection_id = reservation.id;
    event.closed_reason = reason;
    emit(event);
  }
}

void ConnectionPool::end_background_pending() noexcept {
  {
    std::lock_guard lock(mutex_);
    --background_pending_;
  }
  futex::bump_and_wake_all(wait_word_);  // the head of the queue may establish one itself now
}

void ConnectionPool::abandon_reservation(const Reservation& reservation) noexcept {
  ConnectionClosedReason reason = ConnectionClosedReason::kError;
  {
    std::lock_guard lock(mutex_);
    if (state_ == State::kClosed) {
      reason = ConnectionClosedReason::kPoolClosed;
    } else if (reservation.generation != generation_) {
      reason = ConnectionClosedReason::kStale;
    }
  }
  release_failed_slot(nullptr, false);
  end_background_pending();
  PoolEvent event{PoolEventKind::kConnectionClosed, address_, options_};
  event.connection_id = reservation.id;
  event.closed_reason = reason;
  emit(event);
}

bool ConnectionPool::below_min_size_locked() const noexcept {
  return state_ == State::kReady && total_ < options_.min_size &&
         (options_.max_size == 0 || total_ < options_.max_size);
}

void ConnectionPool::wake_maintenance() const noexcept {
  if (options_.maintenance) options_.maintenance->wake();
}

void ConnectionPool::release_failed_slot(const Connection* connection, bool registered) noexcept {
  {
    std::lock_guard lock(mutex_);
    if (registered) forget_busy_locked(connection);
    --total_;
    --connecting_;
  }
  futex::bump_and_wake_all(wait_word_);
}

void ConnectionPool::forget_busy_locked(const Connection* connection) noexcept {
  for (auto& entry : busy_) {
    if (entry.connection == connection) {
      entry = busy_.back();
      busy_.pop_back();
      return;
    }
  }
}

void ConnectionPool::give_back(std::unique_ptr<Connection> connection, std::uint64_t generation,
                               std::uint64_t id, bool discard) noexcept {
  // CheckedIn first: a waiter that takes this connection announces its CheckedOut after it.
  emit(PoolEventKind::kCheckedIn, id);
  ConnectionClosedReason reason = ConnectionClosedReason::kError;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    forget_busy_locked(connection.get());
    if (state_ == State::kClosed) {
      reason = ConnectionClosedReason::kPoolClosed;
    } else if (generation != generation_) {
      reason = ConnectionClosedReason::kStale;
    } else if (!discard && connection->is_open()) {
      try {
        idle_.push_back({std::move(connection), generation, id, SteadyClock::now()});
        // The first idle connection starts a maxIdleTimeMS deadline the maintenance must know.
        wake = idle_.size() == 1 && options_.max_idle_time.has_value();
      } catch (...) {  // no memory for the slot: close the connection instead
      }
    }
    if (connection) {
      --total_;
      wake = below_min_size_locked();  // minPoolSize: a replacement is due
    }
  }
  futex::bump_and_wake_all(wait_word_);
  if (wake) wake_maintenance();
  if (connection) {
    // A connection not kept is destroyed here, outside the lock (closing a socket is a syscall).
    connection.reset();
    PoolEvent event{PoolEventKind::kConnectionClosed, address_, options_};
    event.connection_id = id;
    event.closed_reason = reason;
    emit(event);
  }
}

void ConnectionPool::clear(bool interrupt_in_use_connections) noexcept {
  clear_later(std::nullopt, interrupt_in_use_connections).publish();
}

bool ConnectionPool::clear_if_generation(std::uint64_t generation,
                                         bool interrupt_in_use_connections) noexcept {
  PendingClear pending = clear_later(generation, interrupt_in_use_connections);
  const bool cleared = static_cast<bool>(pending);
  pending.publish();
  return cleared;
}

ConnectionPool::PendingClear ConnectionPool::clear_later(std::optional<std::uint64_t> generation,
                                                         bool interrupt_in_use) noexcept {
  PendingClear pending;
  {
    std::unique_lock lock(mutex_, std::defer_lock);
    if (!lock_unless_inherited(lock, fork_generation_)) return pending;  // a fork() child
    if (generation && *generation != generation_) return pending;
    if (state_ == State::kClosed) return pending;
    ++generation_;
    pending.announce_ = state_ == State::kReady;
    pending.announce_ready_ = std::exchange(ready_unpublished_, false);
    pending.interrupt_in_use_ = interrupt_in_use;
    state_ = State::kPaused;
    pending.stale_.swap(idle_);
    total_ -= pending.stale_.size();
    if (interrupt_in_use) {
      interrupt_below_ = generation_;
      // Every busy connection is of an older generation now. Connection::interrupt is
      // lock-free; the entries stay valid while we hold the lock.
      for (const Busy& busy : busy_) busy.connection->interrupt();
    }
  }
  try {
    pending.pool_ = shared_from_this();
  } catch (...) {  // not owned by a shared_ptr (cannot happen through create()): publish now
    if (pending.announce_) {
      PoolEvent event{PoolEventKind::kPoolCleared, address_, options_};
      event.interrupt_in_use_connections = interrupt_in_use;
      emit(event);
    }
    close_all(pending.stale_, ConnectionClosedReason::kStale);
  }
  futex::bump_and_wake_all(wait_word_);  // waiters fail now: the pool is paused
  return pending;
}

void ConnectionPool::ready() noexcept {
  if (ready_later()) publish_ready();
}

bool ConnectionPool::ready_later() noexcept {
  std::unique_lock lock(mutex_, std::defer_lock);
  if (!lock_unless_inherited(lock, fork_generation_)) return false;
  if (state_ != State::kPaused) return false;
  state_ = State::kReady;
  ready_unpublished_ = true;
  const bool wake = below_min_size_locked();
  lock.unlock();
  if (wake) wake_maintenance();  // minPoolSize: the pool fills now
  return true;
}

bool ConnectionPool::take_ready_unpublished() noexcept {
  std::unique_lock lock(mutex_, std::defer_lock);
  if (!lock_unless_inherited(lock, fork_generation_)) return false;
  return std::exchange(ready_unpublished_, false);
}

void ConnectionPool::publish_ready() noexcept {
  if (take_ready_unpublished()) emit(PoolEventKind::kPoolReady);
}

void ConnectionPool::close() noexcept {
  std::vector<IdleConnection> idle;
  {
    std::unique_lock lock(mutex_, std::defer_lock);
    if (!lock_unless_inherited(lock, fork_generation_)) return;  // see clear_later()
    if (state_ == State::kClosed) return;
    const bool inherited = fork_generation_ != current_fork_generation();
    state_ = State::kClosed;
    // Connection::interrupt is lock-free; the entries stay valid while we hold the lock. In a
    // fork() child the busy connections belong to parent threads that do not exist here.
    if (!inherited) {
      for (const Busy& busy : busy_) busy.connection->interrupt();
    }
    idle.swap(idle_);
    total_ -= idle.size();
  }
  futex::bump_and_wake_all(wait_word_);
  close_all(idle, ConnectionClosedReason::kPoolClosed);
  emit(PoolEventKind::kPoolClosed);
}

void ConnectionPool::wake_waiters() noexcept {
  futex::bump_and_wake_all(wait_word_);
}

std::size_t ConnectionPool::idle_count() const {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

std::size_t ConnectionPool::total_count() const {
  std::lock_guard lock(mutex_);
  return total_;
}

std::uint64_t ConnectionPool::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

bool ConnectionPool::closed() const {
  std::lock_guard lock(mutex_);
  return state_ == State::kClosed;
}

bool ConnectionPool::paused() const {
  std::lock_guard lock(mutex_);
  return state_ == State::kPaused;
}

// ---- event names ------------------------------------------------------------------------------

const char* to_string(PoolEventKind kind) noexcept {
  switch (kind) {
    case PoolEventKind::kPoolCreated:
      return "ConnectionPoolCreated";
    case PoolEventKind::kPoolReady:
      return "ConnectionPoolReady";
    case PoolEventKind::kPoolCleared:
      return "ConnectionPoolCleared";
    case PoolEventKind::kPoolClosed:
      return "ConnectionPoolClosed";
    case PoolEventKind::kConnectionCreated:
      return "ConnectionCreated";
    case PoolEventKind::kConnectionReady:
      return "ConnectionReady";
    case PoolEventKind::kConnectionClosed:
      return "ConnectionClosed";
    case PoolEventKind::kCheckOutStarted:
      return "ConnectionCheckOutStarted";
    case PoolEventKind::kCheckOutFailed:
      return "ConnectionCheckOutFailed";
    case PoolEventKind::kCheckedOut:
      return "ConnectionCheckedOut";
    case PoolEventKind::kCheckedIn:
      return "ConnectionCheckedIn";
  }
  return "?";
}

const char* to_string(ConnectionClosedReason reason) noexcept {
  switch (reason) {
    case ConnectionClosedReason::kStale:
      return "stale";
    case ConnectionClosedReason::kIdle:
      return "idle";
    case ConnectionClosedReason::kError:
      return "error";
    case ConnectionClosedReason::kPoolClosed:
      return "poolClosed";
  }
  return "?";
}

const char* to_string(CheckOutFailedReason reason) noexcept {
  switch (reason) {
    case CheckOutFailedReason::kTimeout:
      return "timeout";
    case CheckOutFailedReason::kConnectionError:
      return "connectionError";
    case CheckOutFailedReason::kPoolClosed:
      return "poolClosed";
  }
  return "?";
}

}  // namespace mongoslice
