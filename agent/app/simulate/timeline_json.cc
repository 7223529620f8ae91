#include "app/simulate/timeline_json.h"

#include "app/record/timeline_event.h"

namespace backout::agent {

std::vector<std::string> timeline_lines(const rules::Plan& plan, const rules::TickResult& tick) {
  std::vector<std::string> out;
  for (const record::TimelineEvent& e : record::tick_events(plan, tick)) {
    out.push_back(record::encode(e, record::Encoding::kSimulate));
  }
  return out;
}

}  // namespace backout::agent
