#include "support/apps/prometheus_server.h"

#include <unistd.h>

#include <boost/json.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/apps/agent_process.h"
#include "support/test_http_server.h"

namespace backout::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string config_text(const PrometheusScrapeJob& job) {
  std::string targets;
  for (const std::string& t : job.targets) {
    targets += (targets.empty() ? "" : ", ") + std::string("'") + t + "'";
  }
  std::string out = "global:\n";
  out += "  scrape_interval: " + job.scrape_interval + "\n";
  out += "  scrape_timeout: " + job.scrape_timeout + "\n";
  out += "  evaluation_interval: " + job.scrape_interval + "\n";
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
  if (::access(kPrometheusBinary, X_OK) != 0) {
    return Error{std::string(kPrometheusBinary) +
                 " is missing: run scripts/setup-debian.sh (it installs the Debian package "
                 "prometheus, whose real server these tests start)"};
  }
  const std::string config = dir_ + "/prometheus.yml";
  std::ofstream(config) << config_text(job);
  std::error_code ec;
  fs::create_directories(dir_ + "/data", ec);

  // The port may be taken between the probe and Prometheus binding it: try a few.
  std::string last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = unused_loopback_port();
    const std::vector<std::string> args = {
        kPrometheusBinary,
        "--config.file=" + config,
        "--storage.tsdb.path=" + dir_ + "/data",
        "--web.listen-address=127.0.0.1:" + std::to_string(port_),
        "--log.level=info",
    };
    const std::vector<std::string> env = {"PATH=/usr/bin:/bin", "HOME=" + dir_, "TZ=UTC"};
    if (Status s = process_.start(args, env, dir_ + "/prometheus.log"); !s) {
      return s;
    }
    const auto deadline = Clock::now() + 30s;
    while (Clock::now() < deadline) {
      if (auto code = process_.wait_exit(0ms)) {
        last = "prometheus exited with code " + std::to_string(*code) + ":\n" + log_tail();
        break;
      }
      if (http_get(port_, "/-/ready").status == 200) {
        return {};
      }
      std::this_thread::sleep_for(100ms);  // polling readiness
    }
    if (process_.running()) {
      process_.stop();
      return Error{"prometheus was not ready within 30 s:\n" + log_tail()};
    }
    if (last.find("address already in use") == std::string::npos) {
      break;
    }
  }
  return Error{last};
}

void PrometheusServer::stop() { process_.stop(); }

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
