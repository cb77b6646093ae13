#pragma once
// The lock-free queue of cursors to kill: many producers (Cursor destructors on any thread), one
// consumer (the kill-cursors task on the client's executor).
//
// It is a Treiber stack of intrusive KillRecord nodes. push() links a node with one
// compare-exchange: no allocation, no lock, no I/O, so it is safe in any destructor. drain()
// takes the whole chain with one atomic read-modify-write and reverses it, so records come out
// in the order they were pushed (FIFO per producer, and overall in linearization order).
//
// Closing is folded into the head word (its low bit, free because nodes are aligned), so "was
// this push before or after close()" has one exact answer: a push after close still links its
// node (memory is never lost) but marks it pushed_after_close, counts it in
// dropped_after_close() and does not wake the owner; the owner drains such records at shutdown
// and reports them as dropped. retire() is that last drain: pushes after it are "orphaned", and
// push() tells its caller so, because nobody else will report them.
//
// Lifetime: the queue is owned by shared_ptr. The client holds one reference and every live
// Cursor holds another, so a Cursor that outlives its client still pushes into valid memory.
// Records linked after the owner's last drain (retire()) are freed by ~KillQueue; push() tells
// their pusher, which reports them (they are also counted in orphaned()).
//
// Waking: the queue calls a wake function on each empty -> non-empty transition of an open
// queue, so the consumer sleeps until there is work. The function must be noexcept, lock-free
// and must not allocate (it runs inside Cursor destructors); e.g. it releases a semaphore or
// notifies an atomic. The queue keeps its context alive (shared_ptr), so a push racing with the
// owner's shutdown never calls into freed memory; the context's destructor can therefore run
// inside the last Cursor's destructor and must not block.

#include <atomic>
#include <cstdint>
#include <memory>

#include "cursor/kill_record.hpp"

namespace mongoslice {

class KillQueue {
 public:
  using WakeFn = void (*)(void* context) noexcept;

  KillQueue() noexcept = default;  // no wake function
  KillQueue(WakeFn wake, std::shared_ptr<void> context) noexcept
      : wake_(wake), wake_context_(std::move(context)) {}
  KillQueue(const KillQueue&) = delete;
  KillQueue& operator=(const KillQueue&) = delete;
  ~KillQueue();

  // Links `record` (non-null; its `next` is overwritten) and returns whether the queue was empty
  // before. Lock-free, allocation-free, never throws. `orphaned`, when given, says whether the
  // queue was retired: nobody will drain the record, so the caller should report it (the
  // record stays linked, and so readable, until ~KillQueue).
  bool push(std::unique_ptr<KillRecord> record, bool* orphaned = nullptr) noexcept;

  // Takes every record pushed so far, oldest first. Single consumer only.
  KillList drain() noexcept;

  // The owner's last drain: closes the queue and takes what is left in one atomic step; every
  // later push is orphaned (counted in orphaned(), reported by the pusher). Single consumer.
  KillList retire() noexcept;

  // From now on pushes do not wake and count as dropped. Idempotent.
  void close() noexcept;
  bool closed() const noexcept;
  bool empty() const noexcept;
  // How many records were pushed after close().
  std::uint64_t dropped_after_close() const noexcept {
    return dropped_after_close_.load(std::memory_order_relaxed);
  }
  // How many records were pushed after retire() (a subset of dropped_after_close()).
  std::uint64_t orphaned() const noexcept { return orphaned_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::uintptr_t kClosedBit = 1;
  static constexpr std::uintptr_t kRetiredBit = 2;
  static constexpr std::uintptr_t kFlagBits = kClosedBit | kRetiredBit;
  static_assert(std::atomic<std::uintptr_t>::is_always_lock_free);
  static_assert(alignof(KillRecord) > kFlagBits, "the flags live in the pointer's low bits");

  static KillList reversed_chain(std::uintptr_t head) noexcept;

  std::atomic<std::uintptr_t> head_{0};  // KillRecord* | kClosedBit | kRetiredBit
  std::atomic<std::uint64_t> dropped_after_close_{0};
  std::atomic<std::uint64_t> orphaned_{0};
  WakeFn wake_ = nullptr;
  std::shared_ptr<void> wake_context_;
};

}  // namespace mongoslice
