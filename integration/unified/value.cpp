#include "unified/value.hpp"

namespace mongoslice::unified {

std::string Value::to_json() const {
  if (empty()) return "(nothing)";
  return value_json(get());
}

Value array_of(const std::vector<bson::Document>& documents) {
  bson::Builder b;
  b.open_array("v");
  for (const auto& d : documents) b.append_value(d.view());
  b.close();
  bson::Document doc = b.build();
  return Value(doc["v"]);
}

std::string value_json(const bson::Element& element) {
  // {"v": <value>} rendered, then the value's text cut out of it.
  const std::string text = bson::Builder{}.append("v", element).build().to_json();
  const std::string prefix = "{ \"v\" : ";
  if (text.rfind(prefix, 0) == 0 && text.size() >= prefix.size() + 2) {
    return text.substr(prefix.size(), text.size() - prefix.size() - 2);
  }
  return text;
}

bool is_plain_number(const bson::Element& element) noexcept {
  const auto t = element.type();
  return t == bson::Type::kInt32 || t == bson::Type::kInt64 || t == bson::Type::kDouble;
}

std::string_view unified_type_name(bson::Type type) noexcept {
  switch (type) {
    case bson::Type::kDouble:
      return "double";
    case bson::Type::kString:
      return "string";
    case bson::Type::kDocument:
      return "object";
    case bson::Type::kArray:
      return "array";
    case bson::Type::kBinary:
      return "binData";
    case bson::Type::kUndefined:
      return "undefined";
    case bson::Type::kOid:
      return "objectId";
    case bson::Type::kBool:
      return "bool";
    case bson::Type::kDateTime:
      return "date";
    case bson::Type::kNull:
      return "null";
    case bson::Type::kRegex:
      return "regex";
    case bson::Type::kDbPointer:
      return "dbPointer";
    case bson::Type::kCode:
      return "javascript";
    case bson::Type::kSymbol:
      return "symbol";
    case bson::Type::kCodeWithScope:
      return "javascriptWithScope";
    case bson::Type::kInt32:
      return "int";
    case bson::Type::kTimestamp:
      return "timestamp";
    case bson::Type::kInt64:
      return "long";
    case bson::Type::kDecimal128:
      return "decimal";
    case bson::Type::kMinKey:
      return "minKey";
    case bson::Type::kMaxKey:
      return "maxKey";
  }
  return "unknown";
}

bool type_matches(std::string_view name, bson::Type type) noexcept {
  if (name == "number") {
    return type == bson::Type::kInt32 || type == bson::Type::kInt64 ||
           type == bson::Type::kDouble || type == bson::Type::kDecimal128;
  }
  return unified_type_name(type) == name;
}

namespace {

[[noreturn]] void wrong_type(std::string_view where, std::string_view key, std::string_view want,
                             const bson::Element& e) {
  throw TestFailure(std::string(where) + ": '" + std::string(key) + "' must be " +
                    std::string(want) + ", not " + std::string(unified_type_name(e.type())));
}

}  // namespace

std::optional<std::string> optional_string(bson::View doc, std::string_view key,
                                           std::string_view where) {
  auto e = doc.find(key);
  if (!e) return std::nullopt;
  if (e->type() != bson::Type::kString) wrong_type(where, key, "a string", *e);
  return std::string(e->get_string());
}

std::string required_string(bson::View doc, std::string_view key, std::string_view where) {
  auto s = optional_string(doc, key, where);
  if (!s) throw TestFailure(std::string(where) + ": '" + std::string(key) + "' is required");
  return *s;
}

std::optional<bson::View> optional_document(bson::View doc, std::string_view key,
                                            std::string_view where) {
  auto e = doc.find(key);
  if (!e) return std::nullopt;
  if (e->type() != bson::Type::kDocument) wrong_type(where, key, "a document", *e);
  return e->get_document();
}

bson::View required_document(bson::View doc, std::string_view key, std::string_view where) {
  auto d = optional_document(doc, key, where);
  if (!d) throw TestFailure(std::string(where) + ": '" + std::string(key) + "' is required");
  return *d;
}

std::optional<bson::View> optional_array(bson::View doc, std::string_view key,
                                         std::string_view where) {
  auto e = doc.find(key);
  if (!e) return std::nullopt;
  if (e->type() != bson::Type::kArray) wrong_type(where, key, "an array", *e);
  return e->get_array();
}

std::optional<bool> optional_bool(bson::View doc, std::string_view key, std::string_view where) {
  auto e = doc.find(key);
  if (!e) return std::nullopt;
  if (e->type() != bson::Type::kBool) wrong_type(where, key, "a boolean", *e);
  return e->get_bool();
}

}  // namespace mongoslice::unified
