#pragma once
// What a connection pool tells the background work that keeps its minPoolSize and closes its
// connections idle past maxIdleTimeMS (driver/pool_maintainer.hpp): "look at me". The pool
// calls wake() without holding its mutex, after a change that may give the maintenance work
// to do: the pool became ready, a connection left it, a connection went idle in an empty idle
// list (a new maxIdleTimeMS deadline). It never calls it on a pool without minPoolSize or
// maxIdleTimeMS (those have no maintenance at all).

namespace mongoslice {

class PoolMaintenance {
 public:
  virtual ~PoolMaintenance() = default;
  // Must be noexcept, lock-free and allocation-free: pools call it from noexcept paths.
  virtual void wake() noexcept = 0;
};

}  // namespace mongoslice
