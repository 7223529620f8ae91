// Follows a log file by path like `tail -F`: reads what was appended since the last poll, in
// complete lines; survives rotation by rename (the old file is read to its end, then the new one
// from its start) and truncation (reading starts again at 0); waits for a file that does not
// exist yet. Plain blocking reads of a regular file (bounded per poll), no Asio.
//
// Thread-compatible: one caller at a time. No clock: the caller decides when to poll.
//
// Limits, as with `tail -F`: lines appended to the old file after the switch to the new one are
// not read; a truncation followed by regrowth past the old size between two polls is not seen.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace backout::collectors {

class LogFollower {
 public:
  /// Longer lines are cut to this length and flagged `truncated`.
  static constexpr std::size_t kMaxLine = 64 * 1024;

  struct PollResult {
    bool up = false;        // `path` could be opened (or is open) and read
    std::string error;      // why not, for the operator
    bool has_file = false;  // a file is open, so counts are live
    std::size_t bytes = 0;
    bool more = false;  // the byte budget ran out before the end of the data
  };
  using OnLine = std::function<void(std::string_view line, bool truncated)>;

  /// `from_start`: read the file that exists when following starts from its beginning instead of
  /// its end. A file that appears later, or replaces a rotated one, is always read from 0.
  LogFollower(std::string path, bool from_start);
  ~LogFollower();
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  /// Reads at most `budget` bytes of new data and calls `on_line` for each complete line
  /// (without the newline and a trailing `\r`). A last line without its newline waits for it,
  /// except at a rotation or truncation, where it is passed on as it is.
  PollResult poll(std::size_t budget, const OnLine& on_line);

 private:
  bool open_file(bool at_end, PollResult& out);
  void close_file();
  // Reads from offset_ until the end of the file or the budget; false on a read error.
  bool read_available(std::size_t& budget, PollResult& out, const OnLine& on_line);
  void feed(const char* data, std::size_t n, const OnLine& on_line);
  void flush_partial(const OnLine& on_line);

  const std::string path_;
  // Until the file is first opened or found missing: open it at its end (unless from_start), as
  // it existed before the start. A file that was missing at first is new: read from 0.
  bool start_at_end_;
  int fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  off_t offset_ = 0;
  std::string partial_;           // the current line so far, at most kMaxLine bytes
  bool overflow_ = false;         // partial_ was cut; skipping to the newline
  bool skip_to_newline_ = false;  // started mid-line at the end of the file
  std::vector<char> buffer_;
};

}  // namespace backout::collectors
