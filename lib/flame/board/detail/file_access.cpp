#include "flame/board/detail/file_access.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace flame::board {

ReadResult SysfsFileAccess::read(const std::string& path) {
  ReadResult r;
  int fd = ::open(root_.host(path).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    r.error = errno;
    return r;
  }
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      r.error = errno;
      break;
    }
    if (n == 0) break;
    r.text.append(buf, static_cast<std::size_t>(n));
    if (r.text.size() > (1u << 20)) break;  // attributes are small; never slurp a huge file
  }
  ::close(fd);
  return r;
}

int SysfsFileAccess::write(const std::string& path, std::string_view text) {
  int fd = ::open(root_.host(path).c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_TRUNC);
  if (fd < 0) return errno;
  int err = 0;
  ssize_t n = ::write(fd, text.data(), text.size());
  if (n < 0) {
    err = errno;
  } else if (static_cast<std::size_t>(n) != text.size()) {
    err = EIO;  // sysfs consumes a store in one call; a short write means it was not applied as sent
  }
  if (::close(fd) != 0 && err == 0) err = errno;
  return err;
}

ErrorClass classify(int err) {
  switch (err) {
    case 0:
      return ErrorClass::None;
    case ENOENT:
    case ENODEV:
    case ENXIO:
      return ErrorClass::DomainGone;
    case EACCES:
    case EPERM:
    case EROFS:
    case EISDIR:
    case ELOOP:
      return ErrorClass::NotPermitted;
    case EINVAL:
    case ERANGE:
      return ErrorClass::Invalid;
    case EBUSY:
    case EAGAIN:
    case EINTR:
      return ErrorClass::Busy;
    default:
      return ErrorClass::Other;
  }
}

const char* to_string(ErrorClass c) {
  switch (c) {
    case ErrorClass::None:
      return "ok";
    case ErrorClass::DomainGone:
      return "domain gone";
    case ErrorClass::NotPermitted:
      return "not permitted";
    case ErrorClass::Invalid:
      return "invalid";
    case ErrorClass::Busy:
      return "busy";
    case ErrorClass::Other:
      return "failed";
  }
  return "?";
}

std::string errno_name(int err) {
  const char* name = nullptr;
  switch (err) {
    case ENOENT:
      name = "ENOENT";
      break;
    case ENODEV:
      name = "ENODEV";
      break;
    case ENXIO:
      name = "ENXIO";
      break;
    case EACCES:
      name = "EACCES";
      break;
    case EPERM:
      name = "EPERM";
      break;
    case EROFS:
      name = "EROFS";
      break;
    case EISDIR:
      name = "EISDIR";
      break;
    case ELOOP:
      name = "ELOOP";
      break;
    case EINVAL:
      name = "EINVAL";
      break;
    case ERANGE:
      name = "ERANGE";
      break;
    case EBUSY:
      name = "EBUSY";
      break;
    case EAGAIN:
      name = "EAGAIN";
      break;
    case EINTR:
      name = "EINTR";
      break;
    case EIO:
      name = "EIO";
      break;
    case ENODATA:
      name = "ENODATA";
      break;
    default:
      break;
  }
  std::string out = name ? name : ("errno " + std::to_string(err));
  return out + " (" + std::strerror(err) + ")";
}

}  // namespace flame::board
