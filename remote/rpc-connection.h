/* One libvirt RPC client connection, independent of the socket: packets
 * in, packets out through a callback.  It holds the handshake state
 * (opened, read-only, identity), the event registrations, and dispatches
 * calls to the procedure table. */
#pragma once

#include <glib.h>

#include "hostdev/engine.h"
#include "nodedev/inventory.h"
#include "rpc-auth.h"

G_BEGIN_DECLS

typedef struct _HdRpcConnection HdRpcConnection;

/* Takes ownership of nothing: @packet is a complete packet, length word
 * included. */
typedef void (*HdRpcSendFunc) (GBytes *packet, gpointer user_data);

/* @engine may be NULL: the mutations then answer "not supported". */
HdRpcConnection *hd_rpc_connection_new (HdInventory *inventory,
                                        HdEngine *engine,
                                        gboolean readonly_socket,
                                        guint peer_uid,
                                        HdRpcSendFunc send,
                                        gpointer user_data);
void hd_rpc_connection_free (HdRpcConnection *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdRpcConnection, hd_rpc_connection_free)

/* Handles one packet (without its length word).  Returns FALSE when the
 * connection must be closed once the queued replies are written: after
 * CONNECT_CLOSE, or on a packet that breaks the protocol. */
gboolean hd_rpc_connection_dispatch (HdRpcConnection *c, const guint8 *packet, gsize len);

/* The peer must authenticate: AUTH_LIST answers REMOTE_AUTH_POLKIT, and
 * every call but AUTH_LIST and AUTH_POLKIT is refused with libvirt's
 * "authentication required" until @authorize has allowed the peer.  With
 * @authorize NULL every AUTH_POLKIT fails.  Call it before the first
 * packet. */
void hd_rpc_connection_require_auth (HdRpcConnection *c, const HdRpcPeer *peer,
                                     HdRpcAuthorizeFunc authorize, gpointer user_data);

/* G_MAXINT64 while an authentication check is pending; otherwise the
 * monotonic time the last one ended, or 0 if there was none. */
gint64 hd_rpc_connection_get_auth_activity (HdRpcConnection *c);

/* TRUE once CONNECT_OPEN succeeded. */
gboolean hd_rpc_connection_is_open (HdRpcConnection *c);

/* Inventory events, sent to the callbacks this client registered. */
void hd_rpc_connection_device_event (HdRpcConnection *c, HdNodeDevice *dev, int lifecycle_event);
void hd_rpc_connection_device_update (HdRpcConnection *c, HdNodeDevice *dev);

G_END_DECLS
