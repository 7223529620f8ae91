#include "channel_setup.h"

namespace backout::alerting {

bool is_http_url(std::string_view url) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.substr(0, scheme.size()) == scheme && url.size() > scheme.size() &&
        url[scheme.size()] != '/') {
      return true;
    }
  }
  return false;
}

Result<std::string> read_secret(const ChannelSetup& setup,
                                const std::optional<SecretRef>& ref, std::string_view what) {
  const std::string where = "notify " + setup.spec.kind + ": ";
  if (!ref) {
    return Error{where + "no " + std::string(what) + " given"};
  }
  if (!setup.resolve) {
    return Error{where + "no way to read secrets was given"};
  }
  Result<std::string> v = setup.resolve(*ref);
  if (!v.ok()) {
    return Error{where + "cannot read the " + std::string(what) + " from " + ref->describe() +
                 ": " + v.error()};
  }
  if (v.value().empty()) {
    return Error{where + "the " + std::string(what) + " in " + ref->describe() + " is empty"};
  }
  return v;
}

Result<std::string> webhook_url(const ChannelSetup& setup) {
  const std::optional<SecretRef> ref = setup.spec.options.secret("url");
  Result<std::string> url = read_secret(setup, ref, "webhook URL");
  if (!url.ok()) {
    return url;
  }
  if (!is_http_url(url.value())) {
    // The value is a secret: say where it came from, not what it is.
    return Error{"notify " + setup.spec.kind + ": the webhook URL in " +
                 ref->describe() + " is not an http:// or https:// URL"};
  }
  return url;
}

SecretSpec webhook_url_secret() {
  return {.base = "url",
          .required = true,
          .help = "the webhook URL, which is a secret: it lets anyone post"};
}

}  // namespace backout::alerting
