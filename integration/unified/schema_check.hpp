#pragma once
// The structural checks of a unified test file that the format's JSON schema states: required
// keys, the type of every known key, enumerations and patterns, no unknown keys where the schema
// forbids them, and the keys that exclude each other (expectError with expectResult, ...). The
// format's own invalid/ files must each fail one of them; every file the runner runs must pass
// them all first. (The rules are written here from the format's description; the schema file is
// not read at run time.)

#include <string>

#include "wire/bson.hpp"

namespace mongoslice::unified {

// Empty when `file` (a whole test file) passes; otherwise the first violation, with its path
// ("$.tests[0].operations[1]: 'name' is required").
std::string check_schema(bson::View file);

}  // namespace mongoslice::unified
