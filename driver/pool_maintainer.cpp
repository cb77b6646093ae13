#include "driver/pool_maintainer.hpp"

#include <algorithm>
#include <array>

namespace mongoslice {

struct PoolMaintainer::State {
  std::mutex mutex;  // guards pools
  std::vector<std::weak_ptr<ConnectionPool>> pools;
  // One per establishment a pool's maintain() runs at once; the interrupt hook breaks all.
  std::array<OperationInterrupt, PoolMaintainer::kParallelEstablishments> interrupts;
  bool interrupted() const noexcept { return interrupts.front().interrupted(); }
  // Set before the thread starts; the thread reschedules its own executor through it. Weak: the
  // executor owns its target, which owns this state.
  std::weak_ptr<PeriodicExecutor> executor;
};

namespace {

// One run: every live pool's maintain(), then sleep until the earliest idle deadline (or until
// woken).
bool maintain_all(PoolMaintainer::State& state) {
  std::vector<std::shared_ptr<ConnectionPool>> pools;
  {
    std::lock_guard lock(state.mutex);
    auto& list = state.pools;
    list.erase(std::remove_if(list.begin(), list.end(), [](auto& w) { return w.expired(); }),
               list.end());
    for (const auto& weak : list) {
      if (auto pool = weak.lock()) pools.push_back(std::move(pool));
    }
  }
  std::optional<SteadyClock::time_point> due;
  for (const auto& pool : pools) {
    if (state.interrupted()) return false;
    if (auto next = pool->maintain(state.interrupts)) due = due ? std::min(*due, *next) : *next;
  }
  if (state.interrupted()) return false;
  if (auto executor = state.executor.lock()) {
    using std::chrono::milliseconds;
    milliseconds interval = PeriodicExecutor::kUntilWoken;
    if (due) {
      const auto left = std::chrono::ceil<milliseconds>(*due - SteadyClock::now());
      interval = std::max(left, milliseconds(1));
    }
    executor->update_interval(interval);
  }
  return true;
}

}  // namespace

std::shared_ptr<PoolMaintainer> PoolMaintainer::create() {
  std::shared_ptr<PoolMaintainer> maintainer(new PoolMaintainer());
  auto state = std::make_shared<State>();
  maintainer->state_ = state;
  maintainer->executor_ = std::make_shared<PeriodicExecutor>(
      "mongoslice-pool", PeriodicExecutor::kUntilWoken, std::chrono::milliseconds(0),
      [state] { return maintain_all(*state); });
  maintainer->executor_->set_interrupt_hook([state]() noexcept {
    for (auto& interrupt : state->interrupts) interrupt.interrupt();
  });
  state->executor = maintainer->executor_;
  return maintainer;
}

PoolMaintainer::~PoolMaintainer() {
  close();
}

void PoolMaintainer::add(const std::shared_ptr<ConnectionPool>& pool) {
  {
    std::lock_guard lock(state_->mutex);
    state_->pools.push_back(pool);
  }
  wake();
}

void PoolMaintainer::open() {
  executor_->open();
}

void PoolMaintainer::close() noexcept {
  executor_->interrupt();
}

}  // namespace mongoslice
