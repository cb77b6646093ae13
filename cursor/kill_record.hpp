#pragma once
// One server-side cursor to kill: what a Cursor hands to the kill queue when it dies while the
// server still holds its cursor. Allocated when the cursor becomes live, so that the destructor
// only has to link it (DESIGN.md, invariant 1).

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <utility>

#include <optional>

#include "cursor/namespace.hpp"
#include "wire/address.hpp"
#include "wire/bson.hpp"

namespace mongoslice {

struct KillRecord {
  std::int64_t cursor_id = 0;
  Namespace ns;
  HostAndPort server;
  std::uint64_t fork_generation = 0;  // current_fork_generation() when the record was made
  bool pushed_after_close = false;    // set by KillQueue::push on a closed queue
  KillRecord* next = nullptr;         // intrusive link; the queue owns linked records
  // The dying cursor's last batch. Freeing a batch (up to 16 MiB, perhaps an munmap, perhaps
  // malloc's arena lock) is not a destructor's business (invariant 1), so the destructor moves
  // it here and whoever drains the record frees it, off the user's thread.
  std::optional<bson::Document> retired_batch;
  // The dying cursor's getMore comment, if it had one (moved here for the same reason).
  std::optional<bson::Document> retired_comment;

  // A record stamped with the current fork generation.
  static std::unique_ptr<KillRecord> make(std::int64_t cursor_id, Namespace ns, HostAndPort server);
};

// An owning FIFO list of records, as KillQueue::drain() returns them. Frees what is left.
class KillList {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = KillRecord;
    using difference_type = std::ptrdiff_t;
    using pointer = const KillRecord*;
    using reference = const KillRecord&;

    iterator() noexcept = default;
    explicit iterator(const KillRecord* node) noexcept : node_(node) {}
    reference operator*() const noexcept { return *node_; }
    pointer operator->() const noexcept { return node_; }
    iterator& operator++() noexcept {
      node_ = node_->next;
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      node_ = node_->next;
      return old;
    }
    friend bool operator==(iterator a, iterator b) noexcept { return a.node_ == b.node_; }

   private:
    const KillRecord* node_ = nullptr;
  };

  KillList() noexcept = default;
  // Takes ownership of the chain starting at `head` (linked through `next`).
  explicit KillList(KillRecord* head) noexcept : head_(head) {}
  KillList(KillList&& other) noexcept : head_(std::exchange(other.head_, nullptr)) {}
  KillList& operator=(KillList&& other) noexcept;
  KillList(const KillList&) = delete;
  KillList& operator=(const KillList&) = delete;
  ~KillList() { clear(); }

  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t size() const noexcept;  // O(n)
  iterator begin() const noexcept { return iterator(head_); }
  iterator end() const noexcept { return iterator(); }

  // Unlinks and returns the first record (null when empty).
  std::unique_ptr<KillRecord> pop_front() noexcept;
  void clear() noexcept;

 private:
  KillRecord* head_ = nullptr;
};

}  // namespace mongoslice
