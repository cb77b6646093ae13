#pragma once
// expect_error(body): runs `body`, which must throw mongoslice::Error, and returns the error so
// the test can check its code and message. A body that throws nothing is a test failure.

#include <gtest/gtest.h>

#include "wire/error.hpp"

namespace mongoslice::testing {

template <typename Body>
Error expect_error(Body&& body) {
  try {
    body();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no mongoslice::Error was thrown";
  return Error(errc::invalid_argument, "nothing thrown");
}

}  // namespace mongoslice::testing
