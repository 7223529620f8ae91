#include "support/apps/alertmanager_server.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/apps/agent_process.h"

namespace backout::testing {
namespace {

namespace fs = std::filesystem;

}  // namespace

AlertmanagerServer::AlertmanagerServer(std::string dir) : dir_(std::move(dir)) {}

AlertmanagerServer::~AlertmanagerServer() { stop(); }

bool AlertmanagerServer::installed() { return ::access(kAlertmanagerBinary, X_OK) == 0; }

Status AlertmanagerServer::start(const std::string& config_yaml) {
  if (!installed()) {
    return Error{std::string(kAlertmanagerBinary) +
                 " is missing: install the Debian package prometheus-alertmanager (apt-get "
                 "install prometheus-alertmanager), whose real server is started here"};
  }
  const std::string config = dir_ + "/alertmanager.yml";
  std::ofstream(config) << config_yaml;
  std::error_code ec;
  fs::create_directories(dir_ + "/data", ec);

  const std::vector<std::string> env = {"PATH=/usr/bin:/bin", "HOME=" + dir_, "TZ=UTC"};
  Result<std::uint16_t> port = process_.start_ready_server(
      "alertmanager",
      [&](std::uint16_t p) {
        return std::vector<std::string>{
            kAlertmanagerBinary,
            "--config.file=" + config,
            "--storage.path=" + dir_ + "/data",
            "--web.listen-address=127.0.0.1:" + std::to_string(p),
            "--cluster.listen-address=",  // no gossip: one isolated instance on loopback only
            "--log.level=info",
        };
      },
      env, dir_ + "/alertmanager.log");
  if (!port) {
    return Error{port.error()};
  }
  port_ = *port;
  return {};
}

void AlertmanagerServer::stop() { process_.stop(); }

std::string AlertmanagerServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string AlertmanagerServer::host_port() const { return "127.0.0.1:" + std::to_string(port_); }

std::string AlertmanagerServer::log() const {
  std::ifstream in(dir_ + "/alertmanager.log");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<double> AlertmanagerServer::metric(const std::string& name) const {
  HttpResult r = http_get(port_, "/metrics");
  if (r.status != 200) {
    return std::nullopt;
  }
  std::istringstream in(r.body);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 &&
        line[name.size()] == ' ') {
      try {
        return std::stod(line.substr(name.size() + 1));
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

}  // namespace backout::testing
