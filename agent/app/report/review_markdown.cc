#include "app/report/review_markdown.h"

#include <chrono>
#include <cstdio>
#include <sstream>

#include "backout/core/text.h"

namespace backout::agent::report {
namespace {

const char* const kNone = "—";

std::string cell(std::string_view text) { return markdown_text(text); }

void table(std::ostringstream& out, const std::vector<std::string>& head,
           const std::vector<std::vector<std::string>>& rows) {
  out << "|";
  for (const std::string& h : head) {
    out << " " << h << " |";
  }
  out << "\n|";
  for (std::size_t i = 0; i < head.size(); ++i) {
    out << " --- |";
  }
  out << "\n";
  for (const auto& row : rows) {
    out << "|";
    for (const std::string& c : row) {
      out << " " << cell(c) << " |";
    }
    out << "\n";
  }
  out << "\n";
}

std::string date_of(TimePoint t, std::chrono::minutes offset) {
  const std::chrono::year_month_day ymd{std::chrono::floor<std::chrono::days>(t + offset)};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

std::string opt_clock(const std::optional<TimePoint>& t, std::chrono::minutes offset) {
  return t ? format_clock(*t, offset) : std::string();
}

void header(std::ostringstream& out, const Review& r) {
  const ReviewHeader& h = r.header;
  const auto off = h.offset;
  std::string window;
  if (h.window_start || h.window_end) {
    window = (h.window_start ? format_clock(*h.window_start, off) : std::string("?")) + " to " +
             (h.window_end ? format_clock(*h.window_end, off) : std::string("?")) + " (" +
             format_offset(off) + ")";
    if (h.window_start && h.window_end &&
        date_of(*h.window_start, off) != date_of(*h.window_end, off)) {
      window += ", ending " + date_of(*h.window_end, off);
    }
    if (h.extended_end) {
      window += "; extended to " + format_clock(*h.extended_end, off);
    }
    if (h.rehearsal) {
      window += "; a rehearsal (--start-now shifted the plan's window)";
    }
  }
  std::string pnr = opt_clock(h.point_of_no_return, off);
  if (h.extended_end && h.backout_duration) {
    pnr += (pnr.empty() ? "" : "; ") + std::string("after the extension ") +
           format_clock(*h.extended_end - *h.backout_duration, off);
  }
  out << "## Plan Header\n\n";
  table(out, {"Field", "Content"},
        {{"Project", h.project},
         {"Release", h.release},
         {"Deployment Date", h.window_start ? date_of(*h.window_start, off) : std::string()},
         {"Plan Owner", h.owner},
         {"Version", h.revision},
         {"Status", h.status},
         {"Deployment window", window},
         {"Point of no return", pnr},
         {"Backout duration (rehearsed)",
          h.backout_duration ? format_duration(*h.backout_duration) : std::string()}});
  out << "The header comes from " << markdown_text(h.from) << ".\n";
  for (const std::string& n : h.notes) {
    out << "\n*Note:* " << markdown_text(n) << "\n";
  }
  out << "\n";
}

void questions(std::ostringstream& out, const Review& r) {
  // One heading per question rather than the template's two-column table: the answers hold
  // lists, and the team writes into them.
  out << "## Post-Backout Review\n\n";
  for (const Answer& a : r.answers) {
    out << "### " << a.question << "\n\n";
    if (a.facts.size() == 1) {
      out << markdown_text(a.facts.front()) << "\n\n";
    } else if (!a.facts.empty()) {
      for (const std::string& f : a.facts) {
        out << "- " << markdown_text(f) << "\n";
      }
      out << "\n";
    }
    if (a.needs_team) {
      out << kToBeCompleted << "\n\n";
    }
  }
}

void trigger(std::ostringstream& out, const Review& r) {
  out << "## What Triggered the Backout\n\n";
  if (!r.cause) {
    out << (r.backout_decided_at || r.backout_recommended_at
                ? "No breach was open or recorded before the backout.\n\n"
                : "Nothing: there was no backout.\n\n");
    return;
  }
  const Cause& c = *r.cause;
  const EpisodeRecord& ep = r.episodes[c.episode];
  const auto off = r.header.offset;
  const auto base = r.header.window_start ? r.header.window_start : r.first_at;
  std::vector<std::vector<std::string>> rows;
  if (ep.manual) {
    rows.push_back({"Raised", ep.trigger + " by " + ep.raised_by});
    rows.push_back({"Reason", ep.reason});
  } else {
    rows.push_back({"Trigger", ep.name == ep.trigger ? ep.trigger
                                                     : ep.name + " (" + ep.trigger + ")"});
  }
  rows.push_back({"Severity", ep.severity});
  rows.push_back({"Breached at", review_time(ep.breached_at, off, base)});
  if (!ep.manual) {
    rows.push_back({"Value at the breach", ep.value});
    rows.push_back({"Detected by", ep.path});
  }
  rows.push_back({"Resolved", ep.resolved_at ? review_time(*ep.resolved_at, off, base) +
                                                   " (after " +
                                                   format_span(*ep.resolved_at - ep.breached_at) +
                                                   ")"
                                             : "still open at the end of the record"});
  if (!c.evidence.empty()) {
    rows.push_back({"Evidence (" + c.recommendation + " recommended " +
                        review_time(*c.evidence_at, off, base) + ")",
                    c.evidence});
  }
  if (!c.authority.empty()) {
    rows.push_back({"Decision matrix", c.authority});
  }
  table(out, {"Field", "Content"}, rows);
}

void decisions(std::ostringstream& out, const Review& r) {
  out << "## Decisions Made\n\n";
  if (r.acts.empty()) {
    out << "Nobody acknowledged, declared, decided or raised anything through the agent.\n\n";
    return;
  }
  const auto base = r.header.window_start ? r.header.window_start : r.first_at;
  std::vector<std::vector<std::string>> rows;
  for (const Act& a : r.acts) {
    std::string details = a.details;
    if (!a.authority.empty()) {
      details += (details.empty() ? "" : "; ") + a.authority;
    }
    rows.push_back({review_time(a.at, r.header.offset, base), a.what, a.who, details});
  }
  table(out, {"Time", "Act", "By", "Details"}, rows);
}

void durations(std::ostringstream& out, const Review& r) {
  out << "## Test Results: Planned vs Actual\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const DurationRow& d : r.durations) {
    rows.push_back({d.test, d.expected, d.actual, d.issues});
  }
  table(out, {"Test", "Expected Duration", "Actual Duration", "Issues"}, rows);
}

void pages(std::ostringstream& out, const Review& r) {
  out << "## Pages\n\n";
  if (r.pages.empty()) {
    out << "No page was sent.\n\n";
    return;
  }
  const auto off = r.header.offset;
  const auto base = r.header.window_start ? r.header.window_start : r.first_at;
  std::vector<std::vector<std::string>> rows;
  for (const PageRecord& p : r.pages) {
    std::vector<std::string> about;
    for (const std::string& id : p.triggers) {
      about.push_back(id);
    }
    std::vector<std::string> delivery;
    for (const DeliveryRecord& d : p.deliveries) {
      std::string s = d.channel + ": " + d.outcome;
      if (d.at) {
        s += " " + review_time(*d.at, off, base);
      }
      if (d.attempts > 0) {
        s += " (" + std::to_string(d.attempts) + (d.attempts == 1 ? " attempt" : " attempts") +
             ")";
      }
      delivery.push_back(s);
    }
    rows.push_back({review_time(p.at, off, base), p.kind,
                    about.empty() ? std::string("the night")
                                  : join(about, ", ") +
                                        (p.severity.empty() ? "" : " (" + p.severity + ")"),
                    p.decides.empty() ? std::string("nobody (posted)") : p.decides_who,
                    join(p.mention, ", "),
                    delivery.empty() ? std::string("no delivery recorded") : join(delivery, "; ")});
  }
  table(out, {"Time", "Page", "About", "Paged to decide", "Mentioned", "Delivery"}, rows);
}

void timeline(std::ostringstream& out, const Review& r) {
  out << "## Timeline of Events\n\n";
  if (r.timeline.empty()) {
    out << "The timeline is empty.\n\n";
    return;
  }
  const auto base = r.header.window_start ? r.header.window_start : r.first_at;
  std::vector<std::vector<std::string>> rows;
  for (const TimelineRow& row : r.timeline) {
    rows.push_back({review_time(row.at, r.header.offset, base), row.event, row.details});
  }
  table(out, {"Time (" + format_offset(r.header.offset) + ")", "Event", "Details"}, rows);
}

}  // namespace

std::string markdown_text(std::string_view text) {
  if (text.empty()) {
    return kNone;
  }
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '\\':
      case '|':
      case '*':
      case '`':
      case '<':
      case '[':
      case ']':
        out += '\\';
        out += c;
        break;
      case '\r':
        break;
      case '\n':
        out += ' ';
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_markdown(const Review& r) {
  std::ostringstream out;
  const ReviewHeader& h = r.header;
  std::string title = h.project;
  if (!h.release.empty()) {
    title += (title.empty() ? "Release " : " ") + h.release;
  }
  out << "# Post-Backout Review" << (title.empty() ? "" : ": " + markdown_text(title)) << "\n\n";
  out << "Written by backout-agent from " << markdown_text(r.written_from);
  if (r.first_at && r.last_at) {
    const auto base = h.window_start ? h.window_start : r.first_at;
    out << " (" << r.events << " events, " << review_time(*r.first_at, h.offset, base) << " to "
        << review_time(*r.last_at, h.offset, base) << ")";
  }
  out << ". Times are in the window's offset, " << format_offset(h.offset) << ".\n\n";
  out << "**Outcome:** " << markdown_text(r.outcome) << "\n\n";
  header(out, r);
  questions(out, r);
  trigger(out, r);
  decisions(out, r);
  durations(out, r);
  pages(out, r);
  timeline(out, r);
  return out.str();
}

}  // namespace backout::agent::report
