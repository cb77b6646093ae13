#include "cursor/kill_queue.hpp"

namespace mongoslice {

KillQueue::~KillQueue() {
  // Whatever is still linked (pushed after the owner's last drain) is freed here.
  KillList leftover = drain();
}

bool KillQueue::push(std::unique_ptr<KillRecord> record) noexcept {
  KillRecord* node = record.release();
  std::uintptr_t head = head_.load(std::memory_order_relaxed);
  for (;;) {
    node->pushed_after_close = (head & kClosedBit) != 0;
    node->next = reinterpret_cast<KillRecord*>(head & ~kClosedBit);
    // Release: the consumer that takes the chain sees the node's fields.
    if (head_.compare_exchange_weak(head,
                                    reinterpret_cast<std::uintptr_t>(node) | (head & kClosedBit),
                                    std::memory_order_release, std::memory_order_relaxed)) {
      break;
    }
  }
  bool was_empty = (head & ~kClosedBit) == 0;
  if ((head & kClosedBit) != 0) {
    dropped_after_close_.fetch_add(1, std::memory_order_relaxed);
  } else if (was_empty && wake_ != nullptr) {
    wake_(wake_context_.get());
  }
  return was_empty;
}

KillList KillQueue::drain() noexcept {
  // Keep only the closed bit; take the chain (newest first) and reverse it.
  std::uintptr_t head = head_.fetch_and(kClosedBit, std::memory_order_acquire);
  KillRecord* node = reinterpret_cast<KillRecord*>(head & ~kClosedBit);
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
  return (head_.load(std::memory_order_acquire) & ~kClosedBit) == 0;
}

}  // namespace mongoslice
