// The timeline table: every row in order, with an act's person, a page's triggers, who it paged
// and what reached them, and a delivery's page.
#include "app/report/review_parts.h"
#include "backout/core/text.h"

namespace backout::agent::report {
namespace {

std::string delivery_text(const PageRecord& p, const Names& names) {
  if (p.deliveries.empty()) {
    return "no delivery recorded";
  }
  std::vector<std::string> parts;
  for (const DeliveryRecord& d : p.deliveries) {
    const std::string tries =
        d.attempts > 0 ? std::to_string(d.attempts) + (d.attempts == 1 ? " attempt" : " attempts")
                       : std::string();
    if (d.outcome == "delivered" && d.at) {
      parts.push_back("delivered " + names.t(*d.at) + " on " + d.channel + " (" + tries + ")");
    } else if (d.outcome == "dropped") {
      parts.push_back("dropped by " + d.channel + " after " + tries +
                      (d.detail.empty() ? "" : ": " + d.detail));
    } else if (d.outcome == "retrying") {
      parts.push_back("retrying on " + d.channel + ", no delivery recorded" +
                      (d.detail.empty() ? "" : " (" + d.detail + ")"));
    } else {
      parts.push_back("not delivered on " + d.channel + (tries.empty() ? "" : " after " + tries) +
                      (d.detail.empty() ? "" : " (last error: " + d.detail + ")"));
    }
  }
  return join(parts, "; ");
}

std::string page_details(const PageRecord& p, const Names& names) {
  std::string out = names.names(p.triggers);
  if (!p.severity.empty()) {
    out += " (" + p.severity + ")";
  }
  out += p.decides.empty() ? "; nobody paged" : "; paged " + p.decides_who;
  std::vector<std::string> fyi;
  for (const std::string& m : p.mention) {
    if (!names.is_handle_of(p.decides, m)) {
      fyi.push_back(m);
    }
  }
  if (!fyi.empty()) {
    out += "; mentioned " + join(fyi, ", ");
  }
  return out + "; " + delivery_text(p, names);
}

std::string delivery_event(const std::string& outcome) {
  return outcome == "delivered" ? "Delivered"
         : outcome == "retry"   ? "Delivery failed, retrying"
         : outcome == "dropped" ? "Delivery dropped"
                                : "Delivery: " + outcome;
}

std::string delivery_details(const DeliveryFact& d, const Review& r, const Names& names) {
  const std::string attempt = ", attempt " + std::to_string(d.attempts);
  const std::string detail = d.detail.empty() ? "" : ": " + d.detail;
  if (!d.page) {
    return d.key + " to " + d.channel + attempt + detail;
  }
  const PageRecord& p = r.pages[*d.page];
  return page_title(p.kind) + " page about " + names.names(p.triggers) + " (" + names.t(p.at) +
         ") to " + d.channel + attempt + ", " + names.span(d.at - p.at) + " after the page" +
         detail;
}

}  // namespace

void write_timeline(Facts& f, const Names& names) {
  Review& r = f.review;
  for (Row& row : f.rows) {
    if (row.act) {
      const Act& a = r.acts[*row.act];
      row.row.event = a.what;
      row.row.details = a.who + (a.details.empty() ? "" : ": " + a.details) +
                        (a.authority.empty() ? "" : " (" + a.authority + ")");
    } else if (row.page) {
      row.row.details = page_details(r.pages[*row.page], names);
    } else if (row.delivery) {
      const DeliveryFact& d = f.deliveries[*row.delivery];
      if (!d.page && !is_page_delivery(d) && d.outcome != "dropped") {
        // Echoes of people's acts and Alertmanager refreshes are not pages: only a lost one is
        // worth a row.
        continue;
      }
      row.row.event = delivery_event(d.outcome);
      row.row.details = delivery_details(d, r, names);
    }
    r.timeline.push_back(std::move(row.row));
  }
}

}  // namespace backout::agent::report
