#include "console/console_channel.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "backout/alerting/chat_message.h"

namespace backout::alerting {
namespace {

constexpr const char* kStdout = "-";

class ConsoleChannel final : public Channel {
 public:
  ConsoleChannel(std::string name, std::string path)
      : name_(std::move(name)), path_(std::move(path)) {}

  std::string name() const override { return name_; }
  bool wants(const rules::Page& page) const override {
    (void)page;
    return true;  // every page, minor breaches and acts included: a person reads them all
  }
  std::string render(const MessageContext& ctx) const override { return console_text(ctx); }

  void deliver(const std::string& payload, const std::string& key,
               std::function<void(DeliveryResult)> done) override {
    (void)key;
    done(write_all(payload));
  }

 private:
  // One write(2) per message on an O_APPEND descriptor, so that messages from two agents (or
  // a tail -f) never interleave; opened per message so that a rotated file is followed.
  DeliveryResult write_all(const std::string& text) const {
    const bool to_stdout = path_ == kStdout;
    const int fd = to_stdout
                       ? STDOUT_FILENO
                       : ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
      return {Delivery::kRetry, "open " + path_ + ": " + std::strerror(errno), std::nullopt};
    }
    std::size_t written = 0;
    std::string error;
    while (written < text.size()) {
      const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        error = std::strerror(errno);
        break;
      }
      written += static_cast<std::size_t>(n);
    }
    if (!to_stdout) {
      ::close(fd);
    }
    if (!error.empty()) {
      return {Delivery::kRetry, "write " + path_ + ": " + error, std::nullopt};
    }
    return {Delivery::kDelivered, "written to " + (to_stdout ? std::string("stdout") : path_),
            std::nullopt};
  }

  std::string name_;
  std::string path_;
};

}  // namespace

std::string console_text(const MessageContext& ctx) {
  const ChatMessage m = compose_message(ctx);
  const std::chrono::minutes offset =
      ctx.plan != nullptr ? ctx.plan->window.offset() : std::chrono::minutes{0};
  std::string out = "--- " + format_rfc3339(ctx.page.at, offset) + " " +
                    std::string(rules::to_string(ctx.page.kind)) +
                    (ctx.page.key.empty() ? "" : " (" + ctx.page.key + ")") + " ---\n";
  out += m.plain_text();
  if (!out.ends_with('\n')) {
    out += '\n';
  }
  out += '\n';
  return out;
}

KindSpec console_spec() {
  return {.kind = "console",
          .summary = "plain-text messages appended to a file, or - for standard output",
          .options = {{.name = "path",
                       .type = OptionType::kPath,
                       .default_value = OptionValue{std::string(kStdout)},
                       .help = "the file messages are appended to; - for the agent's standard "
                               "output"}},
          .chat = true};
}

Result<std::unique_ptr<Channel>> make_console_channel(const ChannelSetup& setup) {
  std::string path = setup.spec.options.string("path", kStdout);
  if (path.empty()) {
    return Error{"notify." + setup.spec.name + ".path is empty; give a file or \"-\""};
  }
  return std::unique_ptr<Channel>(
      std::make_unique<ConsoleChannel>(setup.label("console"), std::move(path)));
}

}  // namespace backout::alerting
