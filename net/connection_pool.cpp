#include "net/connection_pool.hpp"

#include <utility>

#include "net/fork_safe_lock.hpp"
#include "net/futex.hpp"
#include "wire/error.hpp"

namespace mongoslice {

// ---- Lease ------------------------------------------------------------------------------------

ConnectionPool::Lease& ConnectionPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    give_back(false);
    pool_ = std::move(other.pool_);
    connection_ = std::move(other.connection_);
    generation_ = other.generation_;
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
  if (pool_ && connection_) pool_->give_back(std::move(connection_), generation_, discard);
  connection_.reset();
  pool_.reset();
}

// ---- ConnectionPool ---------------------------------------------------------------------------

std::shared_ptr<ConnectionPool> ConnectionPool::create(HostAndPort address, PoolOptions options) {
  return std::make_shared<ConnectionPool>(std::move(address), std::move(options));
}

ConnectionPool::ConnectionPool(HostAndPort address, PoolOptions options)
    : address_(std::move(address)),
      options_(std::move(options)),
      fork_generation_(current_fork_generation()) {
}

ConnectionPool::~ConnectionPool() = default;

ConnectionPool::Lease ConnectionPool::acquire(OperationInterrupt* interrupt,
                                              std::optional<Deadline> limit) {
  const auto wait_deadline = Deadline::earlier(
      Deadline::after(options_.wait_timeout, "waitQueueTimeoutMS"), limit ? *limit : Deadline{});
  std::vector<std::unique_ptr<Connection>> to_close;  // closed after unlocking
  std::unique_lock lock(mutex_);
  for (;;) {
    if (closed_) throw Error(errc::client_closed, "pool of " + address_.to_string() + " closed");
    if (interrupt && interrupt->interrupted()) {
      throw Error(errc::interrupted,
                  "waiting for a connection to " + address_.to_string() + ": interrupted");
    }
    while (!idle_.empty()) {
      Idle idle = std::move(idle_.back());
      idle_.pop_back();
      if (idle.generation == generation_ && idle.connection->is_open()) {
        busy_.push_back(idle.connection.get());
        lock.unlock();
        to_close.clear();
        return Lease(shared_from_this(), std::move(idle.connection), idle.generation);
      }
      --total_;
      to_close.push_back(std::move(idle.connection));
    }
    if (options_.max_size == 0 || total_ < options_.max_size) {
      ++total_;  // reserve the slot, then connect without the lock
      const std::uint64_t generation = generation_;
      lock.unlock();
      to_close.clear();
      return Lease(shared_from_this(), connect_new(interrupt, limit, generation), generation);
    }
    // Read the word before unlocking: a return after that changes it, so the sleep below ends.
    const std::uint32_t word = wait_word_.load();
    lock.unlock();
    to_close.clear();
    {
      PublishedFor published(interrupt, this);
      if (!(interrupt && interrupt->interrupted()))
        futex::wait_until(wait_word_, word, *wait_deadline.at);
    }
    lock.lock();
    const bool slot_free = !idle_.empty() || options_.max_size == 0 || total_ < options_.max_size;
    if (!slot_free && !closed_ && !(interrupt && interrupt->interrupted()) &&
        SteadyClock::now() >= *wait_deadline.at) {
      if (wait_deadline.source != "waitQueueTimeoutMS") {
        throw Error(errc::timeout, "waiting for a connection to " + address_.to_string() +
                                       " timed out after " +
                                       std::to_string(wait_deadline.budget.count()) + " ms (" +
                                       std::string(wait_deadline.source) + ")");
      }
      throw Error(errc::pool_timeout, "no free connection to " + address_.to_string() + " within " +
                                          std::to_string(options_.wait_timeout.count()) +
                                          " ms (maxPoolSize " + std::to_string(options_.max_size) +
                                          ", all in use)");
    }
  }
}

std::unique_ptr<Connection> ConnectionPool::connect_new(OperationInterrupt* interrupt,
                                                        const std::optional<Deadline>& limit,
                                                        std::uint64_t generation) {
  std::unique_ptr<Connection> connection;
  bool registered = false;
  try {
    connection =
        std::make_unique<Connection>(options_.connect_to.value_or(address_), options_.connection);
    {
      std::lock_guard lock(mutex_);
      if (closed_) throw Error(errc::client_closed, "pool of " + address_.to_string() + " closed");
      busy_.push_back(connection.get());
      registered = true;
    }
    PublishedFor published(interrupt, connection.get());
    if (interrupt && interrupt->interrupted()) connection->interrupt();
    connection->connect(limit);
    return connection;
  } catch (const std::exception& e) {
    release_failed_slot(connection.get(), registered);
    if (establishment_error_handler_) establishment_error_handler_(generation, e);
    throw;
  } catch (...) {
    release_failed_slot(connection.get(), registered);
    throw;
  }
}

void ConnectionPool::release_failed_slot(const Connection* connection, bool registered) noexcept {
  {
    std::lock_guard lock(mutex_);
    if (registered) forget_busy_locked(connection);
    --total_;
  }
  futex::bump_and_wake_all(wait_word_);
}

void ConnectionPool::forget_busy_locked(const Connection* connection) noexcept {
  for (auto& entry : busy_) {
    if (entry == connection) {
      entry = busy_.back();
      busy_.pop_back();
      return;
    }
  }
}

void ConnectionPool::give_back(std::unique_ptr<Connection> connection, std::uint64_t generation,
                               bool discard) noexcept {
  {
    std::lock_guard lock(mutex_);
    forget_busy_locked(connection.get());
    if (!discard && !closed_ && generation == generation_ && connection->is_open()) {
      try {
        idle_.push_back({std::move(connection), generation});
      } catch (...) {  // no memory for the slot: close the connection instead
      }
    }
    if (connection) --total_;
  }
  futex::bump_and_wake_all(wait_word_);
  // A connection not kept is destroyed here, outside the lock (closing a socket is a syscall).
}

void ConnectionPool::clear() noexcept {
  clear_if(std::nullopt);
}

bool ConnectionPool::clear_if_generation(std::uint64_t generation) noexcept {
  return clear_if(generation);
}

bool ConnectionPool::clear_if(std::optional<std::uint64_t> generation) noexcept {
  std::vector<Idle> stale;
  {
    std::unique_lock lock(mutex_, std::defer_lock);
    if (!lock_unless_inherited(lock, fork_generation_)) return false;  // a fork() child
    if (generation && *generation != generation_) return false;
    ++generation_;
    stale.swap(idle_);
    total_ -= stale.size();
  }
  futex::bump_and_wake_all(wait_word_);  // the freed slots may serve waiting acquirers
  return true;
}

void ConnectionPool::close() noexcept {
  {
    std::unique_lock lock(mutex_, std::defer_lock);
    if (!lock_unless_inherited(lock, fork_generation_)) return;  // see clear()
    const bool inherited = fork_generation_ != current_fork_generation();
    closed_ = true;
    // Connection::interrupt is lock-free; the entries stay valid while we hold the lock. In a
    // fork() child the busy connections belong to parent threads that do not exist here.
    if (!inherited) {
      for (Connection* connection : busy_) connection->interrupt();
    }
  }
  clear();
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
  return closed_;
}

}  // namespace mongoslice
