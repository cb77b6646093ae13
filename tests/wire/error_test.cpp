// The error categories outlive static destruction: a static client whose destructor (or an exit
// handler) meets an error still gets a working std::error_code.
//
// This pins the contract; it does not catch the old function-local static categories. With
// GCC 12 they pass too: a destroyed category holds no state and keeps its vtable pointer, so the
// read of a destroyed object goes unnoticed, and no sanitizer built here reports use after
// destruction of a static.

#include "wire/error.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <string_view>

#include <unistd.h>

namespace mongoslice {
namespace {

// Runs after every static whose construction completed after it was registered, the error
// categories among them. Exits with 3 if an error built here does not read as it should.
void use_errors_at_exit() {
  const Error client(errc::timeout, "at exit");
  const std::error_code server(43, server_category());
  const bool ok = std::string_view(client.code().category().name()) == "mongoslice" &&
                  client.code().message() == "operation timed out" &&
                  std::string(client.what()).find("operation timed out") != std::string::npos &&
                  std::string_view(server.category().name()) == "mongodb-server" &&
                  server.message() == "server error 43";
  if (!ok) ::_exit(3);
}

// A fresh process (the "threadsafe" style re-executes the test binary), so that the categories
// are first used after the exit handler is registered: the handler then runs after the point
// where a function-local static category would already have been destroyed.
TEST(ErrorCategoryDeathTest, UsableFromAnExitHandlerRegisteredBeforeTheirFirstUse) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        std::atexit(use_errors_at_exit);
        (void)make_error_code(errc::timeout).message();
        (void)std::error_code(43, server_category()).message();
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace mongoslice
