#include "driver/events.hpp"

#include <string>

#include "wire/log.hpp"

namespace mongoslice {

void EventDispatcher::report_listener_error(const char* what) noexcept {
  try {
    log::emit(log::component::topology, log::Level::warning,
              std::string("an event listener threw (ignored): ") + what);
  } catch (...) {  // no memory for the message: nothing more we can do
  }
}

}  // namespace mongoslice
