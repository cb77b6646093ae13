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

}  // namespace mongoslice
