#pragma once
// Write concern and read concern (the read-write-concern spec): what a command carries so the
// server acknowledges a write the way the user asked, or reads at the isolation asked. Plain
// data; a concern whose fields are all empty is the server's default and is not sent.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "wire/bson.hpp"

namespace mongoslice {

// A write concern (read-write-concern spec): sent on write commands unless it is the server's
// default. Plain data; validated when appended (wire::append_write_concern).
struct WriteConcern {
  // w: how many members acknowledge (0: unacknowledged, 1: the primary) or a mode ("majority",
  // a tag set's name). Empty: the server's default.
  std::optional<std::variant<std::int32_t, std::string>> w;
  std::optional<bool> journal;  // j: acknowledged once in the on-disk journal
  std::optional<std::chrono::milliseconds> wtimeout;

  // Whether all fields are empty (the server's default: nothing is sent).
  bool is_server_default() const noexcept { return !w && !journal && !wtimeout; }
  // w: 0 with no journal: the server answers nothing the driver must wait for.
  bool is_acknowledged() const noexcept;
  friend bool operator==(const WriteConcern&, const WriteConcern&) = default;
};

// A read concern: sent on read commands unless it is the server's default.
struct ReadConcern {
  // "local", "majority", "linearizable", "available", "snapshot"; empty: the server's default.
  std::optional<std::string> level;
  bool is_server_default() const noexcept { return !level; }
  friend bool operator==(const ReadConcern&, const ReadConcern&) = default;
};

namespace wire {

// Appends writeConcern: {w, j, wtimeout} to a command being built, unless the concern is the
// server default. Throws Error(errc::invalid_argument) for a concern the spec forbids
// (w: 0 with j: true; a negative w or wtimeout).
void append_write_concern(bson::Builder& command, const WriteConcern& concern);
// Appends readConcern: {level} unless it is the server default.
void append_read_concern(bson::Builder& command, const ReadConcern& concern);

}  // namespace wire
}  // namespace mongoslice
