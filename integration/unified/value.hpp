#pragma once
// Small helpers of the unified test runner over mongoslice's BSON layer: one BSON value held on
// its own (a Document with the single field "v"), the unified format's $$type names, and the
// readers that turn a test file's fields into C++ values with a clear error when a field has
// the wrong type.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "wire/bson.hpp"

namespace mongoslice::unified {

// A malformed test file, or an expectation that did not hold: the test fails with this message.
class TestFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Something the test needs that this runner or mongoslice does not have (or the server lacks):
// the test is skipped with this reason.
class Unsupported : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One BSON value (any type), owned: stored as the only field ("v") of a document.
class Value {
 public:
  Value() = default;
  explicit Value(const bson::Element& element)
      : doc_(bson::Builder{}.append("v", element).build()) {}
  static Value of_document(bson::View document) {
    Value v;
    v.doc_ = bson::Builder{}.append("v", document).build();
    return v;
  }
  static Value of_array(bson::View array) {
    Value v;
    v.doc_ = bson::Builder{}.append_array("v", array).build();
    return v;
  }
  template <typename T>
  static Value of(T&& scalar) {
    Value v;
    v.doc_ = bson::Builder{}.append("v", std::forward<T>(scalar)).build();
    return v;
  }
  bool empty() const noexcept { return doc_.view().empty(); }
  // The value; the Value must hold one.
  bson::Element get() const { return doc_.view()["v"]; }
  std::string to_json() const;

 private:
  bson::Document doc_;
};

// Builds a BSON array value from documents.
Value array_of(const std::vector<bson::Document>& documents);

// Relaxed extended JSON of one element's value (for messages).
std::string value_json(const bson::Element& element);

// Whether the element is an int32, int64 or double (the numbers compared by value).
bool is_plain_number(const bson::Element& element) noexcept;

// The unified format's $$type name of an element's type ("double", "string", "object",
// "array", "binData", "objectId", "bool", "date", "null", "regex", "int", "long", "decimal",
// "timestamp", ...).
std::string_view unified_type_name(bson::Type type) noexcept;
// Whether `name` (a $$type operand, "number" included) names the element's type.
bool type_matches(std::string_view name, bson::Type type) noexcept;

// Readers of a test file's fields: each throws TestFailure naming `where` and the key when the
// field has another type (and, for the required_* ones, when it is missing).
std::string required_string(bson::View doc, std::string_view key, std::string_view where);
std::optional<std::string> optional_string(bson::View doc, std::string_view key,
                                           std::string_view where);
bson::View required_document(bson::View doc, std::string_view key, std::string_view where);
std::optional<bson::View> optional_document(bson::View doc, std::string_view key,
                                            std::string_view where);
std::optional<bson::View> optional_array(bson::View doc, std::string_view key,
                                         std::string_view where);
std::optional<bool> optional_bool(bson::View doc, std::string_view key, std::string_view where);

}  // namespace mongoslice::unified
