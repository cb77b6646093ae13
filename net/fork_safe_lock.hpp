#pragma once
// Locking in close paths that a fork() child may run on objects it inherited. A parent thread
// may have held the mutex when the process forked; that thread does not exist in the child, so
// the mutex would never be released. Such a path takes the lock normally in the process that
// made the object, and only tries it in a child; on failure the caller leaves the object as it
// is (leaked) rather than block.

#include <cstdint>
#include <mutex>

#include "wire/fork_generation.hpp"

namespace mongoslice {

// `made_in`: current_fork_generation() when the object was made. True when `lock` holds its
// mutex afterwards.
inline bool lock_unless_inherited(std::unique_lock<std::mutex>& lock,
                                  std::uint64_t made_in) noexcept {
  if (made_in == current_fork_generation()) {
    lock.lock();
    return true;
  }
  return lock.try_lock();
}

}  // namespace mongoslice
