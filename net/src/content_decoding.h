// Decoding of gzip / deflate response bodies with a cap on the decoded size, so that a small
// compressed body cannot expand into gigabytes (a "gzip bomb"). Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace backout::net {

enum class ContentCoding { kIdentity, kGzip, kDeflate, kUnsupported };

/// The coding a Content-Encoding header names ("gzip", "x-gzip", "deflate", "identity" or
/// empty, case-insensitive, surrounding blanks ignored); anything else, including a list of
/// several codings, is kUnsupported.
ContentCoding parse_content_coding(std::string_view header);

enum class DecodeStatus { kOk, kTooLarge, kCorrupt };

/// Decodes `in` into `*out`, stopping as soon as the output would exceed `max_out` bytes
/// (kTooLarge; `*out` then holds at most max_out bytes). kGzip accepts concatenated members;
/// kDeflate accepts the zlib format (RFC 1950, what the standard says) and raw deflate (RFC
/// 1951, what some servers send). On kCorrupt `*why` says what was wrong.
DecodeStatus decode_body(std::string_view in, ContentCoding coding, std::size_t max_out,
                         std::string* out, std::string* why);

}  // namespace backout::net
