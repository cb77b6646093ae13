#pragma once
// When a blocking network step must give up, and which option set that limit (for messages such
// as "timed out after 50 ms (socketTimeoutMS)").

#include <chrono>
#include <optional>
#include <string_view>

namespace mongoslice {

using SteadyClock = std::chrono::steady_clock;

struct Deadline {
  std::optional<SteadyClock::time_point> at;  // none: wait as long as it takes
  std::chrono::milliseconds budget{0};        // the limit as the user gave it
  std::string_view source;                    // the option's name, e.g. "socketTimeoutMS"

  static Deadline none() { return {}; }
  // `budget` from now on.
  static Deadline after(std::chrono::milliseconds budget, std::string_view source) {
    return {SteadyClock::now() + budget, budget, source};
  }
  // Whichever of the two comes first (its budget and source name the limit that applies).
  static Deadline earlier(const Deadline& a, const Deadline& b) {
    if (!a.at) return b;
    if (!b.at) return a;
    return *a.at <= *b.at ? a : b;
  }
  // `budget` from now on, or no limit when there is no budget.
  static Deadline after(std::optional<std::chrono::milliseconds> budget, std::string_view source) {
    return budget ? after(*budget, source) : none();
  }
};

}  // namespace mongoslice
