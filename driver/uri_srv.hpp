#pragma once
// Pure string rules of mongodb+srv:// (the initial DNS seedlist discovery spec): which SRV
// targets may be used, and which service names may be looked up. No DNS here: the resolver
// (net/) looks the records up and applies these rules to what it gets.

#include <string_view>

namespace mongoslice {

// Whether `target`, the host name of an SRV record found for `srv_host`, may be used: it must
// lie inside srv_host's {domainname} (srv_host without its first label when srv_host has three
// or more labels, srv_host itself when it has one or two) with at least one more label than
// that domain, so "db1.example.com" may serve "cluster.example.com" but "example.com",
// "evilexample.com" and "db1.other.com" may not, and "db1.mongodb.local" may serve
// "mongodb.local" but "mongodb.local" may not (the spec's rule since its 2024-09 revision).
// Compared without regard to ASCII case and to one trailing dot (DNS answers are absolute
// names); an empty label anywhere makes a name invalid.
bool srv_target_matches(std::string_view srv_host, std::string_view target);

// Whether `name` is a valid srvServiceName: RFC 6335's service name syntax (letters, digits and
// '-', at least one letter, no '-' at either end nor two in a row), up to 62 characters instead
// of 15 so that "_name" fits in one DNS label, as the seedlist spec allows.
bool valid_srv_service_name(std::string_view name);

}  // namespace mongoslice
