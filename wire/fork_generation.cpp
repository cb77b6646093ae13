#include "wire/fork_generation.hpp"

#include <pthread.h>

#include <atomic>

namespace mongoslice {
namespace {

std::atomic<std::uint64_t> g_generation{0};

// Runs in the child right after fork(): only an atomic increment, which is async-signal-safe.
void on_fork_child() noexcept {
  g_generation.fetch_add(1, std::memory_order_relaxed);
}

bool install_atfork_handler() noexcept {
  return ::pthread_atfork(nullptr, nullptr, &on_fork_child) == 0;
}

}  // namespace

std::uint64_t current_fork_generation() noexcept {
  // A function-local static runs the installation exactly once, thread-safely. If installation
  // failed (ENOMEM) generations never change, which is the behaviour of a driver without fork
  // detection; there is nothing better to do.
  static const bool installed = install_atfork_handler();
  (void)installed;
  return g_generation.load(std::memory_order_relaxed);
}

}  // namespace mongoslice
