#pragma once
// How every async_ function of the driver completes (Cursor::async_next here, the async_ twins
// of Collection, Database and MongoClient in driver/): the work is one coroutine,
// boost::asio::awaitable<Result>, and the completion token decides how it is delivered.
//
//   - boost::asio::use_awaitable: the coroutine itself is returned; co_await runs it on the
//     awaiting coroutine's executor, and a failure throws the very mongoslice::Error (ServerError,
//     BulkWriteError, ...) the synchronous call throws. Cancellation comes through the awaiting
//     coroutine's cancellation slot (e.g. `op || timer` from awaitable_operators).
//   - any other token (a callback, use_future, deferred, as_tuple(...)): the completion signature
//     is void(boost::system::error_code, Result), or void(boost::system::error_code) for no
//     result. The coroutine is spawned on the handler's associated executor, else on `fallback`
//     (ClientOptions::executor); the handler runs there. A failure gives its error_code
//     (mongoslice::errc values compare equal to it; a ServerError gives the server's code in the
//     server category) and a default Result. The handler's cancellation slot, when it has one,
//     cancels the operation.
// A cancelled operation completes with boost::asio::error::operation_aborted (the thrown Error's
// code is ECANCELED in the system category, which is the same value).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace mongoslice {
namespace async_detail {

template <typename Token>
struct is_use_awaitable : std::false_type {};
template <typename Executor>
struct is_use_awaitable<boost::asio::use_awaitable_t<Executor>> : std::true_type {};

// The error_code a failure completes with (see above). Never throws.
boost::system::error_code error_code_of(std::exception_ptr failure) noexcept;
// The error a call without any executor throws.
[[noreturn]] void throw_no_executor();

template <typename Result>
struct signature_of {
  using type = void(boost::system::error_code, Result);
};
template <>
struct signature_of<void> {
  using type = void(boost::system::error_code);
};

struct initiate {
  template <typename Handler, typename Result>
  void operator()(Handler handler, std::optional<boost::asio::any_io_executor> fallback,
                  boost::asio::awaitable<Result> work) const {
    boost::asio::any_io_executor executor = boost::asio::get_associated_executor(
        handler, fallback ? *fallback : boost::asio::any_io_executor{});
    if (!executor) throw_no_executor();
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    if constexpr (std::is_void_v<Result>) {
      boost::asio::co_spawn(executor, std::move(work),
                            boost::asio::bind_cancellation_slot(
                                slot, [handler = std::move(handler)](std::exception_ptr e) mutable {
                                  std::move(handler)(error_code_of(e));
                                }));
    } else {
      boost::asio::co_spawn(
          executor, std::move(work),
          boost::asio::bind_cancellation_slot(
              slot, [handler = std::move(handler)](std::exception_ptr e, Result result) mutable {
                if (e) {
                  std::move(handler)(error_code_of(e), Result{});
                } else {
                  std::move(handler)(boost::system::error_code{}, std::move(result));
                }
              }));
    }
  }
};

}  // namespace async_detail

// Delivers `work` as the token asks (see above).
template <typename Result, typename Token>
auto complete_async(std::optional<boost::asio::any_io_executor> fallback,
                    boost::asio::awaitable<Result> work, Token&& token) {
  if constexpr (async_detail::is_use_awaitable<std::decay_t<Token>>::value) {
    return work;
  } else {
    return boost::asio::async_initiate<Token, typename async_detail::signature_of<Result>::type>(
        async_detail::initiate{}, token, std::move(fallback), std::move(work));
  }
}

}  // namespace mongoslice
