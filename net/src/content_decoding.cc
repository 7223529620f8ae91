#include "content_decoding.h"

#define ZLIB_CONST
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>

namespace backout::net {
namespace {

constexpr std::size_t kChunk = 64 * 1024;

// zlib windowBits: 15 is the largest window; +32 detects a gzip or zlib header, negative is raw.
constexpr int kGzipOrZlib = 15 + 32;
constexpr int kZlib = 15;
constexpr int kRawDeflate = -15;

struct Inflater {
  z_stream zs{};
  bool ready = false;
  explicit Inflater(int window_bits) { ready = inflateInit2(&zs, window_bits) == Z_OK; }
  ~Inflater() {
    if (ready) {
      inflateEnd(&zs);
    }
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
};

bool starts_gzip_member(const z_stream& zs) {
  return zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b;
}

// `*bad_header` is set when the very first bytes were rejected, so that the caller can try the
// other deflate framing.
DecodeStatus inflate_all(std::string_view in, int window_bits, bool multi_member,
                         std::size_t max_out, std::string* out, std::string* why,
                         bool* bad_header) {
  Inflater inf(window_bits);
  if (!inf.ready) {
    *why = "cannot initialise zlib";
    return DecodeStatus::kCorrupt;
  }
  z_stream& zs = inf.zs;
  zs.next_in = reinterpret_cast<const Bytef*>(in.data());
  std::size_t remaining = in.size();
  std::array<Bytef, kChunk> buf;
  for (;;) {
    if (zs.avail_in == 0 && remaining > 0) {
      const std::size_t n = std::min<std::size_t>(remaining, UINT_MAX);
      zs.avail_in = static_cast<uInt>(n);
      remaining -= n;
    }
    zs.next_out = buf.data();
    zs.avail_out = static_cast<uInt>(buf.size());
    const int rc = inflate(&zs, Z_NO_FLUSH);
    const std::size_t produced = buf.size() - zs.avail_out;
    if (produced > max_out - out->size()) {
      out->append(reinterpret_cast<const char*>(buf.data()), max_out - out->size());
      return DecodeStatus::kTooLarge;
    }
    out->append(reinterpret_cast<const char*>(buf.data()), produced);
    if (rc == Z_STREAM_END) {
      if (multi_member && starts_gzip_member(zs)) {
        inflateReset(&zs);
        continue;
      }
      return DecodeStatus::kOk;  // bytes after the end of the stream are ignored, as curl does
    }
    if (rc == Z_OK) {
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && remaining == 0) {
      *why = "compressed body is truncated";
      return DecodeStatus::kCorrupt;
    }
    *bad_header = zs.total_in <= 2 && out->empty();
    *why = zs.msg != nullptr ? std::string("compressed body is corrupt: ") + zs.msg
                             : std::string("compressed body is corrupt");
    return DecodeStatus::kCorrupt;
  }
}

}  // namespace

ContentCoding parse_content_coding(std::string_view header) {
  while (!header.empty() && (header.front() == ' ' || header.front() == '\t')) {
    header.remove_prefix(1);
  }
  while (!header.empty() && (header.back() == ' ' || header.back() == '\t')) {
    header.remove_suffix(1);
  }
  std::string lower(header);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower.empty() || lower == "identity") {
    return ContentCoding::kIdentity;
  }
  if (lower == "gzip" || lower == "x-gzip") {
    return ContentCoding::kGzip;
  }
  if (lower == "deflate") {
    return ContentCoding::kDeflate;
  }
  return ContentCoding::kUnsupported;
}

DecodeStatus decode_body(std::string_view in, ContentCoding coding, std::size_t max_out,
                         std::string* out, std::string* why) {
  out->clear();
  switch (coding) {
    case ContentCoding::kIdentity:
      if (in.size() > max_out) {
        out->assign(in.substr(0, max_out));
        return DecodeStatus::kTooLarge;
      }
      out->assign(in);
      return DecodeStatus::kOk;
    case ContentCoding::kUnsupported:
      *why = "unsupported content coding";
      return DecodeStatus::kCorrupt;
    case ContentCoding::kGzip:
    case ContentCoding::kDeflate:
      break;
  }
  if (in.empty()) {
    return DecodeStatus::kOk;  // e.g. a 204 or HEAD answer that still names its coding
  }
  bool bad_header = false;
  if (coding == ContentCoding::kGzip) {
    return inflate_all(in, kGzipOrZlib, true, max_out, out, why, &bad_header);
  }
  DecodeStatus s = inflate_all(in, kZlib, false, max_out, out, why, &bad_header);
  if (s == DecodeStatus::kCorrupt && bad_header) {
    out->clear();
    s = inflate_all(in, kRawDeflate, false, max_out, out, why, &bad_header);
  }
  return s;
}

}  // namespace backout::net
