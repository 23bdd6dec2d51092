// async: destinations that are not local functions (SQS, SNS, EventBridge, S3, dead-letter
// queues) as JSON-lines files, one file per destination, so tests and people can read what
// Lambda would have sent.
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <string_view>

#include "lambdad/common/result.hpp"

namespace lambdad::async {

// "<type>-<ARN with every character outside [A-Za-z0-9._-] as _>.jsonl", e.g.
// "sqs-arn_aws_sqs_us-east-1_123456789012_failures.jsonl"; type in lower case.
std::string destination_file_name(std::string_view type, std::string_view arn);

class RecordLog {
 public:
  // `durable`: fsync each append (the event leaves the spool right after).
  RecordLog(std::filesystem::path dir, bool durable);

  // Appends `json` and a newline to dir/file_name.
  Status append(const std::string& file_name, std::string_view json);

  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  bool durable_;
  std::set<std::string> checked_;  // files whose last line was checked for a kill mid-append
};

}  // namespace lambdad::async
