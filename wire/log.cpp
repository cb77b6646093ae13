#include "wire/log.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace mongoslice::log {
namespace {

// Both objects below are created on first use and never destroyed: executor threads and
// destructors of other static objects may log during static destruction, after a normal
// static here would be gone.

// What MONGOSLICE_LOG asks for, read once: the components logged at every level, and whether
// warnings and errors of the others are shown (unless "none" is listed).
struct EnvFilter {
  bool all = false;
  bool quiet = false;  // "none": no warnings of unlisted components either
  std::vector<std::string> components;

  EnvFilter() {
    const char* value = std::getenv("MONGOSLICE_LOG");
    if (value == nullptr) return;
    std::string_view rest(value);
    while (!rest.empty()) {
      auto comma = rest.find(',');
      auto item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (item == "all") all = true;
      if (item == "none") quiet = true;
      if (!item.empty()) components.emplace_back(item);
    }
  }

  bool lists(std::string_view component) const noexcept {
    if (all) return true;
    for (const auto& listed : components) {
      if (listed == component) return true;
    }
    return false;
  }
};

const EnvFilter& env_filter() {
  static const EnvFilter* filter = new EnvFilter();
  return *filter;
}

// An empty pointer means the default sink.
std::atomic<std::shared_ptr<const Sink>>& custom_sink() {
  static auto* sink = new std::atomic<std::shared_ptr<const Sink>>();
  return *sink;
}

// Whether the default sink writes a message of this component and level.
bool shown(std::string_view component, Level level) {
  const EnvFilter& filter = env_filter();
  if (filter.lists(component)) return true;
  return !filter.quiet && level >= Level::warning;
}

void default_sink(std::string_view component, Level level, std::string_view message) {
  if (!shown(component, level)) return;
  // One fwrite per line, so that lines from several threads do not interleave.
  std::string line = "[mongoslice ";
  line.append(component).append(" ").append(to_string(level)).append("] ");
  line.append(message).append("\n");
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

std::string_view to_string(Level level) noexcept {
  switch (level) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warning:
      return "warning";
    case Level::error:
      return "error";
  }
  return "unknown";
}

void emit(std::string_view component, Level level, std::string_view message) noexcept {
  try {
    if (auto sink = custom_sink().load()) {
      (*sink)(component, level, message);
    } else {
      default_sink(component, level, message);
    }
  } catch (...) {
    // Logging must not change the caller's behaviour.
  }
}

void set_sink(Sink sink) {
  std::shared_ptr<const Sink> replacement;
  if (sink) replacement = std::make_shared<const Sink>(std::move(sink));
  custom_sink().store(std::move(replacement));
}

bool enabled(std::string_view component) noexcept {
  try {
    return custom_sink().load() != nullptr || env_filter().lists(component);
  } catch (...) {
    return false;
  }
}

}  // namespace mongoslice::log
