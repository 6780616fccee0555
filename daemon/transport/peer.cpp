#include "transport/peer.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace flamed {

std::optional<Peer> peer_of(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return std::nullopt;
  return Peer{cred.pid, cred.uid, cred.gid};
}

bool is_admin(const Peer& peer, const std::string& admin_group) {
  if (peer.uid == 0) return true;
  if (admin_group.empty()) return false;
  std::vector<char> buf(16384);
  group gr{};
  group* found = nullptr;
  if (::getgrnam_r(admin_group.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || !found) return false;
  const gid_t admin = found->gr_gid;
  if (peer.gid == admin) return true;
  // SO_PEERCRED carries the primary group only: the user's supplementary groups come from the
  // group database, as login would have set them.
  passwd pw{};
  passwd* user = nullptr;
  std::vector<char> pbuf(16384);
  if (::getpwuid_r(peer.uid, &pw, pbuf.data(), pbuf.size(), &user) != 0 || !user) return false;
  int n = 64;
  std::vector<gid_t> groups(static_cast<size_t>(n));
  if (::getgrouplist(user->pw_name, user->pw_gid, groups.data(), &n) < 0) {
    groups.resize(static_cast<size_t>(n));
    if (::getgrouplist(user->pw_name, user->pw_gid, groups.data(), &n) < 0) return false;
  }
  groups.resize(static_cast<size_t>(n));
  return std::find(groups.begin(), groups.end(), admin) != groups.end();
}

}  // namespace flamed
