/* The libvirt RPC door: listening unix sockets (created or handed over by
 * systemd), one HdRpcConnection per client, non-blocking I/O on the main
 * loop with bounded buffers, and inventory events forwarded to clients. */
#pragma once

#include <gio/gio.h>

#include "hostdev/engine.h"
#include "nodedev/inventory.h"
#include "rpc-auth.h"

G_BEGIN_DECLS

#define HD_TYPE_RPC_SERVER (hd_rpc_server_get_type ())
G_DECLARE_FINAL_TYPE (HdRpcServer, hd_rpc_server, HD, RPC_SERVER, GObject)

/* @engine NULL: detach, reattach and reset answer "not supported". */
HdRpcServer *hd_rpc_server_new (HdInventory *inventory, HdEngine *engine);

/* Creates and listens on a unix socket at @path with @mode.  A stale
 * socket file is replaced; a live one (another process answers on it) is
 * an error, as is any file that is not a socket. */
gboolean hd_rpc_server_listen_path (HdRpcServer *self, const char *path, guint mode,
                                    gboolean readonly, GError **error);

/* Serves an already listening socket (systemd socket activation). */
gboolean hd_rpc_server_listen_fd (HdRpcServer *self, int fd, gboolean readonly, GError **error);

/* A client of a read-write socket whose peer is not root must pass
 * libvirt's polkit authentication (AUTH_POLKIT) before anything else;
 * @authorize gives the answers.  Without an authorizer (none set, or
 * NULL) such clients are refused with a libvirt error that says so.  Root
 * and the read-only sockets need no authentication.  Applies to clients
 * that connect after the call. */
void hd_rpc_server_set_authorizer (HdRpcServer *self, HdRpcAuthorizeFunc authorize, gpointer user_data);

/* Connections that have not completed CONNECT_OPEN by then are dropped
 * (not while an authentication check is pending, up to 5 minutes, and
 * not within this time after one ended). */
void hd_rpc_server_set_handshake_timeout (HdRpcServer *self, guint seconds);

guint hd_rpc_server_get_n_clients (HdRpcServer *self);

G_END_DECLS
