#pragma once
// A connection string fit to print: what a program shows its user ("connected to ...") or puts
// in a log line, with every secret masked.

#include <string>
#include <string_view>

namespace mongoslice {

// `uri` with the password of its user info ("user:secret@") and the values of the options that
// hold secrets (tlsCertificateKeyFilePassword, proxyPassword, authMechanismProperties, whose
// values may carry a session token) replaced by "****"; everything else is kept as written.
// Works on any text, parsed or not: the user info is everything before the last '@' ahead of the
// first '?', so a malformed one ("alice/x:pw@host") is masked too. Not masked: a password that
// holds an unescaped '?' (the URI is invalid then, and where its query starts is a guess).
std::string redact_uri(std::string_view uri);

}  // namespace mongoslice
