// render(): the JSON error bodies of the Invoke API.
#include "lambdad/invoke_api/service_error.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace lambdad::invoke_api {
namespace {

// Found by fuzz/invoke_api_fuzz: a function name in the path that is not UTF-8 is quoted in the
// message, and rendering it threw out of the handler.
TEST(ServiceErrorRender, MessageThatIsNotUtf8StillRendersValidJson) {
  auto r = render(ServiceError::not_found("Function not found: arn:aws:lambda:us-east-1:123456789012:function:f\xe9\xff"),
                  "req-1");
  EXPECT_EQ(r.status, 404u);
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.body;
  EXPECT_NE(j["Message"].get<std::string>().find("function:f\xef\xbf\xbd"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace lambdad::invoke_api
