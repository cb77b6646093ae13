#pragma once
// The process's fork generation: 0 in the original process, incremented in a child by a
// pthread_atfork child handler. A kill record remembers the generation it was created in; a
// record from another generation names a server-side cursor that belongs to the parent process,
// and killing it from the child would break the parent's iteration, so it is dropped instead.

#include <cstdint>

namespace mongoslice {

// The current generation. The first call installs the atfork handler (once per process); every
// record is created through this call, so no record can predate the handler.
std::uint64_t current_fork_generation() noexcept;

}  // namespace mongoslice
