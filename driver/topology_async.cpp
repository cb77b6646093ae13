// Topology's asynchronous server selection (co_select_server): the attempts are the sync
// selection's own (Topology::attempt_locked); between two of them the coroutine waits for one
// SelectionWait, which completes once, with the first of
//   - a wake: the topology published a snapshot or closed (a monitor's thread calls it, through
//     the SelectionWaiters list, never under the topology's lock),
//   - the selection's deadline (a steady_timer of the coroutine's executor),
//   - cancellation through the awaiting operation's cancellation slot.
// The completion is always posted to the handler's executor, so the coroutine resumes there
// and never inside a monitor's thread.
//
// Lifetimes: the list holds each wait only weakly, the wait holds the topology not at all, and
// the coroutine holds the topology only while it attempts (never across a suspension). The
// handler (the suspended coroutine) is held by the wait until its completion is posted; the
// timer's pending wait owns an Abandon guard: when the io_context is destroyed with the timer
// pending, destroying that wait destroys the handler too (freeing the coroutine's frames), and
// marks the wait abandoned, so no later wake posts to the destroyed executor. The guard and a
// wake take the wait's mutex, so a wake that is posting when the destruction begins finishes
// first.

#include <cerrno>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "driver/topology.hpp"
#include "wire/error.hpp"

namespace mongoslice {

namespace asio = boost::asio;

namespace {

enum class WakeReason { kChanged, kDeadline, kCancelled };

class SelectionWait : public std::enable_shared_from_this<SelectionWait> {
 public:
  // Any thread, never under the topology's lock.
  void wake() noexcept { complete(WakeReason::kChanged); }

  // Completes with a WakeReason. `timer` (expiring at the deadline) must outlive the wait's
  // handler being called or destroyed.
  template <typename CompletionToken>
  auto async_wait(asio::steady_timer& timer, CompletionToken&& token) {
    return asio::async_initiate<CompletionToken, void(WakeReason)>(
        [self = shared_from_this(), &timer](auto handler) {
          self->start(std::move(handler), timer);
        },
        token);
  }

 private:
  struct Pending {
    virtual ~Pending() = default;
    virtual asio::any_io_executor executor() const = 0;
    virtual void resume(WakeReason reason) = 0;  // on executor()
  };
  template <typename Handler>
  struct PendingOf final : Pending {
    using Executor = asio::associated_executor_t<Handler, asio::any_io_executor>;
    PendingOf(Handler h, asio::cancellation_slot s, Executor e)
        : handler(std::move(h)), slot(s), handler_executor(std::move(e)) {}
    asio::any_io_executor executor() const override { return handler_executor; }
    void resume(WakeReason reason) override {
      // Per-operation cancellation: the slot's handler goes before the operation completes.
      if (slot.is_connected()) slot.clear();
      std::move(handler)(reason);
    }
    Handler handler;
    asio::cancellation_slot slot;
    Executor handler_executor;
  };
  struct Resume {
    std::unique_ptr<Pending> pending;
    WakeReason reason;
    void operator()() { pending->resume(reason); }
  };
  // Installed in the handler's cancellation slot; the slot is emitted on the handler's
  // executor.
  struct OnCancel {
    std::weak_ptr<SelectionWait> wait;
    void operator()(asio::cancellation_type type) const {
      using asio::cancellation_type;
      if ((type & (cancellation_type::terminal | cancellation_type::partial |
                   cancellation_type::total)) == cancellation_type::none) {
        return;
      }
      if (auto w = wait.lock()) w->complete(WakeReason::kCancelled);
    }
  };
  // Owned by the timer's pending wait: its destruction, run or not, ends what a wake may do.
  struct Abandon {
    std::shared_ptr<SelectionWait> wait;
    explicit Abandon(std::shared_ptr<SelectionWait> w) : wait(std::move(w)) {}
    Abandon(Abandon&&) noexcept = default;
    Abandon& operator=(Abandon&&) = delete;
    ~Abandon() {
      if (wait) wait->abandon();
    }
  };
  struct Expiry {
    Abandon guard;
    void operator()(const boost::system::error_code& error) const {
      // operation_aborted: the coroutine destroyed the timer once woken, nothing to do.
      if (!error) guard.wait->complete(WakeReason::kDeadline);
    }
  };

  template <typename Handler>
  void start(Handler handler, asio::steady_timer& timer) {
    // Once the handler is stored, another thread may complete it and the coroutine drop every
    // other reference to this wait before this function has unlocked mutex_.
    const std::shared_ptr<SelectionWait> keep = shared_from_this();
    asio::cancellation_slot slot = asio::get_associated_cancellation_slot(handler);
    auto executor = asio::get_associated_executor(handler, timer.get_executor());
    auto pending =
        std::make_unique<PendingOf<Handler>>(std::move(handler), slot, std::move(executor));
    // The slot and the timer first, the handler last: whatever completes before (a wake since
    // the registration, or on a multi-threaded executor the deadline) is kept in early_ and
    // completes the handler as soon as it is stored.
    if (slot.is_connected()) slot.template emplace<OnCancel>(OnCancel{weak_from_this()});
    timer.async_wait(Expiry{Abandon{shared_from_this()}});
    std::lock_guard lock(mutex_);
    pending_ = std::move(pending);
    if (early_) post_locked(*early_);
  }

  void complete(WakeReason reason) noexcept {
    std::lock_guard lock(mutex_);
    if (abandoned_ || done_) return;
    if (!pending_) {
      if (!early_) early_ = reason;
      return;
    }
    post_locked(reason);
  }

  // Under mutex_, so that abandon() (the executor's destruction) waits for a post in progress.
  // noexcept: a resumption that cannot be posted (no memory) would leave the operation never
  // completing; ending the program is the lesser harm.
  void post_locked(WakeReason reason) noexcept {
    done_ = true;
    Resume resume{std::move(pending_), reason};
    const asio::any_io_executor executor = resume.pending->executor();
    asio::post(executor, std::move(resume));
  }

  void abandon() noexcept {
    std::unique_ptr<Pending> pending;
    {
      std::lock_guard lock(mutex_);
      abandoned_ = true;
      pending = std::move(pending_);
    }
    // Unlocked: destroying the handler destroys the coroutine's frames, which hold this wait.
  }

  std::mutex mutex_;
  std::unique_ptr<Pending> pending_;
  std::optional<WakeReason> early_;
  bool done_ = false;       // the completion is posted
  bool abandoned_ = false;  // the timer's wait is gone: so may be the executor
};

Error closed_error() {
  return Error(errc::client_closed, "the topology is closed");
}

Error cancelled_error() {
  return Error(std::error_code(ECANCELED, std::system_category()), "server selection cancelled");
}

}  // namespace

std::optional<SelectedServer> Topology::try_select_server(const ReadPreference& read_preference) {
  std::unique_lock lock(mutex_);
  ensure_open(lock);
  std::shared_ptr<const TopologyDescription> snapshot;
  return attempt_locked(lock, OperationKind::kRead, read_preference, {}, snapshot);
}

std::optional<SelectedServer> Topology::try_select_server_for_writes() {
  const ReadPreference primary;
  std::unique_lock lock(mutex_);
  ensure_open(lock);
  std::shared_ptr<const TopologyDescription> snapshot;
  return attempt_locked(lock, OperationKind::kWrite, primary, {}, snapshot);
}

asio::awaitable<SelectedServer> Topology::co_select_server(ReadPreference read_preference,
                                                           std::vector<HostAndPort> deprioritized) {
  std::string what(to_string(read_preference.mode));
  return co_select(self_, OperationKind::kRead, std::move(read_preference), std::move(what),
                   std::move(deprioritized));
}

asio::awaitable<SelectedServer> Topology::co_select_server_for_writes(
    std::vector<HostAndPort> deprioritized) {
  // A named argument: GCC 12 destroys an aggregate prvalue given to a coroutine's by-value
  // parameter twice.
  ReadPreference primary;
  return co_select(self_, OperationKind::kWrite, primary, "writes", std::move(deprioritized));
}

asio::awaitable<SelectedServer> Topology::co_select(std::weak_ptr<Topology> weak,
                                                    OperationKind kind,
                                                    ReadPreference read_preference,
                                                    std::string what,
                                                    std::vector<HostAndPort> deprioritized) {
  const auto executor = co_await asio::this_coro::executor;
  const asio::cancellation_state cancellation = co_await asio::this_coro::cancellation_state;
  std::chrono::steady_clock::time_point deadline;
  {
    const std::shared_ptr<Topology> topology = weak.lock();
    if (!topology) throw closed_error();
    deadline = std::chrono::steady_clock::now() + topology->uri_.server_selection_timeout;
    std::unique_lock lock(topology->mutex_);
    topology->ensure_open(lock);
  }
  for (;;) {
    // Checked here too: co_await would otherwise throw asio's own error for a cancellation
    // that came before the wait.
    if (cancellation.cancelled() != asio::cancellation_type::none) throw cancelled_error();
    auto wait = std::make_shared<SelectionWait>();
    std::optional<SelectedServer> selected;
    SelectionWaiters::Id id = 0;
    {
      // Held only for the attempt: the coroutine never keeps the topology alive while it waits.
      const std::shared_ptr<Topology> topology = weak.lock();
      if (!topology) throw closed_error();
      std::unique_lock lock(topology->mutex_);
      std::shared_ptr<const TopologyDescription> snapshot;
      selected = topology->attempt_locked(lock, kind, read_preference, deprioritized, snapshot);
      if (!selected) {
        // As the sync selection: ask the monitors for checks; past the deadline with the
        // snapshot unchanged, fail with the same message.
        topology->request_checks_locked();
        if (std::chrono::steady_clock::now() >= deadline) {
          throw topology->selection_timeout(*snapshot, what);
        }
        // Under the same lock in which `snapshot` was found current: no publish is missed.
        id = topology->waiters_.add([weak_wait = std::weak_ptr<SelectionWait>(wait)] {
          if (auto w = weak_wait.lock()) w->wake();
        });
      }
    }
    if (selected) co_return std::move(*selected);
    WakeReason reason;
    {
      asio::steady_timer timer(executor, deadline);
      reason = co_await wait->async_wait(timer, asio::use_awaitable);
    }
    if (reason != WakeReason::kChanged) {
      // The registration is still listed (a wake takes it out): remove it, not to wait for the
      // next publish to drop it.
      if (const std::shared_ptr<Topology> topology = weak.lock()) {
        std::lock_guard lock(topology->mutex_);
        topology->waiters_.remove(id);
      }
    }
    if (reason == WakeReason::kCancelled) throw cancelled_error();
    // A new snapshot, closed, or the deadline: the next attempt tells which.
  }
}

}  // namespace mongoslice
