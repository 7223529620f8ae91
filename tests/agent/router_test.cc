#include "app/http/router.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "app/http/http_message.h"

namespace backout::agent::http {
namespace {

HttpRequest request(std::string method, const std::string& target) {
  HttpRequest req;
  req.method = std::move(method);
  req.target = target;
  EXPECT_TRUE(parse_request_target(target, req)) << target;
  return req;
}

HttpResponse text(std::string body) {
  HttpResponse res;
  res.body = std::move(body);
  return res;
}

// ---- target parsing and the header map ----

TEST(HttpMessageTest, DecodesPathAndQuery) {
  HttpRequest req;
  ASSERT_TRUE(parse_request_target("/a%20b/c+d?x=1%2B2&y=a+b&flag&x=second&&z=", req));
  EXPECT_EQ(req.path, "/a b/c+d");      // '+' is a space in the query only
  EXPECT_EQ(req.query.at("x"), "1+2");  // the first occurrence wins
  EXPECT_EQ(req.query.at("y"), "a b");
  EXPECT_EQ(req.query.at("flag"), "");
  EXPECT_EQ(req.query.at("z"), "");
  EXPECT_EQ(req.query.size(), 4u);
}

TEST(HttpMessageTest, AcceptsAbsoluteFormAndDropsFragment) {
  HttpRequest req;
  ASSERT_TRUE(parse_request_target("http://localhost:9750/api/v1/status?x=1#frag", req));
  EXPECT_EQ(req.path, "/api/v1/status");
  EXPECT_EQ(req.query.at("x"), "1");
  ASSERT_TRUE(parse_request_target("HTTP://example", req));
  EXPECT_EQ(req.path, "/");
}

TEST(HttpMessageTest, RejectsMalformedTargets) {
  HttpRequest req;
  for (const char* bad : {"", "*", "example.com:80", "/a%zz", "/a%4", "/a%", "/a%00b", "/?x=%g1"}) {
    EXPECT_FALSE(parse_request_target(bad, req)) << bad;
  }
  EXPECT_EQ(percent_decode("%41%62+", /*plus_is_space=*/true), std::optional<std::string>("Ab "));
  EXPECT_EQ(percent_decode("%4", false), std::nullopt);
}

TEST(HttpMessageTest, HeaderMapIgnoresCase) {
  HttpRequest req;
  req.headers["Content-Type"] = "application/json";
  EXPECT_EQ(req.headers.count("content-type"), 1u);
  EXPECT_EQ(req.headers.find("CONTENT-TYPE")->second, "application/json");
  req.headers["content-TYPE"] = "text/plain";
  EXPECT_EQ(req.headers.size(), 1u);
}

TEST(HttpMessageTest, JsonErrorEscapes) {
  const HttpResponse res = json_error(404, "no \"x\"");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.content_type, "application/json");
  EXPECT_EQ(res.body, R"({"error": "no \"x\""})");
}

// ---- routing ----

TEST(RouterTest, DispatchesStaticAndParameterRoutes) {
  Router router;
  router.add("GET", "/api/v1/status", [](const HttpRequest&, const PathParams& p) {
    EXPECT_TRUE(p.empty());
    return text("status");
  });
  router.add("POST", "/api/v1/push/{source}", [](const HttpRequest& req, const PathParams& p) {
    return text(req.method + " " + p.at("source"));
  });
  router.add("GET", "/", [](const HttpRequest&, const PathParams&) { return text("root"); });

  EXPECT_EQ(router.dispatch(request("GET", "/api/v1/status")).body, "status");
  EXPECT_EQ(router.dispatch(request("GET", "/api/v1/status?verbose=1")).body, "status");
  EXPECT_EQ(router.dispatch(request("POST", "/api/v1/push/checkout%20eu")).body,
            "POST checkout eu");
  EXPECT_EQ(router.dispatch(request("GET", "/")).body, "root");
}

TEST(RouterTest, UnknownPathIs404WithJsonBody) {
  Router router;
  router.add("GET", "/api/v1/status",
             [](const HttpRequest&, const PathParams&) { return text("x"); });
  for (const char* target :
       {"/nope", "/api/v1/status/", "/api/v1", "/api/v1/status/extra", "/API/v1/status"}) {
    const HttpResponse res = router.dispatch(request("GET", target));
    EXPECT_EQ(res.status, 404) << target;
    EXPECT_EQ(res.content_type, "application/json");
    EXPECT_NE(res.body.find("\"error\""), std::string::npos);
  }
  // A parameter never matches an empty segment.
  router.add("POST", "/push/{source}",
             [](const HttpRequest&, const PathParams&) { return text("x"); });
  EXPECT_EQ(router.dispatch(request("POST", "/push/")).status, 404);
}

TEST(RouterTest, KnownPathWithOtherMethodIs405WithAllow) {
  Router router;
  auto ok = [](const HttpRequest&, const PathParams&) { return text("ok"); };
  router.add("POST", "/api/v1/ack", ok);
  router.add("GET", "/metrics", ok);
  router.add("DELETE", "/metrics", ok);

  HttpResponse res = router.dispatch(request("GET", "/api/v1/ack"));
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.headers.at("Allow"), "POST");
  EXPECT_NE(res.body.find("\"error\""), std::string::npos);

  res = router.dispatch(request("PUT", "/metrics"));
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.headers.at("Allow"), "DELETE, GET, HEAD");
}

TEST(RouterTest, HeadIsServedByGetWithoutBody) {
  Router router;
  int calls = 0;
  router.add("GET", "/metrics", [&calls](const HttpRequest& req, const PathParams&) {
    ++calls;
    EXPECT_EQ(req.method, "HEAD");
    HttpResponse res = text("twelve bytes");
    res.content_type = "text/plain; version=0.0.4";
    return res;
  });
  const HttpResponse res = router.dispatch(request("HEAD", "/metrics"));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(res.status, 200);
  EXPECT_TRUE(res.body.empty());
  EXPECT_EQ(res.headers.at("Content-Length"), "12");
  EXPECT_EQ(res.content_type, "text/plain; version=0.0.4");
  // No GET, no HEAD.
  router.add("POST", "/ack", [](const HttpRequest&, const PathParams&) { return text("x"); });
  EXPECT_EQ(router.dispatch(request("HEAD", "/ack")).status, 405);
}

TEST(RouterTest, ExplicitHeadRouteWins) {
  Router router;
  router.add("GET", "/x", [](const HttpRequest&, const PathParams&) { return text("get"); });
  router.add("HEAD", "/x", [](const HttpRequest&, const PathParams&) {
    HttpResponse res;
    res.headers["Content-Length"] = "99";
    return res;
  });
  const HttpResponse res = router.dispatch(request("HEAD", "/x"));
  EXPECT_EQ(res.headers.at("Content-Length"), "99");
  EXPECT_TRUE(res.body.empty());
  EXPECT_EQ(router.dispatch(request("POST", "/x")).headers.at("Allow"), "GET, HEAD");
}

TEST(RouterTest, LiteralSegmentBeatsParameter) {
  Router router;
  router.add("GET", "/push/{source}/{metric}", [](const HttpRequest&, const PathParams& p) {
    return text("param " + p.at("source") + "/" + p.at("metric"));
  });
  router.add("GET", "/push/{source}/status", [](const HttpRequest&, const PathParams& p) {
    return text("status of " + p.at("source"));
  });
  router.add("GET", "/push/all/{metric}",
             [](const HttpRequest&, const PathParams& p) { return text("all " + p.at("metric")); });
  EXPECT_EQ(router.dispatch(request("GET", "/push/a/b")).body, "param a/b");
  EXPECT_EQ(router.dispatch(request("GET", "/push/a/status")).body, "status of a");
  EXPECT_EQ(router.dispatch(request("GET", "/push/all/status")).body, "all status");
}

TEST(RouterTest, ThrowingHandlerGives500) {
  Router router;
  router.add("GET", "/std", [](const HttpRequest&, const PathParams&) -> HttpResponse {
    throw std::runtime_error("secret detail");
  });
  router.add("GET", "/other",
             [](const HttpRequest&, const PathParams&) -> HttpResponse { throw 42; });
  for (const char* target : {"/std", "/other"}) {
    const HttpResponse res = router.dispatch(request("GET", target));
    EXPECT_EQ(res.status, 500);
    EXPECT_EQ(res.body, R"({"error": "internal error"})");
  }
}

TEST(RouterTest, AddRejectsBadRoutes) {
  Router router;
  auto ok = [](const HttpRequest&, const PathParams&) { return text("x"); };
  router.add("GET", "/a/{id}", ok);
  EXPECT_THROW(router.add("GET", "no-slash", ok), std::invalid_argument);
  EXPECT_THROW(router.add("get", "/b", ok), std::invalid_argument);
  EXPECT_THROW(router.add("", "/b", ok), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/b/{", ok), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/b/x{id}", ok), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/b/{}", ok), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/b/{id}/{id}", ok), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/a/{id}", ok), std::invalid_argument);     // twice
  EXPECT_THROW(router.add("POST", "/a/{name}", ok), std::invalid_argument);  // other name
  EXPECT_THROW(router.add("GET", "/c", Handler()), std::invalid_argument);
  router.add("POST", "/a/{id}", ok);  // same pattern, other method: fine
}

TEST(RouterTest, ConcurrentDispatchAfterSetUp) {
  Router router;
  router.add("GET", "/item/{id}",
             [](const HttpRequest&, const PathParams& p) { return text(p.at("id")); });
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&router, &wrong, t] {
      for (int i = 0; i < 500; ++i) {
        const std::string id = std::to_string(t * 1000 + i);
        HttpRequest req;
        req.method = "GET";
        req.path = "/item/" + id;
        if (router.dispatch(req).body != id) {
          ++wrong;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace backout::agent::http
