#include "cursor/kill_queue.hpp"

namespace mongoslice {

KillQueue::~KillQueue() {
  // Whatever is still linked (pushed after the owner's last drain) is freed here.
  KillList leftover = drain();
}

bool KillQueue::push(std::unique_ptr<KillRecord> record, bool* orphaned) noexcept {
  KillRecord* node = record.release();
  std::uintptr_t head = head_.load(std::memory_order_relaxed);
  for (;;) {
    node->pushed_after_close = (head & kClosedBit) != 0;
    node->next = reinterpret_cast<KillRecord*>(head & ~kFlagBits);
    // Release: the consumer that takes the chain sees the node's fields.
    if (head_.compare_exchange_weak(head,
                                    reinterpret_cast<std::uintptr_t>(node) | (head & kFlagBits),
                                    std::memory_order_release, std::memory_order_relaxed)) {
      break;
    }
  }
  bool was_empty = (head & ~kFlagBits) == 0;
  if (orphaned) *orphaned = (head & kRetiredBit) != 0;
  if ((head & kRetiredBit) != 0) {
    orphaned_.fetch_add(1, std::memory_order_relaxed);
  }
  if ((head & kClosedBit) != 0) {
    dropped_after_close_.fetch_add(1, std::memory_order_relaxed);
  } else if (was_empty && wake_ != nullptr) {
    wake_(wake_context_.get());
  }
  return was_empty;
}

KillList KillQueue::drain() noexcept {
  // Keep only the flags; take the chain (newest first) and reverse it.
  return reversed_chain(head_.fetch_and(kFlagBits, std::memory_order_acquire));
}

KillList KillQueue::retire() noexcept {
  return reversed_chain(head_.exchange(kClosedBit | kRetiredBit, std::memory_order_acq_rel));
}

KillList KillQueue::reversed_chain(std::uintptr_t head) noexcept {
  KillRecord* node = reinterpret_cast<KillRecord*>(head & ~kFlagBits);
  KillRecord* reversed = nullptr;
  while (node != nullptr) {
    KillRecord* next = node->next;
    node->next = reversed;
    reversed = node;
    node = next;
  }
  return KillList(reversed);
}

void KillQueue::close() noexcept {
  head_.fetch_or(kClosedBit, std::memory_order_acq_rel);
}

bool KillQueue::closed() const noexcept {
  return (head_.load(std::memory_order_acquire) & kClosedBit) != 0;
}

bool KillQueue::empty() const noexcept {
  return (head_.load(std::memory_order_acquire) & ~kFlagBits) == 0;
}

}  // namespace mongoslice
