#include "driver/uri_options.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <variant>

#include "driver/uri_credential.hpp"
#include "driver/uri_srv.hpp"
#include "driver/uri_text.hpp"

namespace mongoslice::uri_detail {
namespace {

using std::chrono::milliseconds;

constexpr std::int64_t kMaxInt32 = std::numeric_limits<std::int32_t>::max();
constexpr std::size_t kMaxAppNameBytes = 128;  // the handshake spec's limit
constexpr std::int64_t kMinHeartbeatMs = 500;  // SDAM: minHeartbeatFrequencyMS
constexpr std::string_view kTagsKey = "readpreferencetags";

// One "key=value" being applied.
struct Option {
  ConnectionString& out;
  std::string key;    // as written (percent-decoded), for messages
  std::string value;  // percent-decoded
  bool srv = false;   // the URI is mongodb+srv://

  // The spec's rule for a value a driver cannot use: warn and ignore the option.
  void ignore_value(std::string_view expected) const {
    out.warnings.push_back("option " + printable(key) + "=" + printable(value) +
                           " ignored: expected " + std::string(expected));
  }
};

// The whole text must be a decimal integer (a leading '-' allowed): "12x", "+1", " 1" and ""
// are not.
std::optional<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [stop, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || stop != end) return std::nullopt;
  return value;
}

std::optional<std::int64_t> integer_in(const Option& o, std::int64_t min, std::int64_t max,
                                       std::string_view expected) {
  auto value = parse_integer(o.value);
  if (!value || *value < min || *value > max) {
    o.ignore_value(expected);
    return std::nullopt;
  }
  return value;
}

std::optional<milliseconds> non_negative_ms(const Option& o) {
  auto value = integer_in(o, 0, kMaxInt32, "a number of milliseconds from 0 to 2147483647");
  if (!value) return std::nullopt;
  return milliseconds(*value);
}

std::optional<bool> boolean(const Option& o) {
  std::string lower = ascii_lower(o.value);
  if (lower == "true") return true;
  if (lower == "false") return false;
  o.ignore_value("true or false");
  return std::nullopt;
}

// "dc:ny,rack:1" is one tag set; "" is the empty tag set (any server). Each key and value is
// decoded after the split, so "%2C" and "%3A" may appear inside them.
std::optional<bson::Document> parse_tag_set(const Option& o, std::string_view raw) {
  bson::Builder tags;
  std::set<std::string> keys;
  while (!raw.empty()) {
    std::size_t comma = raw.find(',');
    std::string_view item = raw.substr(0, comma);
    raw = comma == std::string_view::npos ? std::string_view{} : raw.substr(comma + 1);
    std::size_t colon = item.find(':');
    if (colon == std::string_view::npos || colon == 0 ||
        (comma != std::string_view::npos && raw.empty())) {
      o.ignore_value("a tag set such as dc:ny,rack:1 (or nothing, for the empty tag set)");
      return std::nullopt;
    }
    std::string key = percent_decode(item.substr(0, colon), "a readPreferenceTags key");
    std::string value = percent_decode(item.substr(colon + 1), "a readPreferenceTags value");
    if (!keys.insert(key).second) {
      o.ignore_value("each tag name once in a tag set");
      return std::nullopt;
    }
    tags.append(key, value);
  }
  return tags.build();
}

// ---- the options mongoslice implements ------------------------------------------------------

void set_replica_set(Option& o) {
  if (o.value.empty()) return o.ignore_value("a replica set name");
  o.out.replica_set = o.value;
}

void set_direct_connection(Option& o) {
  if (auto v = boolean(o)) o.out.direct_connection = *v;
}

void set_retry_writes(Option& o) {
  if (auto v = boolean(o)) o.out.retry_writes = *v;
}

void set_retry_reads(Option& o) {
  if (auto v = boolean(o)) o.out.retry_reads = *v;
}

void set_server_monitoring_mode(Option& o) {
  // The spec's values are lower case, and so is the match ("Stream" is a warning, as "invalid").
  if (o.value == "auto") {
    o.out.server_monitoring_mode = ServerMonitoringMode::automatic;
  } else if (o.value == "stream") {
    o.out.server_monitoring_mode = ServerMonitoringMode::stream;
  } else if (o.value == "poll") {
    o.out.server_monitoring_mode = ServerMonitoringMode::poll;
  } else {
    o.ignore_value("auto, stream or poll");
  }
}

void set_heartbeat_frequency(Option& o) {
  auto v = integer_in(o, 0, kMaxInt32, "a number of milliseconds from 500 to 2147483647");
  if (!v) return;
  // A valid number that is too small would make monitors hammer the servers: an error.
  if (*v < kMinHeartbeatMs) {
    throw_invalid_uri("heartbeatFrequencyMS=" + printable(o.value) +
                      " is below the minimum of 500 ms");
  }
  o.out.heartbeat_frequency = milliseconds(*v);
}

void set_server_selection_timeout(Option& o) {
  if (auto v = non_negative_ms(o)) o.out.server_selection_timeout = *v;
}

void set_connect_timeout(Option& o) {
  if (auto v = non_negative_ms(o)) o.out.connect_timeout = *v;
}

void set_socket_timeout(Option& o) {
  auto v = non_negative_ms(o);
  if (!v) return;
  if (v->count() == 0) {
    o.out.socket_timeout.reset();  // the spec: 0 means no timeout
  } else {
    o.out.socket_timeout = *v;
  }
}

void set_local_threshold(Option& o) {
  if (auto v = non_negative_ms(o)) o.out.local_threshold = *v;
}

void set_max_pool_size(Option& o) {
  auto v = integer_in(o, 0, kMaxInt32, "a pool size from 0 (no limit) to 2147483647");
  if (v) o.out.max_pool_size = static_cast<std::uint32_t>(*v);
}

void set_min_pool_size(Option& o) {
  auto v = integer_in(o, 0, kMaxInt32, "a pool size from 0 to 2147483647");
  if (v) o.out.min_pool_size = static_cast<std::uint32_t>(*v);
}

void set_max_connecting(Option& o) {
  auto v = integer_in(o, 1, kMaxInt32, "a number of connections from 1 to 2147483647");
  if (v) o.out.max_connecting = static_cast<std::uint32_t>(*v);
}

void set_max_idle_time(Option& o) {
  auto v = non_negative_ms(o);
  if (!v) return;
  if (v->count() == 0) {
    o.out.max_idle_time.reset();  // the spec: 0 means no limit
  } else {
    o.out.max_idle_time = *v;
  }
}

void set_read_preference(Option& o) {
  auto mode = parse_read_preference_mode(o.value);
  if (!mode) {
    return o.ignore_value("primary, primaryPreferred, secondary, secondaryPreferred or nearest");
  }
  o.out.read_preference.mode = *mode;
}

void set_max_staleness(Option& o) {
  auto v = integer_in(o, -1, kMaxInt32, "-1 (no maximum) or a positive number of seconds");
  if (!v) return;
  if (*v == 0) return o.ignore_value("-1 (no maximum) or a positive number of seconds");
  if (*v == -1) {
    o.out.read_preference.max_staleness.reset();
  } else {
    o.out.read_preference.max_staleness = std::chrono::seconds(*v);
  }
}

void set_app_name(Option& o) {
  if (o.value.size() > kMaxAppNameBytes) return o.ignore_value("at most 128 bytes");
  o.out.app_name = o.value;
}

// Each name in turn; one mongoslice does not know ("lz4", "noop") is warned about and left out,
// as the compression spec says, and a repeated one counts once.
void set_compressors(Option& o) {
  o.out.compressors.clear();
  std::string_view rest = o.value;
  while (true) {
    const std::size_t comma = rest.find(',');
    const std::string_view name = rest.substr(0, comma);
    if (auto c = wire::compressor_named(name)) {
      if (std::find(o.out.compressors.begin(), o.out.compressors.end(), *c) ==
          o.out.compressors.end()) {
        o.out.compressors.push_back(*c);
      }
    } else {
      o.out.warnings.push_back("compressor " + printable(name) +
                               " in compressors ignored: expected zstd, snappy or zlib");
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
}

void set_zlib_compression_level(Option& o) {
  if (auto v = integer_in(o, -1, 9, "a zlib compression level from -1 (zlib's default) to 9")) {
    o.out.zlib_compression_level = static_cast<int>(*v);
  }
}

void set_kill_cursors_interval(Option& o) {
  auto v = integer_in(o, 1, kMaxInt32, "a number of milliseconds from 1 to 2147483647");
  if (v) o.out.kill_cursors_interval = milliseconds(*v);
}

// An empty authSource is an error, not a warning (the auth spec's connection-string tests): the
// user named a database to authenticate against and named none.
void set_auth_source(Option& o) {
  if (o.value.empty()) {
    throw_invalid_uri(
        "authSource is empty; give the database to authenticate against, or "
        "leave the option out");
  }
  o.out.auth_source = o.value;
}

void set_load_balanced(Option& o) {
  if (auto v = boolean(o)) o.out.load_balanced = *v;
}

// srvServiceName and srvMaxHosts belong to mongodb+srv:// only; the seedlist spec makes them
// errors elsewhere.
void require_srv(const Option& o) {
  if (!o.srv) {
    throw_invalid_uri("option " + printable(o.key) +
                      " applies to mongodb+srv:// connection strings only");
  }
}

void set_srv_service_name(Option& o) {
  require_srv(o);
  // An invalid name is an error rather than a warning: falling back to "mongodb" would look up
  // other records than the user asked for.
  if (!valid_srv_service_name(o.value)) {
    throw_invalid_uri("srvServiceName=" + printable(o.value) +
                      " is not a valid service name (letters, digits and '-', up to 62 "
                      "characters, at least one letter)");
  }
  o.out.srv_service_name = o.value;
}

void set_srv_max_hosts(Option& o) {
  require_srv(o);
  auto v = integer_in(o, 0, kMaxInt32, "a number of hosts from 0 (no limit) to 2147483647");
  if (v) o.out.srv_max_hosts = static_cast<std::uint32_t>(*v);
}

// ---- write concern and read concern -----------------------------------------------------------

// w: a number of members (>= 0) or a mode ("majority", a tag set's name). A negative number is
// an error (the read-write-concern spec's connection-string tests make it an invalid URI).
void set_w(Option& o) {
  if (o.value.empty()) return o.ignore_value("a number of members or a mode such as majority");
  std::string_view digits = o.value;
  if (digits.starts_with('-')) digits.remove_prefix(1);
  if (!digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos) {
    auto v = parse_integer(o.value);
    if (v && *v < 0) {
      throw_invalid_uri("w=" + printable(o.value) +
                        " is negative; w is a number of members (0 "
                        "or more) or a mode such as majority");
    }
    if (!v || *v > kMaxInt32) return o.ignore_value("a number of members from 0 to 2147483647");
    o.out.write_concern.w = static_cast<std::int32_t>(*v);
    return;
  }
  o.out.write_concern.w = o.value;  // a mode: "majority" or a tag set's name
}

// wTimeoutMS: a negative number is an error (the read-write-concern spec: an invalid URI; the
// URI-options spec would only warn, but dropping it would make the write wait without bound).
void set_wtimeout(Option& o) {
  auto v = parse_integer(o.value);
  if (v && *v < 0) {
    throw_invalid_uri("wTimeoutMS=" + printable(o.value) + " is negative");
  }
  if (auto ms = non_negative_ms(o)) o.out.write_concern.wtimeout = *ms;
}

void set_journal(Option& o) {
  if (auto v = boolean(o)) o.out.write_concern.journal = *v;
}

// Any level is passed on as given: the server judges it (the URI-options spec: no warning for
// an unknown level).
void set_read_concern_level(Option& o) {
  if (o.value.empty()) return o.ignore_value("a read concern level such as majority");
  o.out.read_concern.level = o.value;
}

struct Handler {
  std::string_view name;  // lower-case
  void (*apply)(Option&);
};

constexpr Handler kHandlers[] = {
    {"replicaset", set_replica_set},
    {"directconnection", set_direct_connection},
    {"retrywrites", set_retry_writes},
    {"retryreads", set_retry_reads},
    {"heartbeatfrequencyms", set_heartbeat_frequency},
    {"servermonitoringmode", set_server_monitoring_mode},
    {"serverselectiontimeoutms", set_server_selection_timeout},
    {"connecttimeoutms", set_connect_timeout},
    {"sockettimeoutms", set_socket_timeout},
    {"localthresholdms", set_local_threshold},
    {"maxpoolsize", set_max_pool_size},
    {"minpoolsize", set_min_pool_size},
    {"maxconnecting", set_max_connecting},
    {"maxidletimems", set_max_idle_time},
    {"readpreference", set_read_preference},
    {"maxstalenessseconds", set_max_staleness},
    {"appname", set_app_name},
    {"killcursorsintervalms", set_kill_cursors_interval},
    {"compressors", set_compressors},
    {"zlibcompressionlevel", set_zlib_compression_level},
    {"w", set_w},
    {"wtimeoutms", set_wtimeout},
    {"journal", set_journal},
    {"readconcernlevel", set_read_concern_level},
    {"authsource", set_auth_source},
    {"loadbalanced", set_load_balanced},
    {"srvservicename", set_srv_service_name},
    {"srvmaxhosts", set_srv_max_hosts},
};

const Handler* find_handler(std::string_view lower) {
  for (const Handler& h : kHandlers) {
    if (h.name == lower) return &h;
  }
  return nullptr;
}

// Options of the URI-options spec that mongoslice does not implement: accepted with a
// warning, so a URI written for another driver still connects. Their values are not quoted
// in the warning (some are passwords).
constexpr std::string_view kUnimplemented[] = {
    "timeoutms",
    "waitqueuetimeoutms",
    "serverselectiontryonce",
    "maxadaptiveretries",
    "enableoverloadretargeting",
    "proxyhost",
    "proxyport",
    "proxyusername",
    "proxypassword",
    "uuidrepresentation",
    "gssapiservicename",
};

}  // namespace

void UriOptionReader::read(std::string_view query) {
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    apply(query.substr(0, amp));
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
}

void UriOptionReader::apply(std::string_view pair) {
  if (pair.empty()) return;  // "a=1&&b=2" or a trailing '&'
  std::size_t eq = pair.find('=');
  std::string key = percent_decode(pair.substr(0, eq), "an option name");
  if (eq == std::string_view::npos) {
    throw_invalid_uri("option " + quoted(key) + " has no value (options are written key=value)");
  }
  if (key.empty()) throw_invalid_uri("an option has an empty name (\"=...\")");
  std::string lower = ascii_lower(key);
  std::string_view raw_value = pair.substr(eq + 1);

  bool repeated = !seen_.insert(lower).second;
  out_.uri_options_given.insert(lower);
  auto decoded = [&] { return percent_decode(raw_value, "option " + printable(key)); };

  if (lower == kTagsKey) {
    // Repeatable: each occurrence is the next tag set in order of preference.
    Option o{out_, key, decoded(), srv_};
    if (auto tags = parse_tag_set(o, raw_value)) {
      out_.read_preference.tag_sets.push_back(std::move(*tags));
    }
    return;
  }
  if (TlsOptionState::is_tls_option(lower)) return tls_.record(out_, key, lower, decoded());
  if (lower == "authmechanism" || lower == "authmechanismproperties") {
    if (repeated) {
      out_.warnings.push_back("option " + printable(key) +
                              " is given more than once; the last one is used");
    }
    // Properties are decoded after they are split at ',' and ':' (see build_credential).
    if (lower == "authmechanism") {
      auth_mechanism_ = decoded();
    } else {
      auth_mechanism_properties_ = std::string(raw_value);
    }
    return;
  }
  if (const Handler* h = find_handler(lower)) {
    if (repeated) {
      out_.warnings.push_back("option " + printable(key) +
                              " is given more than once; the last valid one is used");
    }
    Option o{out_, key, decoded(), srv_};
    h->apply(o);
    return;
  }
  if (repeated) return;  // warned about at its first occurrence
  for (std::string_view name : kUnimplemented) {
    if (name == lower) {
      out_.warnings.push_back("option " + printable(key) +
                              " is not supported by mongoslice; ignored");
      return;
    }
  }
  out_.warnings.push_back("unknown option " + printable(key) + " ignored");
}

void UriOptionReader::finish() {
  tls_.finish(out_, srv_);
  build_credential(out_, auth_mechanism_, auth_mechanism_properties_);
  out_.validate();
}

}  // namespace mongoslice::uri_detail

namespace mongoslice {

void ConnectionString::validate() const {
  using uri_detail::throw_invalid_uri;
  const WriteConcern& wc = write_concern;
  if (const auto* count = wc.w ? std::get_if<std::int32_t>(&*wc.w) : nullptr;
      count && *count == 0 && wc.journal.value_or(false)) {
    throw_invalid_uri(
        "w=0 (unacknowledged) cannot be combined with journal=true (an acknowledgement)");
  }
  if (direct_connection.value_or(false)) {
    if (hosts.size() > 1) {
      throw_invalid_uri("directConnection=true takes exactly one host, but " +
                        std::to_string(hosts.size()) + " are given");
    }
    if (srv_host) {
      throw_invalid_uri(
          "directConnection=true cannot be combined with mongodb+srv://, whose lookup may "
          "give several hosts");
    }
  }
  if (load_balanced) {
    // The load-balancer spec: one address, the balancer's, and no topology of its own.
    if (hosts.size() > 1) {
      throw_invalid_uri("loadBalanced=true takes exactly one host (the load balancer), but " +
                        std::to_string(hosts.size()) + " are given");
    }
    if (replica_set) throw_invalid_uri("loadBalanced=true cannot be combined with replicaSet");
    if (direct_connection.value_or(false)) {
      throw_invalid_uri("loadBalanced=true cannot be combined with directConnection=true");
    }
  }
  if (srv_max_hosts.value_or(0) > 0) {
    // The seedlist spec: a random subset of hosts makes no sense for one replica set or for
    // one load balancer.
    if (replica_set) throw_invalid_uri("a positive srvMaxHosts cannot be combined with replicaSet");
    if (load_balanced) {
      throw_invalid_uri("a positive srvMaxHosts cannot be combined with loadBalanced=true");
    }
  }
  const ReadPreference& rp = read_preference;
  if (rp.mode == ReadPreference::Mode::kPrimary) {
    // Server selection spec: tags and a staleness bound are meaningless for the primary.
    if (!rp.tag_sets.empty()) {
      throw_invalid_uri("readPreferenceTags cannot be combined with readPreference primary");
    }
    if (rp.max_staleness) {
      throw_invalid_uri("maxStalenessSeconds cannot be combined with readPreference primary");
    }
  }
}

void ConnectionString::apply_txt_options(std::string_view txt) {
  using namespace uri_detail;
  std::string_view rest = txt;
  while (!rest.empty()) {
    std::size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    std::size_t eq = pair.find('=');
    if (pair.empty() || eq == std::string_view::npos || eq == 0) {
      throw_invalid_uri("the TXT record of " + quoted(srv_host.value_or("")) +
                        " is malformed: expected key=value options separated by '&'");
    }
    std::string key = percent_decode(pair.substr(0, eq), "an option name in the TXT record");
    std::string lower = ascii_lower(key);
    if (lower != "authsource" && lower != "replicaset" && lower != "loadbalanced") {
      throw_invalid_uri("the TXT record of " + quoted(srv_host.value_or("")) + " gives option " +
                        quoted(key) +
                        "; a TXT record may give only authSource, replicaSet and loadBalanced");
    }
    if (uri_options_given.contains(lower)) continue;  // the URI's own value wins
    Option o{*this, key,
             percent_decode(pair.substr(eq + 1), "option " + printable(key) + " in the TXT record"),
             true};
    find_handler(lower)->apply(o);
  }
  if (credential && auth_source) credential->source = *auth_source;
  validate();
}

}  // namespace mongoslice
