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

// The components MONGOSLICE_LOG lists, read once.
struct EnvFilter {
  bool all = false;
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

void default_sink(std::string_view component, Level level, std::string_view message) {
  if (!env_filter().lists(component)) return;
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
