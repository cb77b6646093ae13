#pragma once
// The process's fork generation: 0 in the original process, incremented in a child by a
// pthread_atfork child handler. Whatever belongs to the parent process remembers the generation
// it was made in, so a child can tell it apart from its own: a kill record of the parent's names
// a server-side cursor the parent still iterates (the child drops it instead of killing it), a
// socket the parent opened is one the child must neither shut down nor write to.

#include <cstdint>

namespace mongoslice {

// The current generation. The first call installs the atfork handler (once per process), so
// whatever records a generation through this call cannot predate the handler. Later calls are
// one relaxed atomic load.
std::uint64_t current_fork_generation() noexcept;

}  // namespace mongoslice
