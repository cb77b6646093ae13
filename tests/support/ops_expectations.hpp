#pragma once
// Shared by the ops/ unit tests: documents from JSON, and expectations on the errors command
// builders and reply parsers throw.

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "wire/bson.hpp"
#include "wire/error.hpp"

namespace mongoslice::testing {

inline bson::Document json(std::string_view text) {
  return bson::Document::from_json(text);
}

// The code of the mongoslice::Error `f` throws, its message in `what`. A ServerError (the
// server's refusal, not the driver's own check) or nothing thrown is a test failure.
template <typename F>
std::error_code error_code_of(F&& f, std::string* what = nullptr) {
  try {
    f();
  } catch (const ServerError& e) {
    ADD_FAILURE() << "a ServerError, expected a mongoslice::Error of its own: " << e.what();
    return {};
  } catch (const Error& e) {
    if (what) *what = e.what();
    return e.code();
  }
  ADD_FAILURE() << "nothing thrown";
  return {};
}

// Calls `f` and expects Error(errc::invalid_argument) whose message holds `words`.
template <typename F>
void expect_invalid(F&& f, std::string_view words) {
  std::string what;
  EXPECT_EQ(error_code_of(f, &what), make_error_code(errc::invalid_argument)) << what;
  EXPECT_NE(what.find(words), std::string::npos)
      << "'" << what << "' does not mention '" << words << "'";
}

// Runs `parse` on each reply of `cases` and expects mongoslice::Error with `code` (not a
// ServerError) whose message names the case's field.
template <typename Parse>
void expect_malformed(Parse&& parse, const std::vector<std::pair<const char*, const char*>>& cases,
                      errc code) {
  for (const auto& [text, field] : cases) {
    std::string what;
    EXPECT_EQ(error_code_of([&] { parse(json(text)); }, &what), make_error_code(code))
        << text << ": " << what;
    EXPECT_NE(what.find(field), std::string::npos) << "'" << what << "' does not name " << field;
  }
}

}  // namespace mongoslice::testing
