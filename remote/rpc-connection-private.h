/* Shared between the connection and the procedure tables. */
#pragma once

#include "rpc-connection.h"
#include "rpc-error.h"
#include "xdr.h"

typedef struct {
  gint32 callback_id;
  gint32 event_id;
  char *device;              /* NULL: every device */
} HdRpcEventRegistration;

struct _HdRpcConnection {
  HdInventory *inventory;
  HdEngine *engine;          /* NULL: detach/reattach/reset are not supported */
  GPtrArray *pending;        /* HdRpcPendingCall still running */
  gboolean readonly;
  gboolean open;
  gboolean closing;
  guint peer_uid;
  /* Authentication (rpc-auth.c): with auth_required, nothing but the
   * AUTH_* calls until a check allowed the peer. */
  gboolean auth_required;
  gboolean authenticated;
  HdRpcPeer peer;
  HdRpcAuthorizeFunc authorize;  /* NULL: no authority, every check fails */
  gpointer authorize_data;
  GCancellable *auth_cancellable; /* set while a check is pending */
  gint64 auth_finished;          /* monotonic time the last check ended, 0: none */
  GHashTable *identity;      /* CONNECT_SET_IDENTITY parameters, as text */
  GArray *events;            /* HdRpcEventRegistration */
  gint32 next_callback_id;
  HdRpcSendFunc send;
  gpointer send_data;
};

/* A handler decodes its arguments from @args, writes its return value to
 * @ret and returns TRUE, or fills @err and returns FALSE. */
typedef gboolean (*HdRpcHandler) (HdRpcConnection *c, HdXdrReader *args,
                                  HdXdrWriter *ret, HdRpcError *err);

/* A call answered later (the engine's operations): the handler either
 * takes @call and completes it exactly once with
 * hd_rpc_pending_call_return()/_error(), possibly after the client has
 * gone (the answer is then dropped), or returns FALSE with @err. */
typedef struct _HdRpcPendingCall HdRpcPendingCall;
typedef gboolean (*HdRpcAsyncHandler) (HdRpcConnection *c, HdXdrReader *args,
                                       HdRpcPendingCall *call, HdRpcError *err);

void hd_rpc_pending_call_return (HdRpcPendingCall *call);
/* Returns @ret (the procedure's XDR-encoded return value). */
void hd_rpc_pending_call_return_value (HdRpcPendingCall *call, const HdXdrWriter *ret);
void hd_rpc_pending_call_error (HdRpcPendingCall *call, const HdRpcError *err);
/* The connection of @call, or NULL once the client has gone. */
HdRpcConnection *hd_rpc_pending_call_get_connection (HdRpcPendingCall *call);

typedef struct {
  gint32 proc;
  HdRpcHandler handler;
  gboolean before_open;      /* allowed before CONNECT_OPEN */
  HdRpcAsyncHandler async_handler;  /* instead of @handler */
  gboolean before_auth;      /* allowed before authentication (AUTH_*) */
} HdRpcProcedureDef;

/* The authentication procedures (rpc-auth.c). */
const HdRpcProcedureDef *hd_rpc_auth_procedures (guint *n);

/* Cancels a pending check: the connection is going away. */
void hd_rpc_connection_auth_clear (HdRpcConnection *c);

/* The node-device procedures (nodedev-procedures.c). */
const HdRpcProcedureDef *hd_rpc_nodedev_procedures (guint *n);

/* "Unable to decode message payload", libvirt's answer to bad arguments. */
gboolean hd_rpc_decode_failed (HdRpcError *err);

/* virCheckFlags's refusal for @function. */
gboolean hd_rpc_unsupported_flags (HdRpcError *err, guint flags, const char *function);

/* Event registrations, for the event procedures: a new callback id, or an
 * error once a connection holds too many. */
gboolean hd_rpc_connection_add_event (HdRpcConnection *c, gint32 event_id, const char *device,
                                      gint32 *callback_id, HdRpcError *err);
gboolean hd_rpc_connection_remove_event (HdRpcConnection *c, gint32 callback_id, HdRpcError *err);
