#include "cursor/kill_record.hpp"

#include <utility>

#include "wire/fork_generation.hpp"

namespace mongoslice {

std::unique_ptr<KillRecord> KillRecord::make(std::int64_t cursor_id, Namespace ns,
                                             HostAndPort server) {
  auto record = std::make_unique<KillRecord>();
  record->cursor_id = cursor_id;
  record->ns = std::move(ns);
  record->server = std::move(server);
  record->fork_generation = current_fork_generation();
  return record;
}

KillList& KillList::operator=(KillList&& other) noexcept {
  if (this != &other) {
    clear();
    head_ = std::exchange(other.head_, nullptr);
  }
  return *this;
}

std::size_t KillList::size() const noexcept {
  std::size_t n = 0;
  for (const KillRecord* node = head_; node != nullptr; node = node->next) ++n;
  return n;
}

std::unique_ptr<KillRecord> KillList::pop_front() noexcept {
  KillRecord* first = head_;
  if (first == nullptr) return nullptr;
  head_ = first->next;
  first->next = nullptr;
  return std::unique_ptr<KillRecord>(first);
}

void KillList::clear() noexcept {
  while (head_ != nullptr) {
    KillRecord* node = head_;
    head_ = node->next;
    delete node;  // iterative, so a long list cannot overflow the stack
  }
}

}  // namespace mongoslice
