#pragma once
// Reading a trace file into memory: plain JSON or gzip (recognised by its magic bytes, not by
// the file name, since users rename files freely).
#include <filesystem>
#include <string>
#include <string_view>

namespace flame::trace {

// True when the bytes start with the gzip magic 1f 8b.
bool looks_gzipped(std::string_view bytes);

// Decompresses a whole gzip stream (several concatenated members are allowed). Throws
// TraceError naming `source` on corrupt or truncated data.
std::string gunzip(std::string_view compressed, std::string_view source);

// A single-member gzip stream of `text` (what PyTorch's profiler writes for a .gz name), for
// writing trace files. Throws std::runtime_error if zlib fails.
std::string gzip(std::string_view text);

// The JSON text of a trace file, decompressed when gzipped. The returned string has spare
// capacity after its end so the JSON parser can use it without a copy. Throws TraceError when
// the file cannot be read, is empty, or is broken gzip.
std::string read_trace_text(const std::filesystem::path& path);

}  // namespace flame::trace
