#pragma once
// Read preference on the wire (server-selection spec, OP_MSG): whether a read command carries
// `$readPreference` to the server it was sent to, and with what. Pure functions of the
// operation's read preference, the selected server's type and the topology's type.
//
//   to a mongos or a load balancer (any topology): mode primary sends nothing; every other mode
//     sends {mode, tags, maxStalenessSeconds} (secondaryPreferred too: the OP_QUERY exception for
//     a bare secondaryPreferred does not apply to OP_MSG);
//   to a standalone: nothing, ever;
//   Single topology (a direct connection) to any other server: mode primary becomes
//     {mode: "primaryPreferred"}, so that a secondary answers; other modes are sent as they are;
//   replica-set members: mode primary sends nothing; every other mode sends the document, which
//     is how a secondary learns that the read may run there.

#include <optional>

#include "monitor/server_description.hpp"
#include "monitor/topology_description.hpp"
#include "ops/read_preference.hpp"
#include "wire/bson.hpp"

namespace mongoslice {

// The `$readPreference` document a read sent to a server of type `server` in a topology of type
// `topology` must carry, or nothing when it must carry none. Empty tag sets are left out
// (`tags` must be a non-empty array when present).
std::optional<bson::Document> wire_read_preference(const ReadPreference& read_preference,
                                                   ServerType server, TopologyType topology);

// A copy of `command` with `$readPreference` appended when wire_read_preference() gives one;
// nothing when the command goes as it is (no copy made). A command that already names its own
// `$readPreference` goes as it is: its caller chose.
std::optional<bson::Document> with_wire_read_preference(bson::View command,
                                                        const ReadPreference& read_preference,
                                                        ServerType server, TopologyType topology);

}  // namespace mongoslice
