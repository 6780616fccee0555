#pragma once
// Helpers for the trace tests: hand-written Kineto-style events, temp files, error capture.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

namespace trace_test {

// A complete ("X") event; corr < 0 means no args.correlation.
inline std::string x_event(const std::string& cat, const std::string& name, const std::string& ts,
                           const std::string& dur, long long corr = -1) {
  std::string args = corr >= 0
                         ? ", \"args\": {\"External id\": 7, \"correlation\": " + std::to_string(corr) + "}"
                         : ", \"args\": {\"External id\": 7}";
  return "{\"ph\": \"X\", \"cat\": \"" + cat + "\", \"name\": \"" + name +
         "\", \"pid\": 1, \"tid\": 1, \"ts\": " + ts + ", \"dur\": " + dur + args + "}";
}

inline std::string kineto_trace(const std::vector<std::string>& events) {
  std::string s =
      "{\n  \"schemaVersion\": 1,\n  \"deviceProperties\": [{\"id\": 0, \"name\": \"Fake\"}],\n"
      "  \"traceEvents\": [\n";
  for (std::size_t i = 0; i < events.size(); ++i)
    s += "  " + events[i] + (i + 1 < events.size() ? ",\n" : "\n");
  s += "  ],\n  \"traceName\": \"hand.json\"\n}\n";
  return s;
}

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("flame-trace-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::filesystem::path write(const std::string& name, const std::string& bytes) const {
    const auto p = path_ / name;
    std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The what() of the exception `f` throws, or "" when it does not throw.
template <typename E>
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

}  // namespace trace_test
