#pragma once
// Options of a MongoClient that a connection string cannot carry: event listeners, DNS servers,
// the executor of the async_ operations, and the compressors as a list (also URI options).
// Everything else (timeouts, pool size, appName, killCursorsIntervalMS) is in the URI.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "driver/events.hpp"
#include "net/dns_resolver.hpp"
#include "wire/op_compressed.hpp"

namespace mongoslice {

struct ClientOptions {
  // Called for every command, SDAM and kill-cursors event (see driver/events.hpp for the
  // threads they run on). With MONGOSLICE_LOG=commands in the environment the client adds its
  // own listener that prints command events to stderr.
  std::vector<std::shared_ptr<EventListener>> listeners;
  // The DNS servers that resolve host names ("127.0.0.1:5353", ...); empty: the system's
  // (/etc/resolv.conf). For deployments with their own resolver, and for tests.
  DnsOptions dns;
  // rescanSRVIntervalMS: how often a mongodb+srv:// client looks its SRV records up again to
  // follow mongos hosts that come and go (the polling-SRV spec; 60 s there). Not a URI option.
  std::chrono::milliseconds srv_rescan_interval{60'000};
  // Where the async_ operations run when their completion token brings no executor of its own
  // (a plain callback, boost::asio::use_future, boost::asio::deferred then invoked with one):
  // their sockets are opened there and their handlers run there, never on a monitor or
  // kill-cursors thread. With use_awaitable an operation runs on the awaiting coroutine's
  // executor instead. Without either, an async_ call throws Error(errc::invalid_argument).
  std::optional<boost::asio::any_io_executor> executor;
  // Replace the URI's compressors and zlibCompressionLevel when set (an empty list: offer
  // none). Levels outside -1..9 are Error(errc::invalid_argument) at client construction.
  std::optional<std::vector<wire::Compressor>> compressors;
  std::optional<int> zlib_compression_level;
};

}  // namespace mongoslice
