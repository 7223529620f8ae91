#include "log/log_follower.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace backout::collectors {
namespace {

constexpr std::size_t kChunk = 64 * 1024;

std::string errno_text(int e) { return std::strerror(e); }

}  // namespace

LogFollower::LogFollower(std::string path, bool from_start)
    : path_(std::move(path)), start_at_end_(!from_start), buffer_(kChunk) {}

LogFollower::~LogFollower() { close_file(); }

void LogFollower::close_file() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

bool LogFollower::open_file(bool at_end, PollResult& out) {
  // O_NONBLOCK: a FIFO at `path` must not block open(); it is refused below anyway.
  const int fd = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    out.error = e == ENOENT ? "log file " + path_ + " does not exist (yet); waiting for it"
                            : "cannot open log file " + path_ + ": " + errno_text(e);
    if (e == ENOENT) {
      start_at_end_ = false;
    }
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    out.error = "log file " + path_ + " is not a regular file";
    return false;
  }
  fd_ = fd;
  start_at_end_ = false;
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  offset_ = 0;
  partial_.clear();
  overflow_ = false;
  skip_to_newline_ = false;
  if (at_end && st.st_size > 0) {
    offset_ = st.st_size;
    // Starting in the middle of a line would count its tail as a line of its own.
    char last = '\n';
    if (::pread(fd_, &last, 1, offset_ - 1) == 1 && last != '\n') {
      skip_to_newline_ = true;
    }
  }
  return true;
}

void LogFollower::flush_partial(const OnLine& on_line) {
  if (!partial_.empty() && !skip_to_newline_) {
    on_line(partial_, overflow_);
  }
  partial_.clear();
  overflow_ = false;
  skip_to_newline_ = false;
}

void LogFollower::feed(const char* data, std::size_t n, const OnLine& on_line) {
  std::size_t i = 0;
  while (i < n) {
    const void* nl = std::memchr(data + i, '\n', n - i);
    const std::size_t end = nl != nullptr ? static_cast<const char*>(nl) - data : n;
    const std::size_t len = end - i;
    if (nl != nullptr && partial_.empty() && !overflow_ && !skip_to_newline_ && len <= kMaxLine) {
      // The common case: a whole line inside the buffer, passed on without a copy.
      std::string_view line(data + i, len);
      if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
      }
      on_line(line, false);
      i = end + 1;
      continue;
    }
    if (!skip_to_newline_ && !overflow_) {
      const std::size_t take = std::min(len, kMaxLine - partial_.size());
      partial_.append(data + i, take);
      overflow_ = take < len;
    }
    if (nl == nullptr) {
      return;  // the rest of the line comes later
    }
    if (skip_to_newline_) {
      skip_to_newline_ = false;
    } else {
      std::string_view line(partial_);
      if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
      }
      on_line(line, overflow_);
    }
    partial_.clear();
    overflow_ = false;
    i = end + 1;
  }
}

bool LogFollower::read_available(std::size_t& budget, PollResult& out, const OnLine& on_line) {
  while (budget > 0) {
    const std::size_t want = std::min(budget, buffer_.size());
    const ssize_t n = ::pread(fd_, buffer_.data(), want, offset_);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      out.error = "cannot read log file " + path_ + ": " + errno_text(errno);
      return false;
    }
    if (n == 0) {
      return true;
    }
    offset_ += n;
    out.bytes += static_cast<std::size_t>(n);
    budget -= static_cast<std::size_t>(n);
    feed(buffer_.data(), static_cast<std::size_t>(n), on_line);
  }
  // Out of budget: is there more to read?
  struct stat st {};
  out.more = ::fstat(fd_, &st) == 0 && st.st_size > offset_;
  return true;
}

LogFollower::PollResult LogFollower::poll(std::size_t budget, const OnLine& on_line) {
  PollResult out;
  if (fd_ < 0 && !open_file(start_at_end_, out)) {
    return out;
  }

  // Truncated in place (copytruncate): start again at 0.
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && st.st_size < offset_) {
    flush_partial(on_line);
    offset_ = 0;
  }

  // Renamed away or deleted: `path` now names another file, or nothing.
  struct stat path_st {};
  const bool path_ok = ::stat(path_.c_str(), &path_st) == 0;
  const int path_errno = path_ok ? 0 : errno;
  const bool replaced = path_ok && (path_st.st_dev != dev_ || path_st.st_ino != ino_);

  if (!read_available(budget, out, on_line)) {
    out.has_file = true;
    return out;
  }
  if (replaced && !out.more) {
    // The old file is read to its end: its last line will not grow any more.
    flush_partial(on_line);
    close_file();
    if (!open_file(false, out)) {
      return out;
    }
    if (!read_available(budget, out, on_line)) {
      out.has_file = true;
      return out;
    }
  }
  out.has_file = true;
  if (!path_ok) {
    out.error = path_errno == ENOENT
                    ? "log file " + path_ + " is gone (rotated or deleted); waiting for a new one"
                    : "cannot stat log file " + path_ + ": " + errno_text(path_errno);
    return out;
  }
  out.up = true;
  return out;
}

}  // namespace backout::collectors
