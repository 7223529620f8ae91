#include "app/simulate/replay_csv.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "backout/core/text.h"

namespace backout::agent {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Splits one CSV record (RFC 4180 quoting). Returns false on an unterminated quote.
bool split_csv(std::string_view line, std::vector<std::string>& fields) {
  fields.clear();
  std::string cur;
  bool quoted = false;
  bool was_quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur += c;
      }
    } else if (c == '"' && cur.empty() && !was_quoted) {
      quoted = true;
      was_quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(cur));
      cur.clear();
      was_quoted = false;
    } else {
      cur += c;
    }
  }
  if (quoted) {
    return false;
  }
  fields.push_back(std::move(cur));
  return true;
}

std::string trim(std::string_view s) {
  std::size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) {
    return {};
  }
  std::size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

bool parse_number(const std::string& s, double& out) {
  if (s.empty()) {
    return false;
  }
  std::string l = s;
  std::transform(l.begin(), l.end(), l.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (l == "nan") {
    out = std::nan("");
    return true;
  }
  if (l == "+inf" || l == "inf") {
    out = HUGE_VAL;
    return true;
  }
  if (l == "-inf") {
    out = -HUGE_VAL;
    return true;
  }
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end != nullptr && *end == '\0' && std::isfinite(out);
}

}  // namespace

bool parse_series_name(std::string_view text, Sample& out, std::string* why) {
  auto fail = [&](std::string msg) {
    if (why != nullptr) {
      *why = std::move(msg);
    }
    return false;
  };
  std::size_t pos = 0;
  auto ident = [&](bool metric) {
    std::size_t b = pos;
    while (pos < text.size() && (is_alpha(text[pos]) || (pos > b && is_digit(text[pos])) ||
                                 (metric && text[pos] == ':'))) {
      ++pos;
    }
    return std::string(text.substr(b, pos - b));
  };
  out.source = ident(false);
  if (out.source.empty() || pos >= text.size() || text[pos] != '.') {
    return fail("series '" + std::string(text) +
                "' is not source.metric (e.g. portal.http_requests_total or api.duration)");
  }
  ++pos;
  out.metric = ident(true);
  if (out.metric.empty()) {
    return fail("series '" + std::string(text) + "' has no metric name after the '.'");
  }
  out.labels.clear();
  if (pos < text.size() && text[pos] == '{') {
    ++pos;
    while (pos < text.size() && text[pos] != '}') {
      Label l;
      l.name = ident(false);
      if (l.name.empty() || pos >= text.size() || text[pos] != '=') {
        return fail("series '" + std::string(text) + "': expected label=\"value\" inside {}");
      }
      ++pos;
      if (pos >= text.size() || text[pos] != '"') {
        return fail("series '" + std::string(text) + "': label values are double-quoted "
                    "(in CSV, double the quotes: \"src.m{code=\"\"503\"\"}\")");
      }
      ++pos;
      while (pos < text.size() && text[pos] != '"') {
        if (text[pos] == '\\' && pos + 1 < text.size()) {
          ++pos;
          l.value += text[pos] == 'n' ? '\n' : text[pos];
        } else {
          l.value += text[pos];
        }
        ++pos;
      }
      if (pos >= text.size()) {
        return fail("series '" + std::string(text) + "': unterminated label value");
      }
      ++pos;
      out.labels.push_back(std::move(l));
      if (pos < text.size() && text[pos] == ',') {
        ++pos;
      }
    }
    if (pos >= text.size()) {
      return fail("series '" + std::string(text) + "': missing '}'");
    }
    ++pos;
  }
  if (pos != text.size()) {
    return fail("series '" + std::string(text) + "' has trailing text '" +
                std::string(text.substr(pos)) + "'");
  }
  return true;
}

ReplayParse parse_replay_csv(std::string_view text, const std::string& path,
                             TimePoint window_start) {
  ReplayParse out;
  auto error = [&](int line, const std::string& msg) {
    out.errors.push_back(path + ":" + std::to_string(line) + ": error: " + msg);
  };
  std::size_t start = 0;
  int line_no = 0;
  bool header_seen = false;
  std::vector<std::string> fields;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    ++line_no;
    start = end + 1;
    if (trim(line).empty() || line.front() == '#') {
      if (end == text.size()) {
        break;
      }
      continue;
    }
    if (!split_csv(line, fields)) {
      error(line_no, "unterminated quoted field");
    } else if (!header_seen) {
      header_seen = true;
      std::string h;
      for (const auto& f : fields) {
        h += (h.empty() ? "" : ",") + trim(f);
      }
      if (h != "time,series,value") {
        error(line_no, "the first line must be the header 'time,series,value', not '" +
                           std::string(line) + "'");
        return out;
      }
    } else if (fields.size() != 3) {
      error(line_no, "expected 3 fields (time,series,value), found " +
                         std::to_string(fields.size()) +
                         (fields.size() > 3 ? "; quote a series that contains a comma" : ""));
    } else {
      ReplayRow row;
      row.line = line_no;
      std::string t = trim(fields[0]);
      double secs = 0;
      if (parse_number(t, secs)) {
        row.sample.at = window_start + from_seconds(secs);
      } else if (auto z = parse_rfc3339(t)) {
        row.sample.at = z->at;
      } else {
        error(line_no, "time '" + t + "' is neither seconds from the window start (e.g. -30, 12.5) "
                       "nor an RFC 3339 timestamp");
        if (end == text.size()) {
          break;
        }
        continue;
      }
      std::string why;
      if (trim(fields[1]) == "act") {
        if (trim(fields[2]).empty()) {
          error(line_no, "an act row needs what was done, e.g. \"decide backout by @jane.doe\"");
        } else {
          row.act = trim(fields[2]);
          out.rows.push_back(std::move(row));
        }
      } else if (!parse_series_name(trim(fields[1]), row.sample, &why)) {
        error(line_no, why);
      } else if (double v = 0; !parse_number(trim(fields[2]), v)) {
        error(line_no, "value '" + trim(fields[2]) + "' is not a number");
      } else {
        row.sample.value = v;
        out.rows.push_back(std::move(row));
      }
    }
    if (end == text.size()) {
      break;
    }
  }
  if (!header_seen) {
    error(1, "the replay is empty; it needs the header 'time,series,value' and rows");
  }
  std::stable_sort(out.rows.begin(), out.rows.end(), [](const ReplayRow& a, const ReplayRow& b) {
    return a.sample.at < b.sample.at;
  });
  return out;
}

}  // namespace backout::agent
