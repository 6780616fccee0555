#pragma once
// Who is at the other end of a client connection: the peer credentials the kernel recorded at
// connect (SO_PEERCRED), and whether that user may see every client's requests (docs/protocol.md,
// "Who sees which requests").
#include <sys/types.h>

#include <optional>
#include <string>

namespace flamed {

struct Peer {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// The peer of a connected Unix socket; nothing when the kernel does not tell.
std::optional<Peer> peer_of(int fd);

// Root, or a member of `admin_group` (its primary group from SO_PEERCRED, or a supplementary group
// of the user in the group database). "" names no group: root only. An unknown group admits no one
// but root.
bool is_admin(const Peer& peer, const std::string& admin_group);

}  // namespace flamed
