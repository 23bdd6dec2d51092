// The local X-Ray daemon: what a datagram must be, what the recorder keeps and attributes, and
// a real UDP round trip through the listener.
#include "lambdad/observability/xray.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <string>

namespace lambdad::observability {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kHeader = "{\"format\": \"json\", \"version\": 1}\n";
constexpr const char* kTrace = "1-5759e988-bd862e3fe1be46a994272793";

// What aws-xray-sdk-core streams in Lambda: an independent subsegment under the facade segment.
std::string handler_subsegment(const std::string& trace_id = kTrace) {
  return std::string(kHeader) + json{{"id", "7e3d0c1a9b2f4e11"},
                                     {"name", "## index.handler"},
                                     {"start_time", 1700000000.5},
                                     {"end_time", 1700000000.7},
                                     {"type", "subsegment"},
                                     {"parent_id", "53995c3f42cd8ad8"},
                                     {"trace_id", trace_id},
                                     {"subsegments", json::array({{{"id", "a"}, {"name", "inner"},
                                                                   {"subsegments", json::array({{{"id", "b"},
                                                                                                 {"name", "deeper"}}})}},
                                                                  {{"id", "c"}, {"name", "other"}}})}}
                                         .dump();
}

TEST(XRayDatagram, ASubsegmentDocumentIsParsed) {
  auto doc = parse_xray_datagram(handler_subsegment());
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(doc->name, "## index.handler");
  EXPECT_EQ(doc->trace_id, kTrace);
  EXPECT_TRUE(doc->subsegment);
  EXPECT_EQ(doc->subsegments, 3u);
  EXPECT_EQ(doc->document["parent_id"], "53995c3f42cd8ad8");
}

TEST(XRayDatagram, ASegmentDocumentIsParsed) {
  auto doc = parse_xray_datagram(std::string(kHeader) +
                                 R"({"name":"svc","id":"70de5b6f19ff9a0a","trace_id":"1-1-2","start_time":1})");
  ASSERT_TRUE(doc.has_value());
  EXPECT_FALSE(doc->subsegment);
  EXPECT_EQ(doc->subsegments, 0u);
}

TEST(XRayDatagram, AnythingElseIsMalformed) {
  const std::string body = R"({"name":"svc","id":"70de5b6f19ff9a0a","trace_id":"1-1-2"})";
  for (const std::string& bad : {
           std::string(),
           body,                                                           // no header line
           std::string("{\"format\": \"json\", \"version\": 2}\n") + body,  // another version
           std::string("{\"format\": \"xml\", \"version\": 1}\n") + body,
           std::string("not json\n") + body,
           std::string(kHeader),                                           // no document
           std::string(kHeader) + "{\"name\":\"svc\"",                     // truncated
           std::string(kHeader) + "[1,2]",
           std::string(kHeader) + R"({"id":"1","trace_id":"1-1-2"})",     // no name
           std::string(kHeader) + R"({"name":"svc","trace_id":"1-1-2"})",  // no id
           std::string(kHeader) + R"({"name":"svc","id":"1"})",            // no trace id
           std::string(kHeader) + R"({"name":"svc","id":"1","trace_id":7})",
       }) {
    EXPECT_FALSE(parse_xray_datagram(bad).has_value()) << bad;
  }
}

TEST(XRayRecorder, KeepsTheLastDocumentsAttributedToTheirFunctionAndCountsMalformedOnes) {
  XRayRecorder recorder(2);
  recorder.note_trace(std::string("Root=") + kTrace + ";Parent=53995c3f42cd8ad8;Sampled=1", "orders");
  recorder.note_trace("Root=1-5759e988-000000000000000000000000;Parent=53995c3f42cd8ad8;Sampled=0", "unsampled");
  recorder.receive(handler_subsegment());
  recorder.receive("garbage");
  recorder.receive(handler_subsegment("1-5759e988-000000000000000000000000"));
  recorder.receive(handler_subsegment("1-00000000-ffffffffffffffffffffffff"));
  EXPECT_EQ(recorder.received(), 3u);
  EXPECT_EQ(recorder.malformed(), 1u);

  json all = recorder.to_json();
  EXPECT_EQ(all["received"], 3);
  EXPECT_EQ(all["malformed"], 1);
  EXPECT_EQ(all["kept"], 2);
  ASSERT_EQ(all["segments"].size(), 2u);  // the oldest went
  EXPECT_EQ(all["segments"][0]["traceId"], "1-5759e988-000000000000000000000000");
  EXPECT_TRUE(all["segments"][0]["function"].is_null()) << "an unsampled trace is nobody's";
  EXPECT_EQ(all["segments"][1]["traceId"], "1-00000000-ffffffffffffffffffffffff");

  XRayRecorder attributed;
  attributed.note_trace(std::string("Root=") + kTrace + ";Parent=53995c3f42cd8ad8;Sampled=1", "orders");
  attributed.receive(handler_subsegment());
  json one = attributed.to_json(kTrace);
  ASSERT_EQ(one["segments"].size(), 1u);
  EXPECT_EQ(one["segments"][0]["function"], "orders");
  EXPECT_EQ(one["segments"][0]["name"], "## index.handler");
  EXPECT_EQ(one["segments"][0]["type"], "subsegment");
  EXPECT_EQ(one["segments"][0]["document"]["subsegments"][0]["name"], "inner");
  EXPECT_TRUE(attributed.to_json("1-00000000-ffffffffffffffffffffffff")["segments"].empty());
}

TEST(XRayRecorder, RemembersOnlyTheLastTraces) {
  XRayRecorder recorder(1);
  recorder.note_trace(std::string("Root=") + kTrace + ";Sampled=1", "first");
  recorder.note_trace("Root=1-00000000-ffffffffffffffffffffffff;Sampled=1", "second");
  recorder.receive(handler_subsegment());
  EXPECT_TRUE(recorder.to_json()["segments"][0]["function"].is_null());
}

TEST(XRayListener, ReceivesDatagramsOnALoopbackPort) {
  boost::asio::io_context io;
  auto listener = XRayListener::open(io.get_executor());
  ASSERT_TRUE(listener.ok()) << listener.error().message;
  ASSERT_NE((*listener)->port(), 0);

  boost::asio::ip::udp::socket sender(io, boost::asio::ip::udp::v4());
  const boost::asio::ip::udp::endpoint to(boost::asio::ip::make_address_v4("127.0.0.1"), (*listener)->port());
  sender.send_to(boost::asio::buffer(std::string("{}\nnope")), to);
  const std::string datagram = handler_subsegment();
  sender.send_to(boost::asio::buffer(datagram), to);
  for (int i = 0; i < 100 && (*listener)->recorder().received() + (*listener)->recorder().malformed() < 2; ++i) {
    io.run_for(10ms);
  }
  EXPECT_EQ((*listener)->recorder().received(), 1u);
  EXPECT_EQ((*listener)->recorder().malformed(), 1u);
  listener = Error{};  // closes the socket; the pending receive ends
  io.restart();
  io.run_for(10ms);
}

}  // namespace
}  // namespace lambdad::observability
