#pragma once
// Options of a MongoClient that a connection string cannot carry: event listeners, DNS servers.
// Everything else (timeouts, pool size, appName, killCursorsIntervalMS) is in the URI.

#include <memory>
#include <vector>

#include "driver/events.hpp"
#include "net/dns_resolver.hpp"

namespace mongoslice {

struct ClientOptions {
  // Called for every command, SDAM and kill-cursors event (see driver/events.hpp for the
  // threads they run on). With MONGOSLICE_LOG=commands in the environment the client adds its
  // own listener that prints command events to stderr.
  std::vector<std::shared_ptr<EventListener>> listeners;
  // The DNS servers that resolve host names ("127.0.0.1:5353", ...); empty: the system's
  // (/etc/resolv.conf). For deployments with their own resolver, and for tests.
  DnsOptions dns;
};

}  // namespace mongoslice
