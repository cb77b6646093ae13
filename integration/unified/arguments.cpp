#include "unified/arguments.hpp"

#include <cmath>

namespace mongoslice::unified {

Args::Args(bson::View arguments, std::string operation,
           std::initializer_list<std::string_view> known)
    : args_(arguments), operation_(std::move(operation)) {
  for (auto k : known) known_.emplace(k);
}

std::optional<bson::Element> Args::take(std::string_view key) {
  if (!known_.count(key)) {
    throw std::logic_error("runner bug: argument '" + std::string(key) + "' of " + operation_ +
                           " is not in its list of known arguments");
  }
  taken_.emplace(key);
  return args_.find(key);
}

void Args::wrong(std::string_view key, std::string_view want) const {
  throw TestFailure(operation_ + ": argument '" + std::string(key) + "' must be " +
                    std::string(want));
}

std::optional<bson::Document> Args::document(std::string_view key) {
  auto e = take(key);
  if (!e) return std::nullopt;
  if (e->type() != bson::Type::kDocument) wrong(key, "a document");
  return bson::Document(e->get_document());
}

bson::Document Args::required_document(std::string_view key) {
  auto d = document(key);
  if (!d) wrong(key, "given (it is required)");
  return *d;
}

bson::Document Args::required_document_or_array(std::string_view key) {
  auto e = take(key);
  if (!e) wrong(key, "given (it is required)");
  if (e->type() == bson::Type::kDocument) return bson::Document(e->get_document());
  if (e->type() == bson::Type::kArray) return bson::Document(e->get_array());
  wrong(key, "a document or an array");
}

bson::Document Args::required_array(std::string_view key) {
  auto e = take(key);
  if (!e) wrong(key, "given (it is required)");
  if (e->type() != bson::Type::kArray) wrong(key, "an array");
  return bson::Document(e->get_array());
}

std::optional<std::vector<bson::Document>> Args::documents(std::string_view key) {
  auto e = take(key);
  if (!e) return std::nullopt;
  if (e->type() != bson::Type::kArray) wrong(key, "an array of documents");
  std::vector<bson::Document> out;
  for (bson::Element d : e->get_array()) {
    if (d.type() != bson::Type::kDocument) wrong(key, "an array of documents");
    out.emplace_back(d.get_document());
  }
  return out;
}

std::vector<bson::Document> Args::required_documents(std::string_view key) {
  auto d = documents(key);
  if (!d) wrong(key, "given (it is required)");
  return *d;
}

std::optional<std::string> Args::string(std::string_view key) {
  auto e = take(key);
  if (!e) return std::nullopt;
  if (e->type() != bson::Type::kString) wrong(key, "a string");
  return std::string(e->get_string());
}

std::string Args::required_string(std::string_view key) {
  auto s = string(key);
  if (!s) wrong(key, "given (it is required)");
  return *s;
}

std::optional<std::int64_t> Args::integer(std::string_view key) {
  auto e = take(key);
  if (!e) return std::nullopt;
  if (!is_plain_number(*e)) wrong(key, "a number");
  if (e->type() == bson::Type::kDouble) {
    const double d = e->get_double();
    if (std::trunc(d) != d) wrong(key, "an integral number");
  }
  return e->as_int64();
}

std::optional<bool> Args::boolean(std::string_view key) {
  auto e = take(key);
  if (!e) return std::nullopt;
  if (e->type() != bson::Type::kBool) wrong(key, "a boolean");
  return e->get_bool();
}

std::optional<std::chrono::milliseconds> Args::millis(std::string_view key) {
  auto n = integer(key);
  if (!n) return std::nullopt;
  return std::chrono::milliseconds(*n);
}

std::optional<Hint> Args::hint(std::string_view key) {
  auto e = take(key);
  if (!e) return std::nullopt;
  if (e->type() == bson::Type::kString) return Hint(std::string(e->get_string()));
  if (e->type() == bson::Type::kDocument) return Hint(bson::Document(e->get_document()));
  wrong(key, "a string or a document");
}

std::optional<Comment> Args::comment(std::string_view key) {
  auto e = take(key);
  if (!e) return std::nullopt;
  if (e->type() == bson::Type::kString) return Comment(std::string(e->get_string()));
  if (e->type() == bson::Type::kDocument) return Comment(bson::Document(e->get_document()));
  throw Unsupported(operation_ + ": a comment of type " +
                    std::string(unified_type_name(e->type())) +
                    " (mongoslice takes a string or a document)");
}

void Args::finish() const {
  for (bson::Element field : args_) {
    if (!known_.count(field.key())) {
      throw TestFailure(operation_ + ": '" + std::string(field.key()) +
                        "' is not an argument of this operation");
    }
  }
  for (bson::Element field : args_) {
    if (!taken_.count(field.key())) {
      if (field.key() == "session") {
        throw Unsupported(operation_ +
                          ": argument 'session': sessions are not built in mongoslice");
      }
      throw Unsupported(operation_ + ": argument '" + std::string(field.key()) +
                        "' is not built in mongoslice");
    }
  }
}

}  // namespace mongoslice::unified
