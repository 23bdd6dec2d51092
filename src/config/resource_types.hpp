// config (internal): the CloudFormation resource types the loaders read, in one place.
#pragma once

#include <string_view>

namespace lambdad::config {

// Functions and layers.
inline constexpr std::string_view kServerlessFunctionType = "AWS::Serverless::Function";
inline constexpr std::string_view kLambdaFunctionType = "AWS::Lambda::Function";
inline constexpr std::string_view kServerlessLayerType = "AWS::Serverless::LayerVersion";
inline constexpr std::string_view kLambdaLayerType = "AWS::Lambda::LayerVersion";

// HTTP fronts (decision 020).
inline constexpr std::string_view kServerlessApiType = "AWS::Serverless::Api";
inline constexpr std::string_view kServerlessHttpApiType = "AWS::Serverless::HttpApi";
inline constexpr std::string_view kApiGatewayV2Prefix = "AWS::ApiGatewayV2::";
inline constexpr std::string_view kApiGatewayV2ApiType = "AWS::ApiGatewayV2::Api";
inline constexpr std::string_view kApiGatewayV2RouteType = "AWS::ApiGatewayV2::Route";
inline constexpr std::string_view kApiGatewayV2RouteResponseType = "AWS::ApiGatewayV2::RouteResponse";
inline constexpr std::string_view kApiGatewayV2IntegrationType = "AWS::ApiGatewayV2::Integration";
inline constexpr std::string_view kApiGatewayV2StageType = "AWS::ApiGatewayV2::Stage";
inline constexpr std::string_view kApiGatewayV2AuthorizerType = "AWS::ApiGatewayV2::Authorizer";

}  // namespace lambdad::config
