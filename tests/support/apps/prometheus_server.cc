#include "support/apps/prometheus_server.h"

#include <unistd.h>

#include <boost/json.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "support/apps/agent_process.h"

namespace backout::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string quoted_list(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& t : items) {
    out += (out.empty() ? "" : ", ") + std::string("'") + t + "'";
  }
  return out;
}

std::string config_text(const PrometheusScrapeJob& job, const PrometheusAlerting& alerting,
                        const std::string& rules_file) {
  const std::string targets = quoted_list(job.targets);
  std::string out = "global:\n";
  out += "  scrape_interval: " + job.scrape_interval + "\n";
  out += "  scrape_timeout: " + job.scrape_timeout + "\n";
  out +=
      "  evaluation_interval: " +
      (alerting.evaluation_interval.empty() ? job.scrape_interval : alerting.evaluation_interval) +
      "\n";
  if (!alerting.rules_yaml.empty()) {
    out += "rule_files: ['" + rules_file + "']\n";
  }
  if (!alerting.alertmanagers.empty()) {
    out += "alerting:\n";
    out += "  alertmanagers:\n";
    out += "    - static_configs:\n";
    out += "        - targets: [" + quoted_list(alerting.alertmanagers) + "]\n";
  }
  out += "scrape_configs:\n";
  out += "  - job_name: '" + job.job_name + "'\n";
  out += "    metrics_path: '" + job.metrics_path + "'\n";
  out += "    static_configs:\n";
  out += "      - targets: [" + targets + "]\n";
  return out;
}

}  // namespace

std::string url_encode(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

PrometheusServer::PrometheusServer(std::string dir) : dir_(std::move(dir)) {}

PrometheusServer::~PrometheusServer() { stop(); }

Status PrometheusServer::start(const PrometheusScrapeJob& job) {
  return start(job, PrometheusAlerting{});
}

Status PrometheusServer::start(const PrometheusScrapeJob& job, const PrometheusAlerting& alerting) {
  if (::access(kPrometheusBinary, X_OK) != 0) {
    return Error{std::string(kPrometheusBinary) +
                 " is missing: run scripts/setup-debian.sh (it installs the Debian package "
                 "prometheus, whose real server these tests start)"};
  }
  const std::string config = dir_ + "/prometheus.yml";
  const std::string rules = dir_ + "/rules.yml";
  config_ = config_text(job, alerting, rules);
  std::ofstream(config) << config_;
  if (!alerting.rules_yaml.empty()) {
    std::ofstream(rules) << alerting.rules_yaml;
  }
  std::error_code ec;
  fs::create_directories(dir_ + "/data", ec);

  const std::vector<std::string> env = {"PATH=/usr/bin:/bin", "HOME=" + dir_, "TZ=UTC"};
  Result<std::uint16_t> port = process_.start_ready_server(
      "prometheus",
      [&](std::uint16_t p) {
        std::vector<std::string> args = {
            kPrometheusBinary,
            "--config.file=" + config,
            "--storage.tsdb.path=" + dir_ + "/data",
            "--web.listen-address=127.0.0.1:" + std::to_string(p),
            "--log.level=info",
        };
        if (!alerting.rules_yaml.empty()) {
          args.push_back("--web.enable-lifecycle");  // POST /-/reload, for reload_rules()
        }
        return args;
      },
      env, dir_ + "/prometheus.log");
  if (!port) {
    return Error{port.error()};
  }
  port_ = *port;
  return {};
}

void PrometheusServer::stop() { process_.stop(); }

Status PrometheusServer::reload_rules(const std::string& rules_yaml) {
  const std::string rules = dir_ + "/rules.yml";
  {
    std::ofstream out(rules, std::ios::trunc);
    out << rules_yaml;
    if (!out) {
      return Error{"cannot write " + rules};
    }
  }
  HttpResult r = http_post(port_, "/-/reload", "");
  if (r.status != 200) {
    return Error{"prometheus refused to reload " + rules + " (HTTP " + std::to_string(r.status) +
                 (r.status == 0 ? ", not reachable" : "") + "): " + r.body + "\n" + log_tail()};
  }
  return {};
}

std::optional<json::value> PrometheusServer::get_json(const std::string& target) const {
  HttpResult r = http_get(port_, target);
  if (r.status != 200) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec) {
    return std::nullopt;
  }
  return v;
}

std::optional<json::array> PrometheusServer::query(const std::string& promql) const {
  auto v = get_json("/api/v1/query?query=" + url_encode(promql));
  if (!v || !v->is_object()) {
    return std::nullopt;
  }
  const json::value* result = v->as_object().if_contains("data");
  if (result == nullptr || !result->is_object()) {
    return std::nullopt;
  }
  result = result->as_object().if_contains("result");
  if (result == nullptr || !result->is_array()) {
    return std::nullopt;
  }
  return result->as_array();
}

std::optional<json::array> PrometheusServer::active_targets() const {
  auto v = get_json("/api/v1/targets?state=active");
  if (!v || !v->is_object()) {
    return std::nullopt;
  }
  const json::value* data = v->as_object().if_contains("data");
  if (data == nullptr || !data->is_object()) {
    return std::nullopt;
  }
  const json::value* targets = data->as_object().if_contains("activeTargets");
  if (targets == nullptr || !targets->is_array()) {
    return std::nullopt;
  }
  return targets->as_array();
}

}  // namespace backout::testing
