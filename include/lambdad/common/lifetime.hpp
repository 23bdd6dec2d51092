// common: an owner's lifetime as seen by callbacks that may outlive it (work posted to the io
// thread, completions held by an invocation or a socket). Such a callback captures a token, or is
// wrapped by guard(), and does nothing once its owner is gone. The owner, end() and the test of a
// token belong to the io thread (docs/decisions/001); a token may be copied on any thread (a
// worker carrying one into the completion it posts back), as weak_ptr's counts allow.
#pragma once

#include <memory>
#include <utility>

namespace lambdad {

class Lifetime {
 public:
  class Token {
   public:
    bool alive() const { return !owner_.expired(); }
    explicit operator bool() const { return alive(); }

   private:
    friend class Lifetime;
    explicit Token(std::weak_ptr<const void> owner) : owner_(std::move(owner)) {}
    std::weak_ptr<const void> owner_;
  };

  Lifetime() = default;
  Lifetime(const Lifetime&) = delete;
  Lifetime& operator=(const Lifetime&) = delete;
  ~Lifetime() = default;

  Token token() const { return Token{owner_}; }

  // `f`, called only while the owner lives; afterwards the call does nothing.
  template <class F>
  auto guard(F f) const {
    return [token = token(), f = std::move(f)](auto&&... args) mutable {
      if (token) f(std::forward<decltype(args)>(args)...);
    };
  }

  // Ends the lifetime before the owner's members are destroyed: an owner's destructor calls it
  // first, so callbacks its own teardown sets off see it gone.
  void end() { owner_.reset(); }
  bool ended() const { return owner_ == nullptr; }

 private:
  std::shared_ptr<const void> owner_ = std::make_shared<char>(0);
};

}  // namespace lambdad
