#pragma once
// Which failures allow the one retry of the retryable reads and retryable writes specs.
// Internal to driver/.
//
//   network class: a connection that failed, closed or timed out under the operation, and a
//     checkout refused because the pool was cleared (errc::network_error, connection_closed,
//     timeout, pool_cleared). An interrupt (close(), the exit handler) never is.
//   reads: the network class, and a server error with one of the spec's codes: 6 HostUnreachable,
//     7 HostNotFound, 89 NetworkTimeout, 91 ShutdownInProgress, 134
//     ReadConcernMajorityNotAvailableYet, 189 PrimarySteppedDown, 262
//     ExceededTimeLimit, 9001 SocketException, 10107 NotWritablePrimary, 11600
//     InterruptedAtShutdown, 11602 InterruptedDueToReplStateChange, 13435 NotPrimaryNoSecondaryOk,
//     13436 NotPrimaryOrSecondary.
//   writes: the network class, and a server error labelled RetryableWriteError; a server older
//     than MongoDB 4.4 (wire version 9) adds no labels, so its errors are judged by the codes
//     above (134 excepted), a writeConcernError's code included.

#include <cstdint>
#include <exception>

#include "wire/bson.hpp"

namespace mongoslice {

bool is_network_class_error(const std::exception& e) noexcept;
bool is_retryable_read_error(const std::exception& e) noexcept;
bool is_retryable_write_error(const std::exception& e, std::int32_t wire_version) noexcept;
// An {ok: 1} write reply whose writeConcernError allows the retry (labelled, or by its code for
// a server before 4.4).
bool is_retryable_write_concern_reply(bson::View reply, std::int32_t wire_version) noexcept;
// The retry's error says it wrote nothing (the NoWritesPerformed label): the first error is the
// one to report.
bool says_no_writes_performed(const std::exception& e) noexcept;

}  // namespace mongoslice
