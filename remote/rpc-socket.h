/* The unix sockets of the libvirt door: listening on a path without
 * taking it from a live daemon or opening it up too early, and who is on
 * the other end of an accepted connection. */
#pragma once

#include <gio/gio.h>

#include "rpc-auth.h"

G_BEGIN_DECLS

/* A listening stream socket bound at @path with @mode.  The directory is
 * made if needed; a stale socket there is replaced; anything else at
 * @path, or a socket another process answers on (virtnodedevd, libvirtd),
 * is an HD_ERROR and is left alone.  The socket has no access at all
 * until it is bound, then @mode. */
GSocket *hd_rpc_socket_listen (const char *path, guint mode, GError **error);

/* @socket's peer from SO_PEERCRED: uid G_MAXUINT32 (not root) and pid 0
 * when the kernel gives no credentials; start_time is left 0 (see
 * hd_rpc_socket_process_start_time). */
void hd_rpc_socket_peer (GSocket *socket, HdRpcPeer *peer);

/* Field 22 of /proc/PID/stat, the process's start time, which polkit
 * needs with the pid to tell the process from a later one with the same
 * pid (libvirt's virProcessGetStartTime).  0 if it cannot be read. */
guint64 hd_rpc_socket_process_start_time (guint32 pid);

G_END_DECLS
