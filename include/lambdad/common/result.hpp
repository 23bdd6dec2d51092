// common: expected failures as values. Error carries a kind (how callers react), a Lambda or
// AWS error-type string and a human message; Result<T> is a value or an Error.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace lambdad {

enum class ErrorKind {
  kInvalidInput,   // the caller sent something wrong (4xx)
  kNotFound,       // no such function / route
  kConflict,       // the request is valid but not now (state machine refuses)
  kTooLarge,       // a size limit was exceeded
  kFunctionError,  // the function (runtime) failed; returned to the invoker as a function error
  kInternal,       // a bug or an OS failure on our side
};

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string type;     // e.g. "Runtime.ExitError", "ResourceNotFoundException"
  std::string message;  // human readable; for Lambda errors the exact AWS text
};

// Bad input without a Lambda error type: a command line, settings file or template problem.
inline Error invalid_input(std::string message) { return Error{ErrorKind::kInvalidInput, "", std::move(message)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}    // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void> equivalent.
struct Ok {};
using Status = Result<Ok>;

}  // namespace lambdad
