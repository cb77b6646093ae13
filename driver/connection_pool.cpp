#include "driver/connection_pool.hpp"

#include <utility>

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
    : address_(std::move(address)), options_(std::move(options)) {
}

ConnectionPool::~ConnectionPool() = default;

ConnectionPool::Lease ConnectionPool::acquire() {
  const auto deadline = std::chrono::steady_clock::now() + options_.wait_timeout;
  std::vector<std::unique_ptr<Connection>> to_close;  // closed after unlocking
  std::unique_lock lock(mutex_);
  for (;;) {
    if (closed_) throw Error(errc::client_closed, "pool of " + address_.to_string() + " closed");
    while (!idle_.empty()) {
      Idle idle = std::move(idle_.back());
      idle_.pop_back();
      if (idle.generation == generation_ && idle.connection->is_open()) {
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
      try {
        auto connection = std::make_unique<Connection>(address_, options_.connection);
        connection->connect();
        return Lease(shared_from_this(), std::move(connection), generation);
      } catch (...) {
        {
          std::lock_guard relock(mutex_);
          --total_;
        }
        returned_.notify_one();
        throw;
      }
    }
    if (returned_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        !(options_.max_size == 0 || total_ < options_.max_size) && !closed_) {
      throw Error(errc::pool_timeout, "no free connection to " + address_.to_string() + " within " +
                                          std::to_string(options_.wait_timeout.count()) +
                                          " ms (maxPoolSize " + std::to_string(options_.max_size) +
                                          ", all in use)");
    }
  }
}

void ConnectionPool::give_back(std::unique_ptr<Connection> connection, std::uint64_t generation,
                               bool discard) noexcept {
  {
    std::lock_guard lock(mutex_);
    if (!discard && !closed_ && generation == generation_ && connection->is_open()) {
      try {
        idle_.push_back({std::move(connection), generation});
      } catch (...) {  // no memory for the slot: close the connection instead
      }
    }
    if (connection) --total_;
  }
  returned_.notify_one();
  // A connection not kept is destroyed here, outside the lock (closing a socket is a syscall).
}

void ConnectionPool::clear() noexcept {
  std::vector<Idle> stale;
  {
    std::lock_guard lock(mutex_);
    ++generation_;
    stale.swap(idle_);
    total_ -= stale.size();
  }
  returned_.notify_all();  // the freed slots may serve waiting acquirers
}

void ConnectionPool::close() noexcept {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  clear();
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

}  // namespace mongoslice
