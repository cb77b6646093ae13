#pragma once
// mongodb+srv:// seed lists (the initial DNS seedlist discovery spec): the SRV records of
// _<srvServiceName>._tcp.<host> give the hosts, its TXT record some options.
//
//   auto uri = ConnectionString::parse("mongodb+srv://cluster0.example.com/");
//   resolve_seedlist(uri, DnsResolver(), Deadline::after(uri.connect_timeout, "connectTimeoutMS"));
//   // uri.hosts now holds the SRV targets; TLS is on; the TXT record's options are applied.
//
// Lookups go through DnsResolver (c-ares), so they have its deadline and interrupt. Every error
// is mongoslice::Error naming the SRV name: errc::invalid_uri for what the records say that the
// spec forbids (a target outside the host's domain, more than one TXT record, a TXT option other
// than authSource, replicaSet and loadBalanced), the resolver's errors (network_error, timeout,
// interrupted) for a failed lookup, and errc::network_error for no SRV record at all.

#include <random>
#include <vector>

#include "driver/connection_string.hpp"
#include "net/deadline.hpp"
#include "net/dns_resolver.hpp"
#include "wire/address.hpp"

namespace mongoslice {

// The SRV targets of `uri` (uri.srv_host must be set), each checked against the host's domain
// and lower-cased without its trailing dot, in the answer's order; srvMaxHosts is not applied.
// The SRV poller calls this alone; resolve_seedlist adds the TXT record.
std::vector<HostAndPort> lookup_srv_hosts(const ConnectionString& uri, const DnsResolver& resolver,
                                          const Deadline& deadline, InterruptSlot& interrupt);

// Fills uri.hosts from the SRV records, applies the TXT record's options (at most one record),
// picks srvMaxHosts of the hosts at random (with `random`) when it is set below their number,
// and checks the options' rules again. Does nothing when uri.srv_host is not set.
void resolve_seedlist(ConnectionString& uri, const DnsResolver& resolver, const Deadline& deadline,
                      InterruptSlot& interrupt, std::mt19937_64& random);
void resolve_seedlist(ConnectionString& uri, const DnsResolver& resolver, const Deadline& deadline);

// srvMaxHosts's selection: `hosts` shuffled with `random`, then cut to `max` when max is > 0
// and below their number (the SRV poller uses it for the hosts it adds).
void pick_srv_hosts(std::vector<HostAndPort>& hosts, std::uint32_t max, std::mt19937_64& random);

}  // namespace mongoslice
