#include "monitor/periodic_executor.hpp"

#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>
#include <exception>
#include <string_view>
#include <vector>

#include "monitor/executor_registry.hpp"
#include "monitor/periodic_executor_state.hpp"
#include "wire/log.hpp"

namespace mongoslice {
namespace detail {
namespace {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<std::int64_t>::is_always_lock_free);

// The executor whose target runs on this thread, to recognise calls from inside the target.
thread_local const ExecutorState* tls_current_executor = nullptr;

std::uint32_t* futex_address(std::atomic<std::uint32_t>& word) {
  return reinterpret_cast<std::uint32_t*>(&word);
}

// Sleeps while `word` still holds `expected`, at most `timeout` (nullptr: no limit). Returns on
// a wake, a timeout, a signal, a value change or spuriously: callers re-check and recompute.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                const timespec* timeout) noexcept {
  syscall(SYS_futex, futex_address(word), FUTEX_WAIT_PRIVATE, expected, timeout, nullptr, 0);
}

timespec to_timespec(ExecutorState::Clock::duration d) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  if (ns < 0) ns = 0;
  return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

std::string cut_thread_name(const std::string& name) {
  // Linux keeps 15 characters plus the terminating NUL; longer names make setname fail.
  return name.substr(0, 15);
}

}  // namespace

ExecutorState::ExecutorState(std::string name, std::chrono::milliseconds interval,
                             std::chrono::milliseconds min_interval, std::function<bool()> target)
    : interval_ms_(interval.count()),
      min_interval_(min_interval),
      name_(std::move(name)),
      thread_name_(cut_thread_name(name_)),
      target_(std::move(target)) {
}

ExecutorState::~ExecutorState() {
  executor_registry::remove(this);
  // Normally the owner joined or detached the thread already. Never let a joinable handle reach
  // std::thread's destructor (std::terminate): detach is safe because the thread co-owns us...
  // and if it runs this destructor itself, it is about to return anyway.
  if (thread_ && thread_->joinable()) thread_->detach();
}

void ExecutorState::wake_all_waiters() noexcept {
  // Wakes the executor thread and any joiner, which all wait on word_. The caller may be a
  // signal handler: keep its errno.
  int saved_errno = errno;
  syscall(SYS_futex, futex_address(word_), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
  errno = saved_errno;
}

void ExecutorState::close() noexcept {
  // Set kClosed and clear kOpening in one step, so that an open() in progress sees the close.
  std::uint32_t word = word_.load();
  while (!word_.compare_exchange_weak(word, (word | kClosed) & ~kOpening)) {
  }
  if ((word & kClosed) == 0 || (word & kOpening) != 0) wake_all_waiters();
}

void ExecutorState::interrupt() noexcept {
  close();
  if (!interrupt_hook_) return;
  try {
    interrupt_hook_();
  } catch (...) {  // a hook must not throw; if it does, the close still stands
  }
}

void ExecutorState::set_interrupt_hook(std::function<void()> hook) {
  std::lock_guard lock(mutex_);
  interrupt_hook_ = std::move(hook);
}

void ExecutorState::set_exit_hook(std::function<void()> hook) {
  std::lock_guard lock(mutex_);
  exit_hook_ = std::move(hook);
}

void ExecutorState::run_exit_hook() noexcept {
  if (!exit_hook_) return;
  try {
    exit_hook_();
  } catch (const std::exception& e) {
    log::emit(log::component::executor, log::Level::error,
              "executor " + name_ + ": exit hook threw: " + e.what());
  } catch (...) {
  }
}

void ExecutorState::wake() noexcept {
  // A wake already pending is already seen (or about to be) by the thread: no syscall needed.
  if ((word_.fetch_or(kWake) & kWake) == 0) wake_all_waiters();
}

void ExecutorState::skip_sleep() noexcept {
  if ((word_.fetch_or(kSkip) & kSkip) == 0) wake_all_waiters();
}

void ExecutorState::update_interval(std::chrono::milliseconds interval) noexcept {
  // Store first, then change the word: a sleeper that read the old word re-reads the interval.
  interval_ms_.store(interval.count());
  word_.fetch_add(kGenerationOne);
  wake_all_waiters();
}

bool ExecutorState::on_own_thread() const noexcept {
  return tls_current_executor == this;
}

void ExecutorState::open() {
  if (executor_registry::exiting()) {
    log::emit(log::component::executor, log::Level::debug,
              "executor " + name_ + ": open() during process exit ignored");
    return;
  }
  // Register before taking mutex_: the fork handler takes the registry's lock, then ours.
  executor_registry::add(shared_from_this());
  std::unique_lock lock(mutex_);
  for (;;) {
    std::uint32_t word = word_.load();
    if ((word & kRunning) == 0) break;
    if ((word & kClosed) == 0) return;  // running and not closed: nothing to do
    if (on_own_thread()) {
      // Reopened from the target after close(): the thread has not left its loop yet (it is
      // running this call), so cancelling the close keeps it going, unless another close()
      // comes in meanwhile (it clears kOpening and wins).
      word = word_.fetch_or(kOpening) | kOpening;
      while ((word & kOpening) != 0 &&
             !word_.compare_exchange_weak(word, word & ~(kClosed | kOpening))) {
      }
      return;
    }
    // Closed but not ended yet: wait for the old thread without our lock (fork and join take it).
    lock.unlock();
    wait_for_thread_end(Clock::time_point::max());
    lock.lock();
  }
  if (thread_) {
    if (thread_->joinable()) thread_->join();  // it has ended: kRunning is clear
    thread_.reset();
  }
  // Announce the opening, then turn it into "running, not closed" in one compare-exchange. A
  // close() in between clears kOpening: it wins, and no thread starts.
  std::uint32_t word = word_.fetch_or(kOpening) | kOpening;
  for (;;) {
    if ((word & kOpening) == 0) return;  // closed meanwhile
    if (word_.compare_exchange_weak(word, (word & ~(kClosed | kOpening)) | kRunning)) break;
  }
  try {
    thread_ = std::make_unique<std::thread>(&ExecutorState::run, shared_from_this());
  } catch (...) {
    word_.fetch_or(kClosed);
    word_.fetch_and(~kRunning);
    wake_all_waiters();
    throw;
  }
  ++thread_serial_;
}

void ExecutorState::run(std::shared_ptr<ExecutorState> self) {
  ExecutorState& state = *self;
  tls_current_executor = &state;
  pthread_setname_np(pthread_self(), state.thread_name_.c_str());
  for (;;) {
    if (state.word_.load() & kClosed) break;
    // Wakes up to here are served by this run; a wake during the run asks for one more.
    state.word_.fetch_and(~kWake);
    state.runs_.fetch_add(1, std::memory_order_relaxed);
    const auto run_start = Clock::now();
    bool again = false;
    try {
      again = state.target_();
    } catch (const std::exception& e) {
      log::emit(log::component::executor, log::Level::error,
                "executor " + state.name_ + ": target threw, executor stopped: " + e.what());
    } catch (...) {
      log::emit(log::component::executor, log::Level::error,
                "executor " + state.name_ + ": target threw a non-std exception, executor stopped");
    }
    if (!again) {
      state.word_.fetch_or(kClosed);
      break;
    }
    if (!state.sleep_until_next_run(run_start, Clock::now())) break;
  }
  tls_current_executor = nullptr;
  state.word_.fetch_and(~kRunning);
  state.wake_all_waiters();  // joiners
  // `self` goes last: if it is the last owner, the state is destroyed here, on this thread.
}

bool ExecutorState::sleep_until_next_run(Clock::time_point run_start, Clock::time_point run_end) {
  for (;;) {
    // Read the word before the interval: an update between the two changes the word, so the
    // FUTEX_WAIT below returns at once and we recompute.
    const std::uint32_t word = word_.load();
    if (word & kClosed) return false;
    if (word & kSkip) {
      word_.fetch_and(~kSkip);
      return true;
    }
    const std::int64_t interval_ms = interval_ms_.load();
    if (interval_ms == PeriodicExecutor::kUntilWoken.count() && (word & kWake) == 0) {
      futex_wait(word_, word, nullptr);  // no deadline: only a change of the word ends this
      continue;
    }
    auto deadline = interval_ms == PeriodicExecutor::kUntilWoken.count()
                        ? run_start + min_interval_
                        : run_end + std::chrono::milliseconds(interval_ms);
    if (word & kWake) deadline = std::min(deadline, run_start + min_interval_);
    const auto now = Clock::now();
    if (now >= deadline) return true;
    const timespec timeout = to_timespec(deadline - now);
    futex_wait(word_, word, &timeout);
  }
}

bool ExecutorState::wait_for_thread_end(Clock::time_point deadline) {
  for (;;) {
    const std::uint32_t word = word_.load();
    if ((word & kRunning) == 0) return true;
    if (deadline == Clock::time_point::max()) {
      futex_wait(word_, word, nullptr);
      continue;
    }
    const auto now = Clock::now();
    if (now >= deadline) return false;
    const timespec timeout = to_timespec(deadline - now);
    futex_wait(word_, word, &timeout);
  }
}

bool ExecutorState::join_until(Clock::time_point deadline) {
  if (on_own_thread()) return false;
  std::uint64_t serial;
  {
    std::lock_guard lock(mutex_);
    serial = thread_serial_;
  }
  if (!wait_for_thread_end(deadline)) return false;
  std::lock_guard lock(mutex_);
  // When open() started another thread meanwhile, it joined the one we waited for.
  if (serial == thread_serial_ && thread_) {
    if (thread_->joinable()) thread_->join();  // prompt: the thread has left its loop
    thread_.reset();
  }
  return true;
}

void ExecutorState::release_from_owner() {
  {
    std::lock_guard lock(mutex_);
    if (!thread_) return;
    if (on_own_thread() || executor_registry::exiting()) {
      // The thread co-owns this state, so it may outlive its owner safely.
      if (thread_->joinable()) thread_->detach();
      thread_.reset();
      return;
    }
  }
  join_until(Clock::time_point::max());
}

void ExecutorState::reset_in_child() {
  // The parent's thread does not exist here. Calling join, detach or the destructor of its
  // std::thread would act on a pthread that is not ours (undefined behaviour, or terminate for
  // a joinable handle), so the handle is leaked on purpose, into a list that keeps it reachable
  // (LeakSanitizer would report it at the child's exit otherwise). The thread's reference to
  // this state is leaked with it.
  static auto* abandoned = new std::vector<std::thread*>();
  try {
    abandoned->push_back(thread_.get());
  } catch (...) {  // no memory: leak it unlisted
  }
  (void)thread_.release();
  std::uint32_t word = word_.load();
  while (!word_.compare_exchange_weak(word, (word & ~(kRunning | kWake | kSkip)) | kClosed)) {
  }
  mutex_.unlock();
}

}  // namespace detail

PeriodicExecutor::PeriodicExecutor(std::string name, std::chrono::milliseconds interval,
                                   std::chrono::milliseconds min_interval,
                                   std::function<bool()> target)
    : state_(std::make_shared<detail::ExecutorState>(std::move(name), interval, min_interval,
                                                     std::move(target))) {
}

PeriodicExecutor::~PeriodicExecutor() {
  if (!state_) return;  // moved from
  state_->close();
  state_->release_from_owner();
}

void PeriodicExecutor::open() {
  state_->open();
}
void PeriodicExecutor::close() noexcept {
  state_->close();
}
void PeriodicExecutor::wake() noexcept {
  state_->wake();
}
void PeriodicExecutor::interrupt() noexcept {
  state_->interrupt();
}
void PeriodicExecutor::set_interrupt_hook(std::function<void()> hook) {
  state_->set_interrupt_hook(std::move(hook));
}
void PeriodicExecutor::set_exit_hook(std::function<void()> hook) {
  state_->set_exit_hook(std::move(hook));
}
std::uint64_t PeriodicExecutor::runs() const noexcept {
  return state_->runs();
}
void PeriodicExecutor::skip_sleep() noexcept {
  state_->skip_sleep();
}
void PeriodicExecutor::update_interval(std::chrono::milliseconds interval) noexcept {
  state_->update_interval(interval);
}
bool PeriodicExecutor::join(std::chrono::milliseconds timeout) {
  using Clock = detail::ExecutorState::Clock;
  const auto now = Clock::now();
  // Clamp, so that a huge timeout does not overflow the deadline.
  const auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(
      Clock::time_point::max() - now - std::chrono::hours(24));
  if (timeout >= limit) return state_->join_until(Clock::time_point::max());
  return state_->join_until(now + timeout);
}
bool PeriodicExecutor::is_running() const noexcept {
  return state_->is_running();
}
bool PeriodicExecutor::closed() const noexcept {
  return state_->closed();
}
const std::string& PeriodicExecutor::name() const noexcept {
  return state_->name();
}

}  // namespace mongoslice
