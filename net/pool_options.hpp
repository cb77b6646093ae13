#pragma once
// Options of a connection pool (the CMAP spec's ConnectionPoolOptions, from the URI), the same
// for every pool of a client.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "net/connection.hpp"
#include "wire/address.hpp"

namespace mongoslice {

class PoolEventListener;
class PoolMaintenance;

struct PoolOptions {
  std::uint32_t max_size = 100;  // maxPoolSize; 0 means no limit
  // minPoolSize: connections the pool's maintenance establishes in the background while the
  // pool is ready (ConnectionPool::maintain(); without `maintenance` nothing does).
  std::uint32_t min_size = 0;
  // maxConnecting: connections being established at once; the other checkouts that need a new
  // one wait (and take a connection returned meanwhile). Above 0.
  std::uint32_t max_connecting = 2;
  std::chrono::milliseconds wait_timeout{30'000};  // waitQueueTimeoutMS (~serverSelectionTimeoutMS)
  // maxIdleTimeMS: an idle connection older than this is closed instead of being checked out.
  std::optional<std::chrono::milliseconds> max_idle_time;
  ConnectionOptions connection;  // for every connection the pool opens
  // Where to connect for the pool's server, when not at its address itself (tests: a scripted
  // server on loopback standing in for "a:27017"). The connections keep that endpoint as their
  // address; the pool keeps the server's.
  std::optional<HostAndPort> connect_to;
  // Told of every CMAP event of the pool (net/pool_events.hpp); none when null.
  std::shared_ptr<PoolEventListener> events;
  // The background work that calls maintain() (driver/pool_maintainer.hpp), woken by the pool
  // when it may have work; null when min_size is 0 and max_idle_time is unset.
  std::shared_ptr<PoolMaintenance> maintenance;
};

}  // namespace mongoslice
