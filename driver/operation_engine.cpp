#include "driver/operation_engine.hpp"

namespace mongoslice::sync_engine_detail {

ClientCore::Leased lease_first(ClientCore& core, OperationRun& run, bool read,
                               const ReadPreference& read_preference) {
  std::exception_ptr failure;
  try {
    return core.lease_for(read, read_preference);
  } catch (...) {
    failure = std::current_exception();
  }
  if (!run.should_retry(failure, 0)) std::rethrow_exception(failure);
  try {
    return core.lease_for(read, read_preference, run.deprioritized());
  } catch (...) {
    run.give_up(nullptr);  // throws the first failure
    throw;                 // not reached
  }
}

bson::Document round_trip(ClientCore& core, OperationRun& run, ClientCore::Leased& leased,
                          const ops::CommandToSend& command, bool read,
                          const ReadPreference& read_preference) {
  for (;;) {
    const std::int32_t wire_version = leased.lease->max_wire_version();
    std::exception_ptr failure;
    try {
      bson::View body = run.prepare(command, leased.selected, read ? &read_preference : nullptr);
      bson::Document reply = core.run_on_lease(leased.selected.address, leased.lease, command.db,
                                               body, command.sequences);
      if (run.accept(reply, wire_version)) return reply;
    } catch (...) {
      failure = std::current_exception();
    }
    if (failure && !run.should_retry(failure, wire_version)) return run.give_up(failure);
    // The retry, on a server selected anew (SDAM has heard of the failure by now).
    std::optional<ClientCore::Leased> next;
    try {
      next.emplace(core.lease_for(read, read_preference, run.deprioritized()));
    } catch (...) {  // no server for the retry: the first attempt's outcome stands
    }
    if (!next || !run.can_retry_on(next->selected)) return run.give_up(nullptr);
    leased = std::move(*next);
  }
}

}  // namespace mongoslice::sync_engine_detail
