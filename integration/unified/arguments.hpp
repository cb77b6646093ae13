#pragma once
// Reading an operation's arguments: each handler names every argument the format (the CRUD
// spec) defines for the operation, takes the ones mongoslice supports, and finish() sorts out
// the rest before anything is sent: an argument the format does not define fails the test
// (TestFailure), a defined one that was not taken is not built (Unsupported: the test is
// skipped with the argument named).

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "driver/write_options.hpp"
#include "unified/value.hpp"
#include "wire/bson.hpp"

namespace mongoslice::unified {

class Args {
 public:
  Args(bson::View arguments, std::string operation, std::initializer_list<std::string_view> known);

  // The argument, if given (it must be one of the known ones).
  std::optional<bson::Element> take(std::string_view key);

  // Typed readers; each throws TestFailure for a wrong type, the required_* ones for a missing
  // argument too.
  bson::Document required_document(std::string_view key);
  std::optional<bson::Document> document(std::string_view key);
  // A document or an array (an update or a pipeline), as BSON bytes.
  bson::Document required_document_or_array(std::string_view key);
  bson::Document required_array(std::string_view key);
  std::vector<bson::Document> required_documents(std::string_view key);  // an array of documents
  std::optional<std::vector<bson::Document>> documents(std::string_view key);
  std::string required_string(std::string_view key);
  std::optional<std::string> string(std::string_view key);
  std::optional<std::int64_t> integer(std::string_view key);  // any number, exactly integral
  std::optional<bool> boolean(std::string_view key);
  std::optional<std::chrono::milliseconds> millis(std::string_view key);
  std::optional<Hint> hint(std::string_view key);
  // A comment mongoslice can carry (a string or a document); other BSON types are Unsupported.
  std::optional<Comment> comment(std::string_view key);

  // TestFailure for an argument the format does not define for this operation, Unsupported for
  // a defined one that was not taken.
  void finish() const;

  const std::string& operation() const noexcept { return operation_; }

 private:
  [[noreturn]] void wrong(std::string_view key, std::string_view want) const;
  bson::View args_;
  std::string operation_;
  std::set<std::string, std::less<>> known_;
  std::set<std::string, std::less<>> taken_;
};

}  // namespace mongoslice::unified
