#include <gtest/gtest.h>
#include <zlib.h>

#include <regex>
#include <set>
#include <string>

#include "lambdad/events/generate_event.hpp"
#include "lambdad/common/base64.hpp"

namespace lambdad::events {
namespace {

using Json = nlohmann::ordered_json;

Json generate(const std::string& service, const std::string& event, EventOptions options = {}) {
  auto result = generate_event(service, event, options);
  EXPECT_TRUE(result.ok()) << service << " " << event << ": " << (result.ok() ? "" : result.error().message);
  return result.ok() ? result.value() : Json();
}

std::string error_of(const std::string& service, const std::string& event, EventOptions options = {}) {
  auto result = generate_event(service, event, options);
  EXPECT_FALSE(result.ok()) << service << " " << event << " unexpectedly succeeded";
  return result.ok() ? "" : result.error().message;
}

std::string gunzip(const std::string& data) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buffer[4096];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buffer);
    zs.avail_out = sizeof buffer;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - zs.avail_out);
  }
  inflateEnd(&zs);
  EXPECT_EQ(rc, Z_STREAM_END);
  return out;
}

const std::regex kUuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
const std::regex kIsoMillis(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");

const std::vector<std::pair<std::string, std::string>> kAllEvents = {
    {"s3", "put"},          {"s3", "delete"},           {"sqs", "receive-message"},
    {"sns", "notification"}, {"apigateway", "aws-proxy"}, {"apigateway", "http-api-proxy"},
    {"eventbridge", "event"}, {"eventbridge", "schedule"}, {"dynamodb", "update"},
    {"kinesis", "get-records"}, {"cloudwatch", "logs"},   {"alb", "request"}};

TEST(GenerateEventTest, S3PutCarriesBucketKeySizeAndEtag) {
  EventOptions o;
  o.bucket = "photos";
  o.key = "cats/my cat.jpg";
  o.size = 2048;
  o.etag = "abc123";
  o.region = "eu-west-1";
  auto r = generate("s3", "put", o)["Records"][0];
  EXPECT_EQ(r["eventVersion"], "2.1");
  EXPECT_EQ(r["eventSource"], "aws:s3");
  EXPECT_EQ(r["eventName"], "ObjectCreated:Put");
  EXPECT_EQ(r["awsRegion"], "eu-west-1");
  EXPECT_TRUE(std::regex_match(r["eventTime"].get<std::string>(), kIsoMillis));
  EXPECT_TRUE(r["userIdentity"].contains("principalId"));
  EXPECT_TRUE(r["requestParameters"].contains("sourceIPAddress"));
  EXPECT_TRUE(r["responseElements"].contains("x-amz-request-id"));
  EXPECT_TRUE(r["responseElements"].contains("x-amz-id-2"));
  const auto& s3 = r["s3"];
  EXPECT_EQ(s3["s3SchemaVersion"], "1.0");
  EXPECT_TRUE(s3.contains("configurationId"));
  EXPECT_EQ(s3["bucket"]["name"], "photos");
  EXPECT_EQ(s3["bucket"]["arn"], "arn:aws:s3:::photos");
  EXPECT_TRUE(s3["bucket"]["ownerIdentity"].contains("principalId"));
  EXPECT_EQ(s3["object"]["key"], "cats/my+cat.jpg");  // S3 form-encodes keys in notifications
  EXPECT_EQ(s3["object"]["size"], 2048);
  EXPECT_EQ(s3["object"]["eTag"], "abc123");
  EXPECT_TRUE(s3["object"].contains("sequencer"));
}

TEST(GenerateEventTest, S3DeleteHasNoSizeAndRejectsOne) {
  EventOptions o;
  o.bucket = "photos";
  o.key = "old.txt";
  auto r = generate("s3", "delete", o)["Records"][0];
  EXPECT_EQ(r["eventName"], "ObjectRemoved:Delete");
  EXPECT_EQ(r["s3"]["object"]["key"], "old.txt");
  EXPECT_FALSE(r["s3"]["object"].contains("size"));
  o.size = 5;
  auto message = error_of("s3", "delete", o);
  EXPECT_NE(message.find("--size does not apply to s3 delete"), std::string::npos) << message;
  EXPECT_NE(message.find("--bucket --key --etag"), std::string::npos) << message;
}

TEST(GenerateEventTest, SqsRecordsCarryTheRealMd5OfTheBody) {
  EventOptions o;
  o.body = "hi";
  o.queue_name = "orders";
  o.count = 3;
  o.account = "111122223333";
  o.region = "eu-west-1";
  auto records = generate("sqs", "receive-message", o)["Records"];
  ASSERT_EQ(records.size(), 3u);
  std::set<std::string> ids;
  for (const auto& r : records) {
    ids.insert(r["messageId"].get<std::string>());
    EXPECT_TRUE(std::regex_match(r["messageId"].get<std::string>(), kUuid));
    EXPECT_FALSE(r["receiptHandle"].get<std::string>().empty());
    EXPECT_EQ(r["body"], "hi");
    EXPECT_EQ(r["md5OfBody"], "49f68a5c8493ec2c0bf489821c21fc3b");  // md5("hi")
    EXPECT_EQ(r["eventSource"], "aws:sqs");
    EXPECT_EQ(r["eventSourceARN"], "arn:aws:sqs:eu-west-1:111122223333:orders");
    EXPECT_EQ(r["awsRegion"], "eu-west-1");
    EXPECT_TRUE(r["messageAttributes"].is_object());
    const auto& a = r["attributes"];
    EXPECT_EQ(a["ApproximateReceiveCount"], "1");
    for (auto name : {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"}) {
      EXPECT_TRUE(a[name].is_string()) << name;
    }
  }
  EXPECT_EQ(ids.size(), 3u);
  o.body = "";
  o.count = std::nullopt;
  EXPECT_EQ(generate("sqs", "receive-message", o)["Records"][0]["md5OfBody"], "d41d8cd98f00b204e9800998ecf8427e");
  o.count = 0;
  EXPECT_NE(error_of("sqs", "receive-message", o).find("--count"), std::string::npos);
}

TEST(GenerateEventTest, SnsNotificationCarriesMessageSubjectAndTopic) {
  EventOptions o;
  o.message = {"order shipped"};
  o.subject = "Order";
  o.topic_arn = "arn:aws:sns:us-west-2:111122223333:orders";
  auto r = generate("sns", "notification", o)["Records"][0];
  EXPECT_EQ(r["EventSource"], "aws:sns");
  EXPECT_EQ(r["EventVersion"], "1.0");
  EXPECT_EQ(r["EventSubscriptionArn"].get<std::string>().rfind("arn:aws:sns:us-west-2:111122223333:orders:", 0), 0u);
  const auto& sns = r["Sns"];
  EXPECT_EQ(sns["Type"], "Notification");
  EXPECT_TRUE(std::regex_match(sns["MessageId"].get<std::string>(), kUuid));
  EXPECT_EQ(sns["TopicArn"], "arn:aws:sns:us-west-2:111122223333:orders");
  EXPECT_EQ(sns["Subject"], "Order");
  EXPECT_EQ(sns["Message"], "order shipped");
  EXPECT_TRUE(std::regex_match(sns["Timestamp"].get<std::string>(), kIsoMillis));
  EXPECT_EQ(sns["SignatureVersion"], "1");
  for (auto name : {"Signature", "SigningCertUrl", "UnsubscribeUrl"}) EXPECT_TRUE(sns[name].is_string()) << name;
  EXPECT_TRUE(sns["MessageAttributes"].is_object());
  o.topic_arn = "orders";
  EXPECT_NE(error_of("sns", "notification", o).find("--topic-arn"), std::string::npos);
  o.topic_arn.reset();
  o.message = {"a", "b"};
  EXPECT_NE(error_of("sns", "notification", o).find("one --message"), std::string::npos);
}

TEST(GenerateEventTest, RestApiProxyPutsOptionsInTheirFields) {
  EventOptions o;
  o.method = "post";
  o.path = "/items/42";
  o.resource = "/items/{id}";
  o.stage = "dev";
  o.body = R"({"n":1})";
  o.query = {"a=1", "a=2", "b=x y"};
  o.header = {"X-Test=one", "X-Test=two", "Accept=text/plain"};
  auto e = generate("apigateway", "aws-proxy", o);
  EXPECT_EQ(e["resource"], "/items/{id}");
  EXPECT_EQ(e["path"], "/items/42");
  EXPECT_EQ(e["httpMethod"], "POST");
  EXPECT_EQ(e["body"], R"({"n":1})");
  EXPECT_EQ(e["isBase64Encoded"], false);
  EXPECT_EQ(e["pathParameters"], Json({{"id", "42"}}));
  EXPECT_EQ(e["queryStringParameters"]["a"], "2");
  EXPECT_EQ(e["queryStringParameters"]["b"], "x y");
  EXPECT_EQ(e["multiValueQueryStringParameters"]["a"], Json({"1", "2"}));
  EXPECT_EQ(e["headers"]["X-Test"], "two");
  EXPECT_EQ(e["multiValueHeaders"]["X-Test"], Json({"one", "two"}));
  EXPECT_EQ(e["headers"]["Accept"], "text/plain");  // replaces the default
  EXPECT_EQ(e["headers"]["Content-Type"], "application/json");
  EXPECT_TRUE(e["stageVariables"].is_null());
  const auto& c = e["requestContext"];
  EXPECT_EQ(c["stage"], "dev");
  EXPECT_EQ(c["path"], "/dev/items/42");
  EXPECT_EQ(c["resourcePath"], "/items/{id}");
  EXPECT_EQ(c["httpMethod"], "POST");
  EXPECT_EQ(c["accountId"], "123456789012");
  EXPECT_TRUE(c["requestTimeEpoch"].is_number_integer());
  EXPECT_TRUE(c["requestTime"].is_string());
  EXPECT_TRUE(std::regex_match(c["requestId"].get<std::string>(), kUuid));
  EXPECT_EQ(c["identity"]["sourceIp"], "127.0.0.1");
  EXPECT_EQ(c["domainName"], c["apiId"].get<std::string>() + ".execute-api.us-east-1.amazonaws.com");
}

TEST(GenerateEventTest, RestApiProxyDefaultsToAGreedyResourceAndNullBody) {
  EventOptions o;
  o.path = "/a/b";
  auto e = generate("apigateway", "aws-proxy", o);
  EXPECT_EQ(e["resource"], "/{proxy+}");
  EXPECT_EQ(e["pathParameters"], Json({{"proxy", "a/b"}}));
  EXPECT_TRUE(e["body"].is_null());
  EXPECT_TRUE(e["queryStringParameters"].is_null());
  o.resource = "/other/{id}";
  EXPECT_NE(error_of("apigateway", "aws-proxy", o).find("does not match --path /a/b"), std::string::npos);
  o.resource.reset();
  o.method = "FETCH";
  EXPECT_NE(error_of("apigateway", "aws-proxy", o).find("--method"), std::string::npos);
  o.method.reset();
  o.query = {"novalue"};
  EXPECT_NE(error_of("apigateway", "aws-proxy", o).find("NAME=VALUE"), std::string::npos);
}

TEST(GenerateEventTest, HttpApiProxyFollowsPayloadTwo) {
  EventOptions o;
  o.method = "PUT";
  o.path = "/items/7";
  o.query = {"a=1", "a=2", "q=x y"};
  o.header = {"X-Test=1", "Cookie=s=1; theme=dark"};
  o.body = "payload";
  auto e = generate("apigateway", "http-api-proxy", o);
  EXPECT_EQ(e["version"], "2.0");
  EXPECT_EQ(e["routeKey"], "PUT /items/7");
  EXPECT_EQ(e["rawPath"], "/items/7");
  EXPECT_EQ(e["rawQueryString"], "a=1&a=2&q=x%20y");
  EXPECT_EQ(e["queryStringParameters"]["a"], "1,2");
  EXPECT_EQ(e["cookies"], Json({"s=1", "theme=dark"}));
  EXPECT_FALSE(e["headers"].contains("cookie"));
  EXPECT_EQ(e["headers"]["x-test"], "1");
  EXPECT_EQ(e["body"], "payload");
  EXPECT_EQ(e["isBase64Encoded"], false);
  EXPECT_FALSE(e.contains("pathParameters"));
  const auto& c = e["requestContext"];
  EXPECT_EQ(c["http"]["method"], "PUT");
  EXPECT_EQ(c["http"]["path"], "/items/7");
  EXPECT_EQ(c["http"]["protocol"], "HTTP/1.1");
  EXPECT_TRUE(c["http"].contains("sourceIp"));
  EXPECT_TRUE(c["http"].contains("userAgent"));
  EXPECT_EQ(c["routeKey"], "PUT /items/7");
  EXPECT_EQ(c["stage"], "$default");
  EXPECT_TRUE(c["timeEpoch"].is_number_integer());

  o.route_key = "ANY /items/{id}";
  o.stage = "beta";
  e = generate("apigateway", "http-api-proxy", o);
  EXPECT_EQ(e["routeKey"], "ANY /items/{id}");
  EXPECT_EQ(e["pathParameters"], Json({{"id", "7"}}));
  EXPECT_EQ(e["rawPath"], "/beta/items/7");
  EXPECT_EQ(e["requestContext"]["stage"], "beta");
  o.route_key = "GET /items/{id}";
  EXPECT_NE(error_of("apigateway", "http-api-proxy", o).find("--route-key"), std::string::npos);
  o.resource = "/x";
  EXPECT_NE(error_of("apigateway", "http-api-proxy", o).find("--resource does not apply"), std::string::npos);
}

TEST(GenerateEventTest, EventBridgeEventValidatesDetail) {
  EventOptions o;
  o.source = "com.shop";
  o.detail_type = "Order Placed";
  o.detail = R"({"orderId": 7, "items": [1, 2]})";
  o.region = "ap-south-1";
  o.resource_arn = {"arn:aws:s3:::x"};
  auto e = generate("eventbridge", "event", o);
  EXPECT_EQ(e["version"], "0");
  EXPECT_TRUE(std::regex_match(e["id"].get<std::string>(), kUuid));
  EXPECT_EQ(e["detail-type"], "Order Placed");
  EXPECT_EQ(e["source"], "com.shop");
  EXPECT_EQ(e["account"], "123456789012");
  EXPECT_TRUE(std::regex_match(e["time"].get<std::string>(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  EXPECT_EQ(e["region"], "ap-south-1");
  EXPECT_EQ(e["resources"], Json({"arn:aws:s3:::x"}));
  EXPECT_EQ(e["detail"]["orderId"], 7);
  o.detail = "{not json";
  EXPECT_NE(error_of("eventbridge", "event", o).find("--detail: not valid JSON"), std::string::npos);
  o.detail = "[1]";
  EXPECT_NE(error_of("eventbridge", "event", o).find("JSON object"), std::string::npos);
}

TEST(GenerateEventTest, ScheduledEventNamesTheRule) {
  EventOptions o;
  o.rule = "nightly";
  o.account = "111122223333";
  auto e = generate("eventbridge", "schedule", o);
  EXPECT_EQ(e["source"], "aws.events");
  EXPECT_EQ(e["detail-type"], "Scheduled Event");
  EXPECT_EQ(e["resources"], Json({"arn:aws:events:us-east-1:111122223333:rule/nightly"}));
  EXPECT_EQ(e["detail"], Json::object());
  for (auto field : {"version", "id", "account", "time", "region"}) EXPECT_TRUE(e.contains(field)) << field;
}

TEST(GenerateEventTest, DynamoDbUpdateTakesDynamoDbJson) {
  EventOptions o;
  o.table = "Orders";
  o.keys = R"({"pk": {"S": "order#1"}})";
  o.new_image = R"({"pk": {"S": "order#1"}, "state": {"S": "shipped"}})";
  o.old_image = R"({"pk": {"S": "order#1"}, "state": {"S": "new"}})";
  auto r = generate("dynamodb", "update", o)["Records"][0];
  EXPECT_EQ(r["eventName"], "MODIFY");
  EXPECT_EQ(r["eventVersion"], "1.1");
  EXPECT_EQ(r["eventSource"], "aws:dynamodb");
  EXPECT_TRUE(r["eventID"].is_string());
  EXPECT_EQ(r["awsRegion"], "us-east-1");
  const auto source_arn = r["eventSourceARN"].get<std::string>();
  EXPECT_EQ(source_arn.rfind("arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/", 0), 0u) << source_arn;
  const auto& d = r["dynamodb"];
  EXPECT_EQ(d["Keys"], Json::parse(*o.keys));
  EXPECT_EQ(d["NewImage"]["state"]["S"], "shipped");
  EXPECT_EQ(d["OldImage"]["state"]["S"], "new");
  EXPECT_TRUE(d["SequenceNumber"].is_string());
  EXPECT_GT(d["SizeBytes"].get<int>(), 0);
  EXPECT_EQ(d["StreamViewType"], "NEW_AND_OLD_IMAGES");
  EXPECT_TRUE(d["ApproximateCreationDateTime"].is_number());

  o.new_image.reset();  // the default image holds the keys
  EXPECT_EQ(generate("dynamodb", "update", o)["Records"][0]["dynamodb"]["NewImage"]["pk"]["S"], "order#1");
  o.keys = R"({"pk": "order#1"})";
  EXPECT_NE(error_of("dynamodb", "update", o).find("DynamoDB JSON"), std::string::npos);
  o.keys = R"({"pk": {"STRING": "x"}})";
  EXPECT_NE(error_of("dynamodb", "update", o).find("unknown type STRING"), std::string::npos);
}

TEST(GenerateEventTest, KinesisRecordsCarryBase64Data) {
  EventOptions o;
  o.stream = "clicks";
  o.data = "hello kinesis";
  o.partition_key = "user-9";
  o.count = 2;
  auto records = generate("kinesis", "get-records", o)["Records"];
  ASSERT_EQ(records.size(), 2u);
  EXPECT_NE(records[0]["kinesis"]["sequenceNumber"], records[1]["kinesis"]["sequenceNumber"]);
  for (const auto& r : records) {
    const auto& k = r["kinesis"];
    EXPECT_EQ(k["kinesisSchemaVersion"], "1.0");
    EXPECT_EQ(k["partitionKey"], "user-9");
    EXPECT_EQ(base64::decode(k["data"].get<std::string>()).value_or(""), "hello kinesis");
    EXPECT_TRUE(k["approximateArrivalTimestamp"].is_number());
    EXPECT_EQ(r["eventSource"], "aws:kinesis");
    EXPECT_EQ(r["eventName"], "aws:kinesis:record");
    EXPECT_EQ(r["eventVersion"], "1.0");
    EXPECT_NE(r["eventID"].get<std::string>().find(k["sequenceNumber"].get<std::string>()), std::string::npos);
    EXPECT_EQ(r["eventSourceARN"], "arn:aws:kinesis:us-east-1:123456789012:stream/clicks");
    EXPECT_TRUE(r.contains("invokeIdentityArn"));
  }
}

TEST(GenerateEventTest, CloudWatchLogsDataIsBase64OfGzipOfThePayload) {
  EventOptions o;
  o.log_group = "/aws/lambda/orders";
  o.log_stream = "2024/06/01/[$LATEST]abc";
  o.message = {"first line", "second line", "third"};
  o.account = "111122223333";
  auto e = generate("cloudwatch", "logs", o);
  auto zipped = base64::decode(e["awslogs"]["data"].get<std::string>());
  ASSERT_TRUE(zipped);
  auto payload = Json::parse(gunzip(*zipped), nullptr, false);
  ASSERT_FALSE(payload.is_discarded());
  EXPECT_EQ(payload["messageType"], "DATA_MESSAGE");
  EXPECT_EQ(payload["owner"], "111122223333");
  EXPECT_EQ(payload["logGroup"], "/aws/lambda/orders");
  EXPECT_EQ(payload["logStream"], "2024/06/01/[$LATEST]abc");
  EXPECT_TRUE(payload["subscriptionFilters"].is_array());
  ASSERT_EQ(payload["logEvents"].size(), 3u);
  EXPECT_EQ(payload["logEvents"][0]["message"], "first line");
  EXPECT_EQ(payload["logEvents"][1]["message"], "second line");
  EXPECT_EQ(payload["logEvents"][2]["message"], "third");
  EXPECT_TRUE(payload["logEvents"][0]["id"].is_string());
  EXPECT_TRUE(payload["logEvents"][0]["timestamp"].is_number_integer());
}

TEST(GenerateEventTest, AlbRequestCarriesTargetGroupAndRequest) {
  EventOptions o;
  o.method = "DELETE";
  o.path = "/users/3";
  o.body = "bye";
  o.query = {"force=true"};
  o.header = {"X-Api-Key=k"};
  o.target_group_arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/users/0123456789abcdef";
  auto e = generate("alb", "request", o);
  EXPECT_EQ(e["requestContext"]["elb"]["targetGroupArn"], *o.target_group_arn);
  EXPECT_EQ(e["httpMethod"], "DELETE");
  EXPECT_EQ(e["path"], "/users/3");
  EXPECT_EQ(e["queryStringParameters"], Json({{"force", "true"}}));
  EXPECT_EQ(e["headers"]["x-api-key"], "k");
  EXPECT_TRUE(e["headers"].contains("x-forwarded-for"));
  EXPECT_EQ(e["body"], "bye");
  EXPECT_EQ(e["isBase64Encoded"], false);
  o.target_group_arn = "users";
  EXPECT_NE(error_of("alb", "request", o).find("--target-group-arn"), std::string::npos);
}

TEST(GenerateEventTest, FixedOutputIsByteIdenticalAndOtherwiseIdsDiffer) {
  for (const auto& [service, event] : kAllEvents) {
    EventOptions fixed;
    fixed.fixed = true;
    EXPECT_EQ(generate(service, event, fixed).dump(2), generate(service, event, fixed).dump(2))
        << service << " " << event;
  }
  EventOptions o;
  EXPECT_NE(generate("sqs", "receive-message", o)["Records"][0]["messageId"],
            generate("sqs", "receive-message", o)["Records"][0]["messageId"]);
  EXPECT_NE(generate("eventbridge", "event", o)["id"], generate("eventbridge", "event", o)["id"]);
}

TEST(GenerateEventTest, UnknownServiceOrEventListsWhatIsValid) {
  auto message = error_of("s4", "put");
  for (const auto& [service, event] : kAllEvents) {
    EXPECT_NE(message.find(service), std::string::npos) << service;
    EXPECT_NE(message.find(event), std::string::npos) << event;
  }
  message = error_of("apigateway", "rest");
  EXPECT_NE(message.find("aws-proxy, http-api-proxy"), std::string::npos) << message;
}

}  // namespace
}  // namespace lambdad::events
