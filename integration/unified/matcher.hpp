#pragma once
// The unified test format's "Evaluating Matches": whether an actual value (a result, a command,
// a reply, a collection's document) matches the expected value of a test file.
//
//  - Documents: every key of the expected document must be in the actual one and match; extra
//    keys in the actual document are allowed only in a root-level document (an expectResult
//    document, each document of an expectResult array, an event's command or reply, the operand
//    of $$matchAsRoot), never in the documents nested in them.
//  - Arrays: the same length, elements matched in order (nested rules).
//  - Numbers: int32, int64 and double are equal when their values are (decimal128 only equals
//    decimal128 with the same bytes). Every other type must be the same and the values equal.
//  - Operators (a document whose only key starts with "$$"): $$exists, $$type, $$unsetOrMatches,
//    $$matchesEntity, $$matchesHexBytes, $$lte, $$matchAsDocument, $$matchAsRoot; $$sessionLsid
//    throws Unsupported (mongoslice has no sessions). An unknown $$ operator is a failure.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "unified/value.hpp"
#include "wire/bson.hpp"

namespace mongoslice::unified {

// The value an entity of the test holds (for $$matchesEntity), or nothing when no entity of
// that name holds a value.
using EntityValueLookup = std::function<std::optional<Value>(std::string_view)>;

// Empty when `actual` matches `expected`; otherwise what differs, with the path of the field
// ("$.cursor.firstBatch[0].x: expected 2, got 3"). `actual` is nullopt for a missing value.
// `root`: `expected` is a root-level document (extra keys allowed). `root_array`: `expected` is
// an array whose documents are each root-level (the result of find or aggregate).
// Throws Unsupported for $$sessionLsid.
std::string match(const bson::Element& expected, const std::optional<bson::Element>& actual,
                  const EntityValueLookup& entities, bool root, bool root_array = false,
                  const std::string& path = "$");

// As match(), for whole documents.
std::string match_document(bson::View expected, bson::View actual,
                           const EntityValueLookup& entities, bool root,
                           const std::string& path = "$");

}  // namespace mongoslice::unified
