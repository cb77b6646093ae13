#pragma once
// A strict MongoDB Extended JSON (v2) parser: canonical and relaxed forms, and the legacy forms
// the Extended JSON specification asks parsers to accept.

#include <string_view>

#include "wire/bson.hpp"

namespace mongoslice::bson {

// Parses one extended JSON object (or array, stored as a document keyed "0", "1", ...) into
// BSON. The JSON grammar is RFC 8259 (UTF-8, no comments, no trailing commas, at most 1000
// levels of nesting); on top of it:
//
// - An object holding a type-wrapper key ($oid, $symbol, $numberInt, $numberLong,
//   $numberDouble, $numberDecimal, $binary, $uuid, $code, $scope, $timestamp,
//   $regularExpression, $dbPointer, $date, $minKey, $maxKey, $undefined) must be exactly that
//   wrapper: a missing or extra key, a value of the wrong JSON type, an out-of-range number, bad
//   hex, base64 or UUID text is an error. Accepted besides the canonical forms: relaxed $date as
//   an ISO-8601 string ("1970-01-01T00:00:00Z", fractional seconds, a "+hh:mm" offset), legacy
//   binary {"$binary": <base64>, "$type": <hex>}, legacy regex {"$regex": <string>,
//   "$options": <string>} and $uuid.
// - Query operators that share a wrapper's name stay ordinary documents: {"$regex": <object>}
//   and {"$regex": <string>} without "$options", and {"$type": ...} without "$binary". Every
//   other key, '$'-prefixed or not ($set, $gt, $$exists, $ref, $id), is an ordinary key.
// - Numbers: an integer literal becomes an int32 if it fits, else an int64 if it fits, else a
//   double; a literal with a fraction or exponent becomes a double (read exactly, with
//   std::from_chars); one beyond a double's range is an error.
// - The top level must be a plain object (not a type wrapper) or an array; a $scope must be a
//   plain object.
// - Key order is kept. A key repeated in one object is an error. A key holding a NUL byte
//   ("\u0000") is an error; string values may hold NUL bytes.
//
// Throws mongoslice::Error (errc::invalid_bson) naming the problem and where: the byte offset
// for a JSON syntax error, the dotted key path (e.g. "a.b.0") for an extended JSON error.
// Thread-safe (no shared state).
Document parse_extended_json(std::string_view json);

}  // namespace mongoslice::bson
