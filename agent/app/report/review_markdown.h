// Renders the post-backout review (report::Review) as Markdown, in the backout plan template's
// terms: plan header, the review's questions, the trigger, decisions made, test results
// (planned vs actual), pages, and the timeline of events. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "app/report/review.h"

namespace backout::agent::report {

std::string render_markdown(const Review& review);

/// Text made safe for a Markdown paragraph or table cell: `|`, `*`, `` ` ``, `<`, `[`, `]` and
/// `\` are backslash-escaped, line breaks become spaces, an empty text becomes "—".
std::string markdown_text(std::string_view text);

}  // namespace backout::agent::report
