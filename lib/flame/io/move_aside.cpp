#include "flame/io/move_aside.hpp"

#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace flame::io {

std::filesystem::path move_aside(const std::filesystem::path& file) {
  for (int n = 0; n < 1000; ++n) {
    std::filesystem::path to = file;
    to += n == 0 ? std::string(".unreadable") : ".unreadable." + std::to_string(n);
    // link(2) never replaces an existing name, unlike rename(2).
    if (::link(file.c_str(), to.c_str()) == 0) {
      if (::unlink(file.c_str()) != 0)
        throw std::filesystem::filesystem_error("cannot remove after moving aside", file,
                                                std::error_code(errno, std::generic_category()));
      return to;
    }
    if (errno != EEXIST)
      throw std::filesystem::filesystem_error("cannot move aside", file, to,
                                              std::error_code(errno, std::generic_category()));
  }
  throw std::filesystem::filesystem_error("cannot move aside: 1000 earlier copies", file,
                                          std::make_error_code(std::errc::file_exists));
}

}  // namespace flame::io
