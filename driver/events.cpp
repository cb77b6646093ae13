#include "driver/events.hpp"

#include <string>

#include "wire/log.hpp"

namespace mongoslice {
namespace {

// Listener calls in progress on this thread (any dispatcher), so that close() from inside a
// listener does not wait for itself.
thread_local std::uint32_t tls_listener_depth = 0;

}  // namespace

EventDispatcher::Delivery::Delivery(const EventDispatcher& dispatcher) noexcept
    : dispatcher_(dispatcher) {
  // Count first, then look at the flag; close() sets the flag, then waits for the count: one of
  // the two always sees the other.
  dispatcher_.active_.fetch_add(1);
  open_ = !dispatcher_.closed_.load();
  ++tls_listener_depth;
}

EventDispatcher::Delivery::~Delivery() {
  --tls_listener_depth;
  dispatcher_.active_.fetch_sub(1);
  if (dispatcher_.closed_.load()) dispatcher_.active_.notify_all();  // a close() may wait
}

void EventDispatcher::close(bool wait) const noexcept {
  closed_.store(true);
  if (!wait) return;
  // This thread's own calls in progress (close from inside a listener) cannot end before we
  // return; with several dispatchers on the stack this may wait for fewer calls than it could.
  const std::uint32_t own = tls_listener_depth;
  for (std::uint32_t active = active_.load(); active > own; active = active_.load()) {
    active_.wait(active);
  }
}

bool EventDispatcher::in_listener() noexcept {
  return tls_listener_depth > 0;
}

void EventDispatcher::report_listener_error(const char* what) noexcept {
  try {
    log::emit(log::component::topology, log::Level::warning,
              std::string("an event listener threw (ignored): ") + what);
  } catch (...) {  // no memory for the message: nothing more we can do
  }
}

namespace {

class DispatchingPoolListener final : public PoolEventListener {
 public:
  explicit DispatchingPoolListener(std::shared_ptr<const EventDispatcher> dispatcher)
      : dispatcher_(std::move(dispatcher)) {}

  void on_pool_event(const PoolEvent& e) noexcept override {
    const EventDispatcher& d = *dispatcher_;
    switch (e.kind) {
      case PoolEventKind::kPoolCreated:
        return d.emit(PoolCreatedEvent{e.address, e.options});
      case PoolEventKind::kPoolReady:
        return d.emit(PoolReadyEvent{e.address});
      case PoolEventKind::kPoolCleared:
        return d.emit(PoolClearedEvent{e.address, e.interrupt_in_use_connections});
      case PoolEventKind::kPoolClosed:
        return d.emit(PoolClosedEvent{e.address});
      case PoolEventKind::kConnectionCreated:
        return d.emit(ConnectionCreatedEvent{e.address, e.connection_id});
      case PoolEventKind::kConnectionReady:
        return d.emit(ConnectionReadyEvent{e.address, e.connection_id, e.duration});
      case PoolEventKind::kConnectionClosed:
        return d.emit(ConnectionClosedEvent{e.address, e.connection_id, e.closed_reason});
      case PoolEventKind::kCheckOutStarted:
        return d.emit(ConnectionCheckOutStartedEvent{e.address});
      case PoolEventKind::kCheckOutFailed:
        return d.emit(ConnectionCheckOutFailedEvent{e.address, e.failed_reason, e.duration});
      case PoolEventKind::kCheckedOut:
        return d.emit(ConnectionCheckedOutEvent{e.address, e.connection_id, e.duration});
      case PoolEventKind::kCheckedIn:
        return d.emit(ConnectionCheckedInEvent{e.address, e.connection_id});
    }
  }

 private:
  const std::shared_ptr<const EventDispatcher> dispatcher_;
};

}  // namespace

std::shared_ptr<PoolEventListener> pool_event_listener_for(
    std::shared_ptr<const EventDispatcher> dispatcher) {
  if (!dispatcher || dispatcher->empty()) return nullptr;
  return std::make_shared<DispatchingPoolListener>(std::move(dispatcher));
}

}  // namespace mongoslice
