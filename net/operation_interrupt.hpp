#pragma once
// How one thread breaks another thread's blocking operation without a lock (DESIGN.md
// invariant 2). The operation publishes what it is blocked on right now (the connection it
// connects or talks on, or the pool it waits in); interrupt() breaks that at once and every later
// step of the operation, for good (the flag is sticky).
//
// interrupt() is noexcept, lock-free and allocation-free: it sets a flag and calls
// Connection::interrupt() (a shutdown(2)) or ConnectionPool::wake_waiters() (a futex wake) on
// what is published, so it may run in a PeriodicExecutor's interrupt hook and in the exit
// handler.
//
// Protocol: the interrupter sets the flag, counts itself in interrupters_, then reads the
// published pointers; the owner publishes a pointer, then reads the flag (sequentially
// consistent atomics: one of the two always sees the other). withdraw() unpublishes and waits
// for interrupters_ to drop to zero (a few instructions), so an interrupter never touches an
// object its owner has released.

#include <atomic>
#include <thread>

namespace mongoslice {

class Connection;
class ConnectionPool;

class OperationInterrupt {
 public:
  OperationInterrupt() = default;
  OperationInterrupt(const OperationInterrupt&) = delete;
  OperationInterrupt& operator=(const OperationInterrupt&) = delete;

  void interrupt() noexcept;
  // Breaks only the connection published now (its socket is shut down and stays broken), not
  // what is published later: the flag is not set, and a published pool is not woken. noexcept,
  // lock-free and allocation-free, as interrupt().
  void break_published() noexcept;
  bool interrupted() const noexcept { return interrupted_.load(); }

  // The owner's side. publish() returns false when already interrupted (the caller then fails
  // the step itself); the object stays published until withdraw() either way.
  bool publish(Connection* connection) noexcept;
  bool publish(ConnectionPool* pool) noexcept;
  void withdraw() noexcept;

 private:
  std::atomic<bool> interrupted_{false};
  std::atomic<Connection*> connection_{nullptr};
  std::atomic<ConnectionPool*> pool_{nullptr};
  std::atomic<int> interrupters_{0};
};

// Publishes for one scope (no-op when the interrupt is null).
class PublishedFor {
 public:
  template <typename T>
  PublishedFor(OperationInterrupt* interrupt, T* what) noexcept : interrupt_(interrupt) {
    if (interrupt_) interrupt_->publish(what);
  }
  ~PublishedFor() {
    if (interrupt_) interrupt_->withdraw();
  }
  PublishedFor(const PublishedFor&) = delete;
  PublishedFor& operator=(const PublishedFor&) = delete;

 private:
  OperationInterrupt* interrupt_;
};

}  // namespace mongoslice
