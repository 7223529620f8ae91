#include "support/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "support/spawn.h"

namespace backout::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string errno_text(int e) { return std::strerror(e); }

// The newest /usr/lib/postgresql/<version>/bin holding initdb and postgres (Debian layout).
std::optional<std::string> find_bin_dir() {
  if (const char* env = std::getenv("BACKOUT_PG_BINDIR"); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  std::error_code ec;
  int best = -1;
  std::string best_dir;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) {
      continue;
    }
    const fs::path bin = entry.path() / "bin";
    if (!fs::exists(bin / "initdb", ec) || !fs::exists(bin / "postgres", ec)) {
      continue;
    }
    const int version = std::atoi(name.c_str());
    if (version > best) {
      best = version;
      best_dir = bin.string();
    }
  }
  if (best < 0) {
    return std::nullopt;
  }
  return best_dir;
}

// A port the kernel just handed out on 127.0.0.1; free again once the probe socket is closed.
Result<int> free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return Error{"socket: " + errno_text(errno)};
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  // sockaddr_in -> sockaddr is how the socket API is meant to be called.
  auto* sa = reinterpret_cast<sockaddr*>(&addr);
  if (::bind(fd, sa, sizeof(addr)) != 0 || ::getsockname(fd, sa, &len) != 0) {
    const int e = errno;
    ::close(fd);
    return Error{"bind 127.0.0.1:0: " + errno_text(e)};
  }
  ::close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

// Waits for `pid` until `deadline`; its wait status, or nullopt if it is still running.
std::optional<int> wait_until(pid_t pid, Clock::time_point deadline) {
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) {
      return status;
    }
    if (Clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(10ms);
  }
}

struct Child {
  pid_t pid = -1;
  std::string error;
};

Child spawn(const std::vector<std::string>& args, const std::vector<std::string>& env, int log_fd,
            bool drop, uid_t uid, gid_t gid) {
  auto pid = spawn_process(args, env, -1, log_fd,
                           drop ? std::optional<SpawnUser>(SpawnUser{uid, gid}) : std::nullopt);
  if (!pid.ok()) {
    return {-1, pid.error()};
  }
  return {*pid, {}};
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) {
    return "exited with status " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status));
  }
  return "ended";
}

}  // namespace

PostgresServer::~PostgresServer() {
  stop();
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

std::string PostgresServer::dsn() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres user=postgres";
}

std::string PostgresServer::log_tail() const {
  std::ifstream in(dir_ + "/postgres.log");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.size() > 2000) {
    text = "..." + text.substr(text.size() - 2000);
  }
  return text.empty() ? "(empty log)" : text;
}

Status PostgresServer::create_cluster() {
  std::optional<std::string> bin = find_bin_dir();
  if (!bin) {
    return Error{
        "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (install the "
        "Debian package postgresql, or set BACKOUT_PG_BINDIR)"};
  }
  bin_dir_ = *bin;

  as_nobody_ = ::geteuid() == 0;
  if (as_nobody_) {
    const passwd* pw = ::getpwnam("nobody");
    if (pw == nullptr) {
      return Error{"running as root but there is no user 'nobody' to run PostgreSQL as"};
    }
    uid_ = pw->pw_uid;
    gid_ = pw->pw_gid;
  }

  // `nobody` must be able to reach the directory: use /tmp when $TMPDIR is not world-searchable.
  std::error_code ec;
  fs::path base = fs::temp_directory_path(ec);
  struct stat st {};
  if (ec || (as_nobody_ && (::stat(base.c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0))) {
    base = "/tmp";
  }
  std::string tmpl = (base / "backout-pg-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Error{"mkdtemp " + tmpl + ": " + errno_text(errno)};
  }
  dir_ = tmpl;
  if (as_nobody_ && ::chown(dir_.c_str(), uid_, gid_) != 0) {
    return Error{"chown " + dir_ + " to nobody: " + errno_text(errno)};
  }

  const int log_fd =
      ::open((dir_ + "/initdb.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return Error{"cannot create initdb.log: " + errno_text(errno)};
  }
  const std::vector<std::string> env = {"LC_ALL=C", "LANG=C", "TZ=UTC", "PATH=/usr/bin:/bin",
                                        "HOME=" + dir_};
  Child child = spawn({bin_dir_ + "/initdb", "-D", dir_ + "/data", "-U", "postgres", "-A", "trust",
                       "-E", "UTF8", "--locale=C", "--no-sync"},
                      env, log_fd, as_nobody_, uid_, gid_);
  ::close(log_fd);
  if (child.pid < 0) {
    return Error{child.error};
  }
  std::optional<int> status = wait_until(child.pid, Clock::now() + 60s);
  if (!status) {
    ::kill(child.pid, SIGKILL);
    wait_until(child.pid, Clock::now() + 5s);
    return Error{"initdb did not finish within 60 s"};
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    std::ifstream in(dir_ + "/initdb.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return Error{"initdb " + describe_status(*status) + ":\n" + ss.str()};
  }
  return {};
}

Status PostgresServer::start_postmaster() {
  const int log_fd =
      ::open((dir_ + "/postgres.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return Error{"cannot create postgres.log: " + errno_text(errno)};
  }
  const std::vector<std::string> env = {"LC_ALL=C", "LANG=C", "TZ=UTC", "PATH=/usr/bin:/bin",
                                        "HOME=" + dir_};
  // Durability is of no use to a throw-away cluster; without it start and stop are quicker.
  Child child =
      spawn({bin_dir_ + "/postgres", "-D", dir_ + "/data", "-k", dir_, "-p", std::to_string(port_),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", "max_connections=40", "-c", "shared_buffers=16MB"},
            env, log_fd, as_nobody_, uid_, gid_);
  ::close(log_fd);
  if (child.pid < 0) {
    return Error{child.error};
  }
  pid_ = child.pid;

  const std::string ping = dsn() + " connect_timeout=2";
  const auto deadline = Clock::now() + 30s;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = 0;
      return Error{"postgres " + describe_status(status) + ":\n" + log_tail()};
    }
    if (PQping(ping.c_str()) == PQPING_OK) {
      return {};
    }
    std::this_thread::sleep_for(20ms);
  }
  stop();
  return Error{"postgres did not accept connections within 30 s:\n" + log_tail()};
}

Status PostgresServer::start() {
  if (running()) {
    return {};
  }
  if (dir_.empty()) {
    if (Status s = create_cluster(); !s) {
      return s;
    }
    // The port may be taken between the probe and postgres binding it: try a few.
    std::string last;
    for (int attempt = 0; attempt < 3; ++attempt) {
      Result<int> port = free_port();
      if (!port) {
        return Error{port.error()};
      }
      port_ = *port;
      Status s = start_postmaster();
      if (s) {
        return s;
      }
      last = s.error();
      if (last.find("could not bind") == std::string::npos &&
          last.find("Address already in use") == std::string::npos) {
        break;
      }
    }
    return Error{last};
  }
  return start_postmaster();
}

void PostgresServer::stop() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGINT);  // fast shutdown: abort sessions, no checkpoint wait for clients
  if (!wait_until(pid_, Clock::now() + 10s)) {
    ::kill(pid_, SIGKILL);
    wait_until(pid_, Clock::now() + 5s);
  }
  pid_ = 0;
}

Status PostgresServer::execute(const std::string& sql) const {
  PGconn* conn = PQconnectdb((dsn() + " connect_timeout=5").c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = PQerrorMessage(conn);
    PQfinish(conn);
    return Error{"connect: " + why};
  }
  PGresult* res = PQexec(conn, sql.c_str());
  const ExecStatusType st = PQresultStatus(res);
  Status out;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    out = Error{PQresultErrorMessage(res)};
  }
  PQclear(res);
  PQfinish(conn);
  return out;
}

}  // namespace backout::testing
