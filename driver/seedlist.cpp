#include "driver/seedlist.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "driver/uri_srv.hpp"
#include "wire/error.hpp"

namespace mongoslice {

namespace {

std::string lower_without_root(std::string name) {
  if (!name.empty() && name.back() == '.') name.pop_back();
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

std::string srv_name_of(const ConnectionString& uri) {
  return "_" + uri.srv_service_name + "._tcp." + *uri.srv_host;
}

}  // namespace

std::vector<HostAndPort> lookup_srv_hosts(const ConnectionString& uri, const DnsResolver& resolver,
                                          const Deadline& deadline, InterruptSlot& interrupt) {
  if (!uri.srv_host) throw Error(errc::invalid_argument, "lookup_srv_hosts: not a mongodb+srv URI");
  const std::string name = srv_name_of(uri);
  std::vector<HostAndPort> hosts;
  for (const SrvRecord& record : resolver.lookup_srv(name, deadline, interrupt)) {
    std::string target = lower_without_root(record.target);
    if (!srv_target_matches(*uri.srv_host, target)) {
      throw Error(errc::invalid_uri, "the SRV record " + target + ":" +
                                         std::to_string(record.port) + " of " + name +
                                         " is not inside the domain of " + *uri.srv_host);
    }
    HostAndPort host{std::move(target), record.port};
    if (std::find(hosts.begin(), hosts.end(), host) == hosts.end()) hosts.push_back(host);
  }
  if (hosts.empty()) throw Error(errc::network_error, name + " has no SRV records");
  return hosts;
}

void pick_srv_hosts(std::vector<HostAndPort>& hosts, std::uint32_t max, std::mt19937_64& random) {
  std::shuffle(hosts.begin(), hosts.end(), random);
  if (max > 0 && max < hosts.size()) hosts.resize(max);
}

void resolve_seedlist(ConnectionString& uri, const DnsResolver& resolver, const Deadline& deadline,
                      InterruptSlot& interrupt, std::mt19937_64& random) {
  if (!uri.srv_host) return;
  std::vector<HostAndPort> hosts = lookup_srv_hosts(uri, resolver, deadline, interrupt);
  const std::vector<std::string> txt = resolver.lookup_txt(*uri.srv_host, deadline, interrupt);
  if (txt.size() > 1) {
    throw Error(errc::invalid_uri, *uri.srv_host + " has " + std::to_string(txt.size()) +
                                       " TXT records; a mongodb+srv host may have one at most");
  }
  if (!txt.empty()) uri.apply_txt_options(txt.front());
  if (uri.srv_max_hosts && *uri.srv_max_hosts > 0) {
    pick_srv_hosts(hosts, *uri.srv_max_hosts, random);
  }
  uri.hosts = std::move(hosts);
  uri.validate();
}

void resolve_seedlist(ConnectionString& uri, const DnsResolver& resolver,
                      const Deadline& deadline) {
  InterruptSlot never;
  std::mt19937_64 random{std::random_device{}()};
  resolve_seedlist(uri, resolver, deadline, never, random);
}

}  // namespace mongoslice
