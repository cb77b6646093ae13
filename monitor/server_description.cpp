#include "monitor/server_description.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <limits>
#include <stdexcept>
#include <utility>

#include "wire/error.hpp"

namespace mongoslice {
namespace {

constexpr std::array<std::pair<ServerType, std::string_view>, 10> kServerTypeNames{{
    {ServerType::kUnknown, "Unknown"},
    {ServerType::kStandalone, "Standalone"},
    {ServerType::kMongos, "Mongos"},
    {ServerType::kPossiblePrimary, "PossiblePrimary"},
    {ServerType::kRSPrimary, "RSPrimary"},
    {ServerType::kRSSecondary, "RSSecondary"},
    {ServerType::kRSArbiter, "RSArbiter"},
    {ServerType::kRSOther, "RSOther"},
    {ServerType::kRSGhost, "RSGhost"},
    {ServerType::kLoadBalancer, "LoadBalancer"},
}};

// A reply field that does not have the shape hello promises. Caught in from_hello, which turns
// it into an Unknown description: a monitor must survive any reply.
struct BadReply : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool oid_equal(const std::optional<bson_oid_t>& a, const std::optional<bson_oid_t>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || bson_oid_equal(&*a, &*b);
}

bool is_null(const bson::Element& e) {
  return e.type() == bson::Type::kNull || e.type() == bson::Type::kUndefined;
}

HostAndPort address_field(std::string_view field, const bson::Element& e) {
  if (e.type() != bson::Type::kString) {
    throw BadReply(std::string(field) + " holds a " + std::string(bson::type_name(e.type())) +
                   ", not an address string");
  }
  auto parsed = parse_host_and_port(e.get_string());
  if (!parsed) {
    throw BadReply(std::string(field) + " holds '" + std::string(e.get_string()) +
                   "', not host:port");
  }
  return *parsed;
}

std::vector<HostAndPort> address_list(bson::View reply, std::string_view field) {
  std::vector<HostAndPort> out;
  auto e = reply.find(field);
  if (!e || is_null(*e)) return out;
  if (e->type() != bson::Type::kArray) {
    throw BadReply(std::string(field) + " is a " + std::string(bson::type_name(e->type())) +
                   ", not an array");
  }
  for (const bson::Element& member : e->get_array()) out.push_back(address_field(field, member));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::int64_t number_field(std::string_view field, const bson::Element& e) {
  if (!e.is_number()) {
    throw BadReply(std::string(field) + " is a " + std::string(bson::type_name(e.type())) +
                   ", not a number");
  }
  return e.as_int64();
}

std::int32_t wire_version_field(bson::View reply, std::string_view field) {
  auto e = reply.find(field);
  if (!e) return 0;
  std::int64_t v = number_field(field, *e);
  if (v < 0 || v > std::numeric_limits<std::int32_t>::max()) {
    throw BadReply(std::string(field) + " " + std::to_string(v) + " is out of range");
  }
  return static_cast<std::int32_t>(v);
}

bool flag(bson::View reply, std::string_view field) {
  auto e = reply.find(field);
  return e && e->as_bool();
}

std::optional<TopologyVersion> topology_version_field(bson::View reply) {
  auto e = reply.find("topologyVersion");
  if (!e || is_null(*e)) return std::nullopt;
  if (e->type() != bson::Type::kDocument) throw BadReply("topologyVersion is not a document");
  bson::View doc = e->get_document();
  auto pid = doc.find("processId");
  auto counter = doc.find("counter");
  if (!pid || pid->type() != bson::Type::kOid) {
    throw BadReply("topologyVersion.processId is missing or not an ObjectId");
  }
  if (!counter) throw BadReply("topologyVersion.counter is missing");
  return TopologyVersion{pid->get_oid(), number_field("topologyVersion.counter", *counter)};
}

ServerType type_of(bson::View reply, const std::optional<std::string>& set_name) {
  if (flag(reply, "isreplicaset")) return ServerType::kRSGhost;
  if (set_name) {
    // hello says isWritablePrimary; servers before 4.4.2 (legacy hello) say ismaster.
    bool primary = reply.contains("isWritablePrimary") ? flag(reply, "isWritablePrimary")
                                                       : flag(reply, "ismaster");
    if (flag(reply, "hidden")) return ServerType::kRSOther;
    if (primary) return ServerType::kRSPrimary;
    if (flag(reply, "secondary")) return ServerType::kRSSecondary;
    if (flag(reply, "arbiterOnly")) return ServerType::kRSArbiter;
    return ServerType::kRSOther;
  }
  auto msg = reply.find("msg");
  if (msg && msg->type() == bson::Type::kString && msg->get_string() == "isdbgrid") {
    return ServerType::kMongos;
  }
  return ServerType::kStandalone;
}

void parse_reply(ServerDescription& sd, bson::View reply) {
  if (auto e = reply.find("setName"); e && !is_null(*e)) {
    if (e->type() != bson::Type::kString) throw BadReply("setName is not a string");
    sd.set_name = std::string(e->get_string());
  }
  sd.type = type_of(reply, sd.set_name);
  sd.min_wire_version = wire_version_field(reply, "minWireVersion");
  sd.max_wire_version = wire_version_field(reply, "maxWireVersion");
  if (auto e = reply.find("me"); e && !is_null(*e)) sd.me = address_field("me", *e);
  if (auto e = reply.find("primary"); e && !is_null(*e)) {
    sd.primary = address_field("primary", *e);
  }
  sd.hosts = address_list(reply, "hosts");
  sd.passives = address_list(reply, "passives");
  sd.arbiters = address_list(reply, "arbiters");
  if (auto e = reply.find("tags"); e && !is_null(*e)) {
    if (e->type() != bson::Type::kDocument) throw BadReply("tags is not a document");
    for (const bson::Element& tag : e->get_document()) {
      if (tag.type() == bson::Type::kString) {
        sd.tags.emplace(std::string(tag.key()), std::string(tag.get_string()));
      }
    }
  }
  if (auto e = reply.find("setVersion"); e && !is_null(*e)) {
    sd.set_version = number_field("setVersion", *e);
  }
  if (auto e = reply.find("electionId"); e && !is_null(*e)) {
    if (e->type() != bson::Type::kOid) throw BadReply("electionId is not an ObjectId");
    sd.election_id = e->get_oid();
  }
  if (auto e = reply.find("logicalSessionTimeoutMinutes"); e && !is_null(*e)) {
    sd.logical_session_timeout_minutes = number_field("logicalSessionTimeoutMinutes", *e);
  }
  if (auto e = reply.find("lastWrite"); e && e->type() == bson::Type::kDocument) {
    auto date = e->get_document().find("lastWriteDate");
    if (date && date->type() == bson::Type::kDateTime) sd.last_write_date = date->get_date_time();
  }
  sd.topology_version = topology_version_field(reply);
}

}  // namespace

std::string_view to_string(ServerType type) noexcept {
  for (const auto& [t, name] : kServerTypeNames) {
    if (t == type) return name;
  }
  return "Unknown";
}

std::optional<ServerType> parse_server_type(std::string_view name) noexcept {
  for (const auto& [t, n] : kServerTypeNames) {
    if (n == name) return t;
  }
  return std::nullopt;
}

bool is_older_topology_version(const std::optional<TopologyVersion>& current,
                               const std::optional<TopologyVersion>& incoming) noexcept {
  if (!current || !incoming) return false;
  if (!bson_oid_equal(&current->process_id, &incoming->process_id)) return false;
  return incoming->counter < current->counter;
}

std::optional<HostAndPort> parse_host_and_port(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      port = rest.substr(1);
      if (port.empty()) return std::nullopt;
    }
  } else {
    auto colon = text.rfind(':');
    if (colon != std::string_view::npos) {
      // An unbracketed IPv6 literal is ambiguous ("::1:27017"): refuse it.
      if (text.find(':') != colon) return std::nullopt;
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      if (port.empty()) return std::nullopt;
    } else {
      host = text;
    }
  }
  if (host.empty()) return std::nullopt;
  HostAndPort out{lower(host), 27017};
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  return out;
}

ServerDescription ServerDescription::unknown(HostAndPort address) {
  ServerDescription sd;
  sd.address = std::move(address);
  return sd;
}

ServerDescription ServerDescription::from_error(HostAndPort address, std::string error,
                                                std::optional<TopologyVersion> topology_version) {
  ServerDescription sd = unknown(std::move(address));
  sd.error = std::move(error);
  sd.topology_version = topology_version;
  sd.last_update_time = std::chrono::steady_clock::now();
  return sd;
}

ServerDescription ServerDescription::from_hello(HostAndPort address, bson::View reply,
                                                std::optional<std::chrono::nanoseconds> rtt,
                                                std::chrono::nanoseconds min_rtt,
                                                std::chrono::steady_clock::time_point now) {
  ServerDescription sd = unknown(std::move(address));
  sd.last_update_time = now;
  auto ok = reply.find("ok");
  if (!ok || !ok->as_bool()) {
    // A failed hello (for example an authentication error in the handshake): Unknown, with
    // the server's words. The topologyVersion still orders it (state-change errors carry one).
    auto errmsg = reply.find("errmsg");
    sd.error = "hello failed on " + sd.address.to_string() + ": " +
               (errmsg && errmsg->type() == bson::Type::kString ? std::string(errmsg->get_string())
                                                                : reply.to_json());
    try {
      sd.topology_version = topology_version_field(reply);
    } catch (const BadReply&) {
    }
    return sd;
  }
  try {
    parse_reply(sd, reply);
  } catch (const std::exception& e) {  // BadReply, or mongoslice::Error from an accessor
    ServerDescription bad = from_error(
        sd.address, "invalid hello reply from " + sd.address.to_string() + ": " + e.what());
    bad.last_update_time = now;
    return bad;
  }
  sd.round_trip_time = rtt;
  sd.min_round_trip_time = min_rtt;
  return sd;
}

bool ServerDescription::is_data_bearing() const noexcept {
  switch (type) {
    case ServerType::kStandalone:
    case ServerType::kMongos:
    case ServerType::kRSPrimary:
    case ServerType::kRSSecondary:
    case ServerType::kLoadBalancer:
      return true;
    default:
      return false;
  }
}

bool ServerDescription::is_writable() const noexcept {
  switch (type) {
    case ServerType::kStandalone:
    case ServerType::kMongos:
    case ServerType::kRSPrimary:
    case ServerType::kLoadBalancer:
      return true;
    default:
      return false;
  }
}

bool ServerDescription::lists_member(const HostAndPort& a) const noexcept {
  auto in = [&a](const std::vector<HostAndPort>& list) {
    return std::binary_search(list.begin(), list.end(), a);
  };
  return in(hosts) || in(passives) || in(arbiters);
}

bool ServerDescription::matches_tag_set(bson::View tag_set) const {
  for (const bson::Element& wanted : tag_set) {
    if (wanted.type() != bson::Type::kString) return false;
    auto it = tags.find(wanted.key());
    if (it == tags.end() || it->second != wanted.get_string()) return false;
  }
  return true;
}

bool operator==(const ServerDescription& a, const ServerDescription& b) noexcept {
  return a.address == b.address && a.type == b.type && a.error == b.error &&
         a.min_wire_version == b.min_wire_version && a.max_wire_version == b.max_wire_version &&
         a.me == b.me && a.hosts == b.hosts && a.passives == b.passives &&
         a.arbiters == b.arbiters && a.tags == b.tags && a.set_name == b.set_name &&
         a.set_version == b.set_version && oid_equal(a.election_id, b.election_id) &&
         a.primary == b.primary &&
         a.logical_session_timeout_minutes == b.logical_session_timeout_minutes &&
         a.topology_version == b.topology_version;
}

}  // namespace mongoslice
