// Bridges Debian's multithreaded ZooKeeper C client (libzookeeper-mt-dev) into Swift.
#ifndef FERRY_CZOOKEEPER_SHIM_H
#define FERRY_CZOOKEEPER_SHIM_H

// The _mt library runs its own IO and completion threads; THREADED exposes the matching API.
#define THREADED 1
#include <zookeeper/zookeeper.h>

// ZOO_OPEN_ACL_UNSAFE is a mutable C global, which Swift 6 refuses to touch from concurrent code.
// The library never writes it, so handing out its address is safe.
static inline struct ACL_vector *ferry_zoo_open_acl_unsafe(void) { return &ZOO_OPEN_ACL_UNSAFE; }

#endif
