#include "driver/selection_waiters.hpp"

#include <utility>

namespace mongoslice {

SelectionWaiters::Id SelectionWaiters::add(Wake wake) {
  const Id id = ++next_id_;
  waiters_.emplace(id, std::move(wake));
  return id;
}

void SelectionWaiters::remove(Id id) noexcept {
  waiters_.erase(id);
}

SelectionWaiters::Taken SelectionWaiters::take() noexcept {
  return std::exchange(waiters_, Taken{});
}

void SelectionWaiters::wake_all(Taken& taken) noexcept {
  for (auto& [id, wake] : taken) {
    if (wake) wake();
  }
  taken.clear();
}

}  // namespace mongoslice
