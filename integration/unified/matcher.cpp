#include "unified/matcher.hpp"

#include <cctype>
#include <cmath>
#include <cstring>

namespace mongoslice::unified {

namespace {

double number_of(const bson::Element& e) {
  switch (e.type()) {
    case bson::Type::kInt32:
      return e.get_int32();
    case bson::Type::kInt64:
      return static_cast<double>(e.get_int64());
    default:
      return e.get_double();
  }
}

// int64 values compared exactly (a double cannot hold every int64).
bool numbers_equal(const bson::Element& a, const bson::Element& b) {
  const bool a_int = a.type() != bson::Type::kDouble;
  const bool b_int = b.type() != bson::Type::kDouble;
  if (a_int && b_int) return a.as_int64() == b.as_int64();
  return number_of(a) == number_of(b);
}

bool same_bytes(const bson::Element& a, const bson::Element& b) {
  return bson::Builder{}.append("v", a).build() == bson::Builder{}.append("v", b).build();
}

// The operator of an operator document ({"$$name": operand}), or empty.
std::string_view operator_of(const bson::Element& expected) {
  if (expected.type() != bson::Type::kDocument) return {};
  bson::View doc = expected.get_document();
  auto it = doc.begin();
  if (it == doc.end()) return {};
  std::string_view key = (*it).key();
  if (key.rfind("$$", 0) != 0) return {};
  if (++it != doc.end()) return {};
  return key;
}

std::string mismatch(const std::string& path, const std::string& want,
                     const std::optional<bson::Element>& actual) {
  return path + ": expected " + want + ", got " + (actual ? value_json(*actual) : "nothing");
}

std::string hex_of(std::span<const std::uint8_t> bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (auto b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::string match_operator(std::string_view op, const bson::Element& operand,
                           const std::optional<bson::Element>& actual,
                           const EntityValueLookup& entities, bool root, const std::string& path) {
  if (op == "$$exists") {
    const bool want = operand.as_bool();
    if (want == actual.has_value()) return {};
    return path +
           (want ? ": expected to exist" : ": expected to be absent, got " + value_json(*actual));
  }
  if (op == "$$unsetOrMatches") {
    if (!actual) return {};
    return match(operand, actual, entities, root, false, path);
  }
  if (op == "$$type") {
    if (!actual) return mismatch(path, "a value of $$type " + value_json(operand), actual);
    if (operand.type() == bson::Type::kString) {
      if (type_matches(operand.get_string(), actual->type())) return {};
    } else if (operand.type() == bson::Type::kArray) {
      for (bson::Element name : operand.get_array()) {
        if (name.type() == bson::Type::kString && type_matches(name.get_string(), actual->type()))
          return {};
      }
    } else {
      return path + ": $$type takes a string or an array of strings";
    }
    return path + ": expected $$type " + value_json(operand) + ", got a " +
           std::string(unified_type_name(actual->type())) + " " + value_json(*actual);
  }
  if (op == "$$matchesEntity") {
    if (operand.type() != bson::Type::kString) return path + ": $$matchesEntity takes a string";
    std::optional<Value> value = entities ? entities(operand.get_string()) : std::nullopt;
    if (!value)
      return path + ": no entity '" + std::string(operand.get_string()) + "' holds a value";
    return match(value->get(), actual, entities, root, false, path);
  }
  if (op == "$$matchesHexBytes") {
    if (operand.type() != bson::Type::kString) return path + ": $$matchesHexBytes takes a string";
    if (!actual || actual->type() != bson::Type::kBinary) {
      return mismatch(path, "binary data " + std::string(operand.get_string()), actual);
    }
    std::string want(operand.get_string());
    for (char& c : want) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::string got = hex_of(actual->get_binary().bytes);
    if (got == want) return {};
    return path + ": expected bytes " + want + ", got " + got;
  }
  if (op == "$$sessionLsid") {
    throw Unsupported("$$sessionLsid: mongoslice has no sessions (no session entities)");
  }
  if (op == "$$lte") {
    if (!is_plain_number(operand)) return path + ": $$lte takes a number";
    if (!actual || !is_plain_number(*actual)) {
      return mismatch(path, "a number <= " + value_json(operand), actual);
    }
    if (number_of(*actual) <= number_of(operand)) return {};
    return mismatch(path, "a number <= " + value_json(operand), actual);
  }
  if (op == "$$matchAsDocument") {
    if (operand.type() != bson::Type::kDocument)
      return path + ": $$matchAsDocument takes a document";
    if (!actual || actual->type() != bson::Type::kString) {
      return mismatch(path, "a string holding a JSON document", actual);
    }
    const std::string_view text = actual->get_string();
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || text[first] != '{') {
      return path +
             ": $$matchAsDocument: the actual string is not a JSON object: " + value_json(*actual);
    }
    bson::Document parsed;
    try {
      parsed = bson::Document::from_json(actual->get_string());
    } catch (const std::exception& e) {
      return path + ": $$matchAsDocument: the actual string is not a JSON document: " + e.what();
    }
    bson::Document holder = bson::Builder{}.append("v", parsed.view()).build();
    return match(operand, holder["v"], entities, false, false, path);
  }
  if (op == "$$matchAsRoot") {
    if (operand.type() != bson::Type::kDocument) return path + ": $$matchAsRoot takes a document";
    return match(operand, actual, entities, true, false, path);
  }
  return path + ": unknown operator " + std::string(op);
}

}  // namespace

std::string match_document(bson::View expected, bson::View actual,
                           const EntityValueLookup& entities, bool root, const std::string& path) {
  for (bson::Element field : expected) {
    const std::string key(field.key());
    const std::string sub = path + "." + key;
    std::optional<bson::Element> got = actual.find(key);
    if (auto error = match(field, got, entities, false, false, sub); !error.empty()) return error;
  }
  if (!root) {
    for (bson::Element field : actual) {
      if (!expected.contains(field.key())) {
        return path + ": unexpected field '" + std::string(field.key()) +
               "': " + value_json(field) +
               " (extra fields are allowed in root-level documents only)";
      }
    }
  }
  return {};
}

std::string match(const bson::Element& expected, const std::optional<bson::Element>& actual,
                  const EntityValueLookup& entities, bool root, bool root_array,
                  const std::string& path) {
  if (std::string_view op = operator_of(expected); !op.empty()) {
    return match_operator(op, (*expected.get_document().begin()), actual, entities, root, path);
  }
  if (!actual) return mismatch(path, value_json(expected), actual);
  switch (expected.type()) {
    case bson::Type::kDocument:
      if (actual->type() != bson::Type::kDocument) {
        return mismatch(path, "a document " + value_json(expected), actual);
      }
      return match_document(expected.get_document(), actual->get_document(), entities, root, path);
    case bson::Type::kArray: {
      if (actual->type() != bson::Type::kArray) {
        return mismatch(path, "an array " + value_json(expected), actual);
      }
      bson::View want = expected.get_array();
      bson::View got = actual->get_array();
      auto w = want.begin();
      auto g = got.begin();
      std::size_t i = 0;
      for (; w != want.end() && g != got.end(); ++w, ++g, ++i) {
        const std::string sub = path + "[" + std::to_string(i) + "]";
        if (auto error = match(*w, *g, entities, root_array, false, sub); !error.empty()) {
          return error;
        }
      }
      if (w != want.end() || g != got.end()) {
        return path + ": expected an array of " +
               std::to_string(std::distance(want.begin(), want.end())) + " elements " +
               value_json(expected) + ", got " + value_json(*actual);
      }
      return {};
    }
    case bson::Type::kInt32:
    case bson::Type::kInt64:
    case bson::Type::kDouble:
      if (is_plain_number(*actual) && numbers_equal(expected, *actual)) return {};
      return mismatch(path, value_json(expected), actual);
    default:
      if (expected.type() == actual->type() && same_bytes(expected, *actual)) return {};
      return mismatch(path, value_json(expected), actual);
  }
}

}  // namespace mongoslice::unified
