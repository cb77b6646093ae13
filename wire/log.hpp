#pragma once
// A tiny log facility, in the lowest layer so that every layer may log.
//
// A message has a component ("executor", "monitor", ...), a level and a text. It goes to one
// process-wide sink. The default sink writes to stderr, one line per message:
//  - warnings and errors of every component (a connection string's unknown option, a cursor
//    destroyed after its client was closed, ...), unless MONGOSLICE_LOG lists "none";
//  - every message of the components MONGOSLICE_LOG lists (comma-separated; "all" lists all).
// MONGOSLICE_LOG is read once. Tests and applications replace the sink with set_sink.
//
// Thread-safety: emit and set_sink may be called from any thread at once. emit is not meant
// for lock-free contexts (a sink may lock); PeriodicExecutor::close/wake never log.

#include <functional>
#include <string_view>

namespace mongoslice::log {

enum class Level { debug, info, warning, error };

std::string_view to_string(Level level) noexcept;

// The components the driver logs under.
namespace component {
inline constexpr std::string_view executor = "executor";
inline constexpr std::string_view monitor = "monitor";
inline constexpr std::string_view topology = "topology";
inline constexpr std::string_view commands = "commands";
inline constexpr std::string_view cursor = "cursor";
inline constexpr std::string_view connection = "connection";
}  // namespace component

using Sink = std::function<void(std::string_view component, Level level, std::string_view message)>;

// Hands the message to the sink. An exception thrown by the sink is swallowed: logging never
// changes what the caller does.
void emit(std::string_view component, Level level, std::string_view message) noexcept;

// Replaces the sink; an empty function restores the default (stderr, filtered by MONGOSLICE_LOG).
void set_sink(Sink sink);

// True when every message of this component would reach a sink (a custom sink is set, or
// MONGOSLICE_LOG lists the component): lets callers skip formatting. (Warnings and errors of
// an unlisted component may reach the default sink even when this is false.)
bool enabled(std::string_view component) noexcept;

}  // namespace mongoslice::log
