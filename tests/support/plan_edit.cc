#include "support/plan_edit.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace backout::testing {

Edit Replace(std::string anchor, std::string text) {
  return {Edit::Kind::kReplace, std::move(anchor), std::move(text)};
}
Edit Delete(std::string anchor) { return {Edit::Kind::kDelete, std::move(anchor), ""}; }
Edit After(std::string anchor, std::string text) {
  return {Edit::Kind::kAfter, std::move(anchor), std::move(text)};
}
Edit Before(std::string anchor, std::string text) {
  return {Edit::Kind::kBefore, std::move(anchor), std::move(text)};
}
Edit Whole(std::string text) { return {Edit::Kind::kWhole, "", std::move(text)}; }

int line_at(const std::string& text, std::size_t offset) {
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + offset, '\n'));
}

Edited apply_edits(const std::string& base, const std::vector<Edit>& edits) {
  Edited out{base, 1};
  bool first = true;
  for (const Edit& e : edits) {
    std::string& t = out.text;
    if (e.kind == Edit::Kind::kWhole) {
      t = e.text;
      first = false;
      continue;
    }
    std::size_t at = t.find(e.anchor);
    if (at == std::string::npos || t.find(e.anchor, at + 1) != std::string::npos) {
      ADD_FAILURE() << "anchor must occur exactly once: " << e.anchor;
      return out;
    }
    std::size_t begin = t.rfind('\n', at);
    begin = begin == std::string::npos ? 0 : begin + 1;
    std::size_t end = t.find('\n', at + e.anchor.size());
    end = end == std::string::npos ? t.size() : end;
    std::size_t where = e.kind == Edit::Kind::kAfter ? std::min(end + 1, t.size()) : begin;
    switch (e.kind) {
      case Edit::Kind::kReplace:
        t.replace(begin, end - begin, e.text);
        break;
      case Edit::Kind::kDelete:
        t.erase(begin, std::min(end + 1, t.size()) - begin);
        break;
      case Edit::Kind::kAfter:
      case Edit::Kind::kBefore:
        t.insert(where, e.text + "\n");
        break;
      case Edit::Kind::kWhole:
        break;
    }
    if (first) {
      out.line = line_at(t, where);
      first = false;
    }
  }
  return out;
}

std::string expand(const std::string& pattern, const Edited& edited) {
  std::size_t open = pattern.find(':') + 1;
  if (open == 0 || open >= pattern.size() || pattern[open] != '{') {
    return pattern;
  }
  std::size_t close = pattern.find("}:", open);
  if (close == std::string::npos) {
    ADD_FAILURE() << "unterminated placeholder in " << pattern;
    return pattern;
  }
  const std::string key = pattern.substr(open + 1, close - open - 1);
  int line = 0;
  if (key == "L") {
    line = edited.line;
  } else if (key.starts_with("L+")) {
    line = edited.line + std::stoi(key.substr(2));
  } else if (key.starts_with("@")) {
    const std::string anchor = key.substr(1);
    std::size_t at = edited.text.find(anchor);
    EXPECT_NE(at, std::string::npos) << "no line holds " << anchor;
    EXPECT_EQ(edited.text.find(anchor, at + 1), std::string::npos) << "ambiguous: " << anchor;
    line = at == std::string::npos ? 0 : line_at(edited.text, at);
  } else {
    ADD_FAILURE() << "bad placeholder " << key;
  }
  return pattern.substr(0, open) + std::to_string(line) + pattern.substr(close + 1);
}

std::vector<std::string> expand_all(const std::vector<std::string>& patterns,
                                    const Edited& edited) {
  std::vector<std::string> out;
  for (const std::string& p : patterns) {
    out.push_back(expand(p, edited));
  }
  return out;
}

}  // namespace backout::testing
