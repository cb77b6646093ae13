#include "driver/read_preference_wire.hpp"

#include <cstdint>
#include <limits>

namespace mongoslice {
namespace {

using Mode = ReadPreference::Mode;

bson::Document document_of(const ReadPreference& rp) {
  bson::Builder doc;
  doc.append("mode", to_string(rp.mode));
  if (!rp.tag_sets.empty()) {
    doc.open_array("tags");
    for (const bson::Document& tag_set : rp.tag_sets) doc.append_value(tag_set.view());
    doc.close();
  }
  if (rp.max_staleness) {
    const std::int64_t seconds = rp.max_staleness->count();
    if (seconds >= std::numeric_limits<std::int32_t>::min() &&
        seconds <= std::numeric_limits<std::int32_t>::max()) {
      doc.append("maxStalenessSeconds", static_cast<std::int32_t>(seconds));
    } else {
      doc.append("maxStalenessSeconds", seconds);
    }
  }
  return doc.build();
}

}  // namespace

std::optional<bson::Document> wire_read_preference(const ReadPreference& read_preference,
                                                   ServerType server, TopologyType topology) {
  if (server == ServerType::kStandalone) return std::nullopt;
  const bool routed = server == ServerType::kMongos || server == ServerType::kLoadBalancer;
  if (topology == TopologyType::kSingle && !routed && read_preference.mode == Mode::kPrimary) {
    // A direct connection may be to a secondary: primaryPreferred lets any member answer.
    ReadPreference any_member;
    any_member.mode = Mode::kPrimaryPreferred;
    return document_of(any_member);
  }
  if (read_preference.mode == Mode::kPrimary) return std::nullopt;
  return document_of(read_preference);
}

std::optional<bson::Document> with_wire_read_preference(bson::View command,
                                                        const ReadPreference& read_preference,
                                                        ServerType server, TopologyType topology) {
  if (command.contains("$readPreference")) return std::nullopt;
  auto doc = wire_read_preference(read_preference, server, topology);
  if (!doc) return std::nullopt;
  return bson::Builder{}.concat(command).append("$readPreference", doc->view()).build();
}

}  // namespace mongoslice
