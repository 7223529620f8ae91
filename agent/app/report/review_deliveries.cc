// Which page reached whom: each delivery event and outbox message matched to the page it
// carried, and what each channel made of it.
//
// A notify event carries its page's outbox key, and so does every delivery of that page: they
// match by key. Records written before notify events carried keys (and the tests' scripted
// nights) match by content instead: a key "breach:a#1,b#1" names its page's kind and triggers,
// and is given to the earliest page of that kind about those triggers that no other key claimed
// (a channel receives its messages in order, so an older page is never delivered after a newer
// one). Pages of one tick that look alike (two escalations to the same role) were merged into
// one record then: a key about part of its triggers matches it.
#include <algorithm>
#include <map>
#include <set>

#include "app/report/review_parts.h"

namespace backout::agent::report {
namespace {

// An outbox key of a page: "breach:a#1,b#1", "repeat:a#1:3", "final" -> kind and trigger ids.
struct PageKey {
  std::string kind;
  std::vector<std::string> triggers;  // sorted
};

PageKey parse_page_key(const std::string& key) {
  PageKey k;
  std::size_t colon = key.find(':');
  k.kind = key.substr(0, colon);
  if (colon == std::string::npos) {
    return k;
  }
  std::string eps = key.substr(colon + 1);
  eps = eps.substr(0, eps.find(':'));
  std::size_t start = 0;
  while (start <= eps.size() && !eps.empty()) {
    std::size_t comma = eps.find(',', start);
    std::string ep =
        eps.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    ep = ep.substr(0, ep.find('#'));
    if (!ep.empty()) {
      k.triggers.push_back(ep);
    }
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  std::sort(k.triggers.begin(), k.triggers.end());
  return k;
}

class PageMatcher {
 public:
  explicit PageMatcher(std::vector<PageRecord>& pages) : pages_(pages) {
    for (std::size_t i = 0; i < pages_.size(); ++i) {
      if (!pages_[i].key.empty()) {
        key_page_.emplace(pages_[i].key, i);  // the first page with it
        keyed_.insert(i);
      }
    }
  }

  /// The page `key` belongs to, among the first `known` pages, sent by `at`.
  std::optional<std::size_t> match(const std::string& key, TimePoint at, std::size_t known) {
    if (auto it = key_page_.find(key); it != key_page_.end()) {
      if (it->second < known) {
        return it->second;
      }
      return std::nullopt;
    }
    PageKey k = parse_page_key(key);
    if (!is_page_kind(k.kind)) {
      return std::nullopt;
    }
    auto eligible = [&](std::size_t i) {
      return i < known && keyed_.count(i) == 0 && pages_[i].kind == k.kind && pages_[i].at <= at;
    };
    for (std::size_t i = 0; i < known; ++i) {
      std::vector<std::string> ids = pages_[i].triggers;
      std::sort(ids.begin(), ids.end());
      if (eligible(i) && pages_[i].key.empty() && covered_.count(i) == 0 && ids == k.triggers) {
        return claim(i, key, k);
      }
    }
    for (std::size_t i = 0; i < known && !k.triggers.empty(); ++i) {
      if (eligible(i) && covers(i, k)) {
        return claim(i, key, k);
      }
    }
    return std::nullopt;
  }

 private:
  // Whether page `i` is about every trigger of `k` and no other key claimed one of them.
  bool covers(std::size_t i, const PageKey& k) const {
    const std::vector<std::string>& ids = pages_[i].triggers;
    auto cov = covered_.find(i);
    return std::all_of(k.triggers.begin(), k.triggers.end(), [&](const std::string& id) {
      return std::find(ids.begin(), ids.end(), id) != ids.end() &&
             (cov == covered_.end() || cov->second.count(id) == 0);
    });
  }

  std::size_t claim(std::size_t page, const std::string& key, const PageKey& k) {
    key_page_[key] = page;
    covered_[page].insert(k.triggers.begin(), k.triggers.end());
    if (pages_[page].key.empty()) {
      pages_[page].key = key;
    }
    return page;
  }

  std::vector<PageRecord>& pages_;
  std::map<std::string, std::size_t> key_page_;           // outbox key -> page
  std::set<std::size_t> keyed_;                           // pages whose notify gave their key
  std::map<std::size_t, std::set<std::string>> covered_;  // page -> triggers of its matched keys
};

DeliveryRecord& on_channel(PageRecord& p, const std::string& channel) {
  for (DeliveryRecord& d : p.deliveries) {
    if (d.channel == channel) {
      return d;
    }
  }
  p.deliveries.push_back({channel, "", std::nullopt, 0, "", ""});
  return p.deliveries.back();
}

// A delivery event: the channel's latest word on the page, until it was delivered.
void apply(const DeliveryFact& df, PageRecord& p) {
  DeliveryRecord& d = on_channel(p, df.channel);
  if (d.outcome == "delivered") {
    return;
  }
  d.outcome = df.outcome == "retry" ? "retrying" : df.outcome;
  d.attempts = df.attempts;
  d.detail = df.detail;
  if (df.outcome == "retry" && d.first_error.empty()) {
    d.first_error = df.detail;
  }
  if (df.outcome != "retry") {
    d.at = df.at;
  }
}

// A page still in the outbox with no delivery or drop recorded: pending when the record ends.
void apply(const alerting::OutboxMessage& m, PageRecord& p) {
  DeliveryRecord& d = on_channel(p, m.channel);
  if (d.outcome == "delivered" || d.outcome == "dropped") {
    return;
  }
  d.outcome = "undelivered";
  d.attempts = std::max(d.attempts, m.attempts);
  if (!m.last_error.empty()) {
    d.detail = m.last_error;
  }
}

}  // namespace

void match_deliveries(const ReviewInput& in, Facts& f) {
  std::vector<PageRecord>& pages = f.review.pages;
  PageMatcher matcher(pages);
  for (DeliveryFact& d : f.deliveries) {
    d.page = matcher.match(d.key, d.at, d.pages_before);
    if (d.page) {
      apply(d, pages[*d.page]);
    }
  }
  for (const alerting::OutboxMessage& m : in.outbox) {
    if (!is_page_kind(parse_page_key(m.key).kind)) {
      continue;
    }
    if (auto page = matcher.match(m.key, m.created_at, pages.size())) {
      apply(m, pages[*page]);
    } else {
      f.orphan_messages.push_back(m);
    }
  }
}

bool is_page_delivery(const DeliveryFact& d) { return is_page_kind(parse_page_key(d.key).kind); }

}  // namespace backout::agent::report
