#include "http/json_post.h"

#include "backout/alerting/delivery_verdict.h"

namespace backout::alerting::http {

namespace {

void replace_all(std::string& text, const std::string& what, std::string_view with) {
  if (what.empty()) {
    return;
  }
  for (std::size_t pos = text.find(what); pos != std::string::npos;
       pos = text.find(what, pos + with.size())) {
    text.replace(pos, what.size(), with);
  }
}

}  // namespace

std::string scrub(std::string text, const std::string& url) {
  replace_all(text, url, "<url>");
  // The path alone is as secret as the whole URL (Slack: /services/T.../B.../XXXX).
  std::size_t scheme = url.find("://");
  std::size_t path = scheme == std::string::npos ? std::string::npos : url.find('/', scheme + 3);
  if (path != std::string::npos && url.size() - path > 1) {
    replace_all(text, url.substr(path), "<path>");
  }
  return text;
}

void post_json(net::HttpClient& client, const JsonPost& target, std::string body,
               std::function<void(DeliveryResult)> done) {
  net::HttpClientRequest req;
  req.method = "POST";
  req.url = target.url;
  req.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  req.headers.emplace_back("User-Agent", "backout-agent");
  for (const auto& h : target.headers) {
    req.headers.push_back(h);
  }
  req.body = std::move(body);
  req.timeout = target.timeout;
  req.max_body_bytes = 1u << 20;  // endpoints answer in a few bytes; only an excerpt is kept
  req.follow_redirects = false;   // a redirected webhook is a configuration error (kDrop)
  req.redact_path = true;         // webhook paths are secrets (Slack, Teams)
  client.fetch(std::move(req), [url = target.url, done = std::move(done)](
                                   const net::FetchError& error, net::HttpClientResponse response) {
    DeliveryResult r = delivery_verdict(error, response);
    r.detail = scrub(std::move(r.detail), url);
    done(std::move(r));
  });
}

}  // namespace backout::alerting::http
