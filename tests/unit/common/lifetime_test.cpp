// Lifetime: callbacks that outlive their owner do nothing; those that run while it lives run.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "lambdad/common/lifetime.hpp"

namespace lambdad {
namespace {

TEST(Lifetime, AGuardedCallRunsWhileTheOwnerLivesAndNotAfter) {
  std::string seen;
  std::function<void(const std::string&, int)> late;
  {
    Lifetime lifetime;
    late = lifetime.guard([&](const std::string& text, int n) { seen += text + std::to_string(n); });
    late("a", 1);
    EXPECT_EQ(seen, "a1");
  }
  late("b", 2);
  EXPECT_EQ(seen, "a1");
}

TEST(Lifetime, EndExpiresTokensBeforeTheOwnerIsDestroyed) {
  Lifetime lifetime;
  const auto token = lifetime.token();
  int calls = 0;
  auto guarded = lifetime.guard([&] { ++calls; });
  EXPECT_TRUE(token.alive());
  EXPECT_FALSE(lifetime.ended());
  lifetime.end();
  EXPECT_FALSE(token.alive());
  EXPECT_FALSE(static_cast<bool>(token));
  EXPECT_TRUE(lifetime.ended());
  guarded();
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(lifetime.token().alive()) << "a token taken after the end is born expired";
}

TEST(Lifetime, AGuardedCallMayTakeMoveOnlyArgumentsAndBeMovedItself) {
  std::optional<int> got;
  Lifetime lifetime;
  auto guarded = lifetime.guard([&](std::unique_ptr<int> p) { got = *p; });
  auto moved = std::move(guarded);
  moved(std::make_unique<int>(7));
  EXPECT_EQ(got, 7);
}

}  // namespace
}  // namespace lambdad
