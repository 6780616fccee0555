#include "flame/trace/trace_source.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <stdexcept>

#include "flame/trace/detail/trace_error.hpp"

namespace flame::trace {
namespace {

// Room the JSON parser may read past the end of the text (simdjson's SIMDJSON_PADDING); kept
// here so the public header does not depend on simdjson.
constexpr std::size_t kParserPadding = 64;

// The gzip trailer stores the uncompressed size modulo 2^32: a good first allocation.
std::size_t size_hint(std::string_view gz) {
  if (gz.size() < 18) return gz.size() * 4;
  const auto* t = reinterpret_cast<const unsigned char*>(gz.data() + gz.size() - 4);
  const std::size_t isize = t[0] | (t[1] << 8) | (t[2] << 16) | (std::size_t{t[3]} << 24);
  // A corrupt trailer must not make us allocate gigabytes up front.
  return std::min<std::size_t>(std::max(isize, gz.size()), gz.size() * 64);
}

struct Inflater {
  z_stream zs{};
  Inflater() = default;
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  ~Inflater() { inflateEnd(&zs); }
};

}  // namespace

bool looks_gzipped(std::string_view bytes) {
  return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
         static_cast<unsigned char>(bytes[1]) == 0x8b;
}

std::string gunzip(std::string_view compressed, std::string_view source) {
  Inflater inf;
  if (inflateInit2(&inf.zs, 16 + MAX_WBITS) != Z_OK) throw TraceError(source, "cannot initialise zlib");

  std::string out;
  out.resize(size_hint(compressed) + kParserPadding);
  std::size_t produced = 0;
  std::size_t consumed = 0;
  constexpr std::size_t kChunk = std::numeric_limits<uInt>::max() / 2;  // z_stream counts are 32-bit

  while (true) {
    if (out.size() - produced < kParserPadding + 4096) out.resize(out.size() * 2);
    inf.zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data() + consumed));
    inf.zs.avail_in = static_cast<uInt>(std::min(compressed.size() - consumed, kChunk));
    inf.zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    inf.zs.avail_out = static_cast<uInt>(std::min(out.size() - produced - kParserPadding, kChunk));
    const uInt in_before = inf.zs.avail_in;
    const uInt out_before = inf.zs.avail_out;
    const int rc = inflate(&inf.zs, Z_NO_FLUSH);
    consumed += in_before - inf.zs.avail_in;
    produced += out_before - inf.zs.avail_out;

    if (rc == Z_STREAM_END) {
      // Concatenated gzip members (as `cat a.gz b.gz` makes) form one stream.
      if (consumed < compressed.size() && looks_gzipped(compressed.substr(consumed))) {
        inflateReset(&inf.zs);
        continue;
      }
      break;
    }
    if (rc == Z_DATA_ERROR) {
      throw TraceError(source, std::string("corrupt gzip data (") + (inf.zs.msg ? inf.zs.msg : "bad data") +
                                   ") after " + std::to_string(consumed) + " compressed bytes");
    }
    if (rc == Z_MEM_ERROR) throw TraceError(source, "out of memory while decompressing gzip");
    if (rc == Z_BUF_ERROR || rc == Z_OK) {
      const bool input_exhausted = consumed == compressed.size();
      const bool no_progress = in_before == inf.zs.avail_in && out_before == inf.zs.avail_out;
      if (input_exhausted && (no_progress || inf.zs.avail_out > 0)) {
        throw TraceError(source, "truncated gzip stream: the file ends after " +
                                     std::to_string(compressed.size()) +
                                     " bytes, before the end of the data");
      }
      continue;
    }
    throw TraceError(source, "gzip decompression failed (zlib error " + std::to_string(rc) + ")");
  }
  out.resize(produced);  // capacity keeps the parser padding
  return out;
}

std::string gzip(std::string_view text) {
  z_stream zs{};
  // windowBits 15 + 16: deflate with a gzip header and trailer (zlib.h, deflateInit2).
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("cannot start gzip compression");
  std::string out(deflateBound(&zs, static_cast<uLong>(text.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("gzip compression failed");
  return out;
}

std::string read_trace_text(const std::filesystem::path& path) {
  const std::string source = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw TraceError(source, "is a directory, not a trace file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TraceError(source, std::string("cannot open trace file: ") + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) throw TraceError(source, "cannot determine the file size");
  in.seekg(0, std::ios::beg);
  std::string bytes(static_cast<std::size_t>(size) + kParserPadding, '\0');
  in.read(bytes.data(), size);
  if (in.gcount() != size) throw TraceError(source, "read error");
  bytes.resize(static_cast<std::size_t>(size));
  if (bytes.empty()) throw TraceError(source, "empty file (expected a Chrome-trace JSON or its gzip)");
  if (looks_gzipped(bytes)) {
    std::string json = gunzip(bytes, source);
    if (json.empty()) throw TraceError(source, "gzip stream decompresses to nothing");
    return json;
  }
  return bytes;
}

}  // namespace flame::trace
