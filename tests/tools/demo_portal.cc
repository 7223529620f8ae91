// The demo's stand-ins (scripts/try.sh): the Customer Portal on 127.0.0.1:8080 as the reference
// plan expects it, and a chat webhook receiver that prints every message the agent posts.
// `--print-chat 0`: take the chat's posts without printing their JSON (scripts/try.sh shows the
// console channel's plain text instead).
// Control: `demo-portal --login-failures 0.2` etc. at start, or type commands on stdin:
//   login 0.2 | errors 0.3 | home-latency 12000 | api-latency 6000 | home-status 503 | ok
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>

#include "support/apps/portal_app.h"
#include "support/apps/webhook_receiver.h"

int main(int argc, char** argv) {
  using namespace backout::testing;
  std::uint16_t portal_port = 8080;
  std::uint16_t chat_port = 0;
  bool print_chat = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--portal-port") {
      portal_port = static_cast<std::uint16_t>(std::stoi(argv[i + 1]));
    } else if (a == "--chat-port") {
      chat_port = static_cast<std::uint16_t>(std::stoi(argv[i + 1]));
    } else if (a == "--print-chat") {
      print_chat = std::string(argv[i + 1]) != "0";
    }
  }
  PortalApp portal(portal_port);
  WebhookReceiver chat(chat_port);
  chat.on_post([print_chat](const ReceivedPost& p) {
    if (print_chat) {
      std::printf("\n----- chat message -----\n%s\n", p.body.c_str());
      std::fflush(stdout);
    }
  });
  std::printf("portal on %s, chat webhook on %s\n", portal.base_url().c_str(),
              chat.url("/hook").c_str());
  std::printf("commands: login RATE | errors RATE | home-latency MS | api-latency MS | "
              "home-status CODE | ok | quit\n");
  std::fflush(stdout);
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    double v = 0;
    in >> cmd >> v;
    PortalConditions c = portal.conditions();
    if (cmd == "login") {
      c.login_failure_rate = v;
    } else if (cmd == "errors") {
      c.error_rate = v;
    } else if (cmd == "home-latency") {
      c.home_latency = std::chrono::milliseconds{static_cast<long>(v)};
    } else if (cmd == "api-latency") {
      c.api_latency = std::chrono::milliseconds{static_cast<long>(v)};
    } else if (cmd == "home-status") {
      c.home_status = static_cast<int>(v);
    } else if (cmd == "ok") {
      c = PortalConditions{};
    } else if (cmd == "quit") {
      break;
    } else {
      std::printf("unknown command '%s'\n", cmd.c_str());
      continue;
    }
    portal.set(c);
    std::printf("ok\n");
    std::fflush(stdout);
  }
  return 0;
}
