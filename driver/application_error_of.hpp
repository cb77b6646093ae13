#pragma once
// The bridge from an exception an operation (or a pool establishing a connection) met to the
// ApplicationError that SDAM judges (monitor/application_error.hpp): which kind of error it
// is, and the connection facts that go with it. One function, so that operations and pools
// classify the same exception the same way.

#include <cstdint>
#include <exception>

#include "monitor/application_error.hpp"
#include "wire/address.hpp"

namespace mongoslice {

// `max_wire_version` is the connection's (0 when its handshake did not finish).
ApplicationError application_error_of(const HostAndPort& address, std::uint64_t pool_generation,
                                      std::int32_t max_wire_version, ConnectionPhase phase,
                                      const std::exception& error);

// An error while a pool established a connection of `pool_generation`.
// A failure of the authentication conversation (Error::during_authentication()) is of the
// kAuthenticating phase.
ApplicationError establishment_error(const HostAndPort& address, std::uint64_t pool_generation,
                                     const std::exception& error);

}  // namespace mongoslice
