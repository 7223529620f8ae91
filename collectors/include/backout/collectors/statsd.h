// The StatsD / DogStatsD line parser of the `push` kind, shared by its UDP listener and the HTTP
// push API (Content-Type: text/x-statsd). A pure function: no I/O, no clock, no global state;
// any number of threads may parse different texts at once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "backout/collectors/push_hub.h"

namespace backout::collectors {

/// What a parse saw.
struct StatsdParseStats {
  std::size_t lines = 0;      // non-empty lines
  std::size_t samples = 0;    // samples appended
  std::size_t malformed = 0;  // lines skipped as malformed or unsupported
  std::string first_error;    // "line 2: unknown type 'x' (expected c, g, ms, h or d)"
};

/// Parses newline-separated lines (a datagram may hold several; CRLF and blank lines are
/// accepted) and appends one sample per value to `out`:
///
///   name:value|c[|@rate]   counter increment value / rate (0 < rate <= 1)     -> kCounter
///   name:value|g           gauge, absolute (a leading '-' is a negative value;
///                          Etsy's relative "+N" is malformed)                   -> kGauge
///   name:value|ms          timer in milliseconds, recorded in seconds           -> kObservation
///   name:value|h, |d       histogram / distribution value, taken as seconds     -> kObservation
///   ...|#k:v,k2:v2         DogStatsD tags, as labels (a tag without a value is ignored)
///   name:v1:v2|h           DogStatsD packed values: one sample each
///
/// Names are made Prometheus-safe: every character outside [A-Za-z0-9_] becomes '_' and a
/// leading digit gets a '_' in front, so `portal.login-failures` is `portal_login_failures`
/// (tag keys likewise). Counter, timer and histogram values must be finite and >= 0; gauges
/// finite. The DogStatsD container (`|c:...`), external data (`|e:...`) and timestamp (`|T...`)
/// fields are ignored; sets (`|s`), events (`_e{...}`) and service checks (`_sc|...`) are
/// malformed. A malformed line is counted and skipped; the others still parse. Never throws on
/// any input and costs linear time.
StatsdParseStats parse_statsd(std::string_view text, std::vector<PushedSample>& out);

/// `name` made Prometheus-safe as described above ("" stays "").
std::string statsd_safe_name(std::string_view name);

}  // namespace backout::collectors
