// events (private): the sample events of `lambdad generate-event` as data: one JSON template per event
// (src/events/templates/SERVICE/EVENT.json, embedded in the binary at build time) and the engine that
// fills one in from the options given. The template format: docs/decisions/017-sample-event-templates.md.
#pragma once

#include <nlohmann/json.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lambdad/common/result.hpp"

namespace lambdad::events {

// One embedded template file, as the build's list in src/events/CMakeLists.txt names it; the order
// is that of the usage list. Defined by the source the build generates.
struct SampleEventFile {
  std::string_view service;
  std::string_view event;
  std::string_view json;
};
std::span<const SampleEventFile> sample_event_files();

// A template, parsed.
struct SampleEvent {
  std::string service;
  std::string event;
  std::string summary;
  nlohmann::ordered_json options;  // "--name": its default (null: none), in the usage list's order
  nlohmann::ordered_json let;      // names bound in order, before the event
  nlohmann::ordered_json shape;    // the event itself

  bool takes(std::string_view option) const { return options.contains(option); }
  std::string option_list() const;  // "--bucket --key ..."
};

// Every embedded template, parsed once.
const std::vector<SampleEvent>& sample_events();

// What one rendering starts from: the options given (name with its dashes -> the value from the
// command line: a string, an integer or an array of strings), and the common settings.
struct RenderInput {
  nlohmann::ordered_json given = nlohmann::ordered_json::object();
  std::string account;
  std::string region;
  bool fixed = false;  // a constant seed and clock: the same input renders the same bytes
};

// The event: kInvalidInput names an option value the template rejects; kInternal is a fault in
// the template itself (an unknown name or helper, a wrong argument). Throws nothing.
Result<nlohmann::ordered_json> render_sample_event(const SampleEvent& event, const RenderInput& input);

}  // namespace lambdad::events
