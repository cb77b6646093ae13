#pragma once
// Checks of database and collection names, made when a Database or Collection handle is
// constructed, so a name the server would refuse (or echo back as invalid BSON, as a NUL does)
// is refused before anything is sent.
//
// The rules (a documented subset of the server's, kept simple):
//  - a database name is 1 to 63 bytes of UTF-8 without a NUL and without any of / \ . " $ or a
//    space (the server's rules on every platform);
//  - a collection name is at least 1 byte of UTF-8 without a NUL and without '$' (the names of
//    the server's internal namespaces, such as "$cmd" or "oplog.$main", are not collections a
//    user opens; the length is left to the server, whose limit depends on its version).
// Thread-safety: pure functions.

#include <string>
#include <string_view>

namespace mongoslice {

// The longest database name the server accepts, in bytes.
inline constexpr std::size_t kMaxDatabaseNameBytes = 63;

// Throws Error(errc::invalid_argument) naming the rule `name` breaks and quoting all of it
// (escaped_name below).
void check_database_name(std::string_view name);
void check_collection_name(std::string_view name);

// `name` between single quotes for an error message, whole: control bytes as \xNN, a quote
// and a backslash escaped with '\', and, if the name is not valid UTF-8, every byte from 0x80
// up as \xNN too (valid UTF-8 is kept as it is).
std::string escaped_name(std::string_view name);

}  // namespace mongoslice
