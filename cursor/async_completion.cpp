#include "cursor/async_completion.hpp"

#include <boost/system/system_error.hpp>
#include <system_error>

#include "wire/error.hpp"

namespace mongoslice::async_detail {

boost::system::error_code error_code_of(std::exception_ptr failure) noexcept {
  if (!failure) return {};
  try {
    std::rethrow_exception(failure);
  } catch (const boost::system::system_error& e) {
    return e.code();
  } catch (const std::system_error& e) {
    // The OS's codes (ECANCELED above all: operation_aborted) stay in Boost's system category,
    // so that they compare equal to Asio's own; the driver's categories are carried as they are.
    if (e.code().category() == std::system_category()) {
      return {e.code().value(), boost::system::system_category()};
    }
    return boost::system::error_code(e.code());
  } catch (...) {
    return boost::system::error_code(make_error_code(errc::invalid_argument));
  }
}

void throw_no_executor() {
  throw Error(errc::invalid_argument,
              "an async_ operation needs an executor: pass a completion token that has one "
              "(use_awaitable, bind_executor(...)), or set ClientOptions::executor");
}

}  // namespace mongoslice::async_detail
