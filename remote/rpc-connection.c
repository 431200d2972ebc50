#include "config.h"

#define G_LOG_DOMAIN "HostdevdRpc"

#include "rpc-connection-private.h"

#include <glib/gi18n.h>

#include "rpc-message.h"
#include "rpc-protocol.h"

/* Event registrations one client may hold: virsh and python hold one per
 * event id; the bound keeps a looping client from growing the daemon. */
#define MAX_EVENT_REGISTRATIONS 64

gboolean
hd_rpc_decode_failed (HdRpcError *err)
{
  hd_rpc_error_set (err, VIR_ERR_RPC, VIR_FROM_RPC, "Unable to decode message payload");
  return FALSE;
}

gboolean
hd_rpc_unsupported_flags (HdRpcError *err, guint flags, const char *function)
{
  hd_rpc_error_set (err, VIR_ERR_INVALID_ARG, VIR_FROM_NODEDEV,
                    "unsupported flags (0x%x) in function %s", flags, function);
  return FALSE;
}

static void
event_registration_clear (gpointer data)
{
  HdRpcEventRegistration *reg = data;

  g_free (reg->device);
}

struct _HdRpcPendingCall {
  HdRpcConnection *c;        /* NULL once the client is gone */
  HdRpcHeader header;
};

HdRpcConnection *
hd_rpc_connection_new (HdInventory *inventory, HdEngine *engine, gboolean readonly_socket,
                       guint peer_uid, HdRpcSendFunc send, gpointer user_data)
{
  HdRpcConnection *c = g_new0 (HdRpcConnection, 1);

  c->inventory = g_object_ref (inventory);
  c->engine = engine ? g_object_ref (engine) : NULL;
  c->pending = g_ptr_array_new ();
  c->readonly = readonly_socket;
  c->peer_uid = peer_uid;
  c->send = send;
  c->send_data = user_data;
  c->next_callback_id = 1;
  c->events = g_array_new (FALSE, TRUE, sizeof (HdRpcEventRegistration));
  g_array_set_clear_func (c->events, event_registration_clear);
  c->identity = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return c;
}

void
hd_rpc_connection_free (HdRpcConnection *c)
{
  if (c == NULL)
    return;
  /* Operations outlive the client that asked: their answers go nowhere. */
  for (guint i = 0; i < c->pending->len; i++)
    ((HdRpcPendingCall *) g_ptr_array_index (c->pending, i))->c = NULL;
  g_ptr_array_unref (c->pending);
  /* After the loop above: a check that completes as it is cancelled finds
   * its call without a connection. */
  hd_rpc_connection_auth_clear (c);
  g_clear_object (&c->engine);
  g_clear_object (&c->inventory);
  g_clear_pointer (&c->events, g_array_unref);
  g_clear_pointer (&c->identity, g_hash_table_unref);
  g_free (c);
}

gboolean
hd_rpc_connection_is_open (HdRpcConnection *c)
{
  return c->open;
}

static void
send_packet (HdRpcConnection *c, HdXdrWriter *w)
{
  g_autoptr(GBytes) packet = hd_rpc_packet_finish (w);

  c->send (packet, c->send_data);
}

static void
reply (HdRpcConnection *c, const HdRpcHeader *call, const HdXdrWriter *payload, const HdRpcError *err)
{
  g_auto(HdXdrWriter) w = { 0 };
  HdRpcHeader h = *call;

  h.type = HD_RPC_REPLY;
  h.status = err ? HD_RPC_ERROR : HD_RPC_OK;
  hd_xdr_writer_init (&w);
  hd_rpc_packet_begin (&w, &h);
  if (err != NULL)
    hd_rpc_write_error (&w, err->code, err->domain, err->message);
  else if (payload != NULL)
    g_byte_array_append (w.buf, payload->buf->data, payload->buf->len);
  send_packet (c, &w);
}

static void
reply_error (HdRpcConnection *c, const HdRpcHeader *call, int code, int domain, const char *format, ...) G_GNUC_PRINTF (5, 6);

static void
reply_error (HdRpcConnection *c, const HdRpcHeader *call, int code, int domain, const char *format, ...)
{
  g_auto(HdRpcError) err = { 0 };
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  hd_rpc_error_set (&err, code, domain, "%s", text);
  reply (c, call, NULL, &err);
}

/* --- connection-level procedures ---------------------------------------- */

static gboolean
proc_supports_feature (HdRpcConnection *c, HdXdrReader *args, HdXdrWriter *ret, HdRpcError *err)
{
  gint32 feature;

  if (!hd_xdr_read_i32 (args, &feature))
    return hd_rpc_decode_failed (err);
  hd_xdr_write_i32 (ret, feature == HD_RPC_FEATURE_PROGRAM_KEEPALIVE);
  return TRUE;
}

/* Accepts what virsh and python send for nodedev:///system (the URI
 * rebuilt without host or socket parameters), and the empty name of the
 * remote: scheme. */
static gboolean
check_uri (const char *name, HdRpcError *err)
{
  g_autoptr(GUri) uri = NULL;

  if (name == NULL || *name == '\0')
    return TRUE;
  uri = g_uri_parse (name, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_strcmp0 (g_uri_get_scheme (uri), "nodedev") != 0)
    {
      hd_rpc_error_set (err, VIR_ERR_NO_CONNECT, VIR_FROM_NONE, "%s", name);
      return FALSE;
    }
  if (g_strcmp0 (g_uri_get_path (uri), "/system") != 0)
    {
      hd_rpc_error_set (err, VIR_ERR_INTERNAL_ERROR, VIR_FROM_NODEDEV,
                        "unexpected nodedev URI path '%s', try nodedev:///system",
                        g_uri_get_path (uri));
      return FALSE;
    }
  return TRUE;
}

static gboolean
proc_connect_open (HdRpcConnection *c, HdXdrReader *args, HdXdrWriter *ret, HdRpcError *err)
{
  g_autofree char *name = NULL;
  guint32 flags;

  if (!hd_xdr_read_opt_string (args, HD_RPC_STRING_MAX, &name) || !hd_xdr_read_u32 (args, &flags))
    return hd_rpc_decode_failed (err);
  if (c->open)
    {
      hd_rpc_error_set (err, VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC, "connection already open");
      return FALSE;
    }
  if (!check_uri (name, err))
    return FALSE;
  /* The -ro socket forces read-only, whatever the flags say. */
  if (flags & VIR_CONNECT_RO)
    c->readonly = TRUE;
  c->open = TRUE;
  return TRUE;
}

static gboolean
proc_connect_close (HdRpcConnection *c, HdXdrReader *args, HdXdrWriter *ret, HdRpcError *err)
{
  c->closing = TRUE;
  return TRUE;
}

static gboolean
read_typed_param (HdXdrReader *args, char **field, char **value)
{
  gint32 type;

  if (!hd_xdr_read_string (args, HD_RPC_TYPED_PARAM_FIELD_LENGTH, field) ||
      !hd_xdr_read_i32 (args, &type))
    return FALSE;
  switch (type)
    {
    case VIR_TYPED_PARAM_INT:
    case VIR_TYPED_PARAM_UINT:
    case VIR_TYPED_PARAM_BOOLEAN:
      {
        guint32 v;
        if (!hd_xdr_read_u32 (args, &v))
          return FALSE;
        *value = type == VIR_TYPED_PARAM_INT ? g_strdup_printf ("%d", (gint32) v)
                                             : g_strdup_printf ("%u", v);
        return TRUE;
      }
    case VIR_TYPED_PARAM_LLONG:
    case VIR_TYPED_PARAM_ULLONG:
    case VIR_TYPED_PARAM_DOUBLE:
      {
        guint64 v;
        if (!hd_xdr_read_u64 (args, &v))
          return FALSE;
        *value = g_strdup_printf ("%" G_GUINT64_FORMAT, v);
        return TRUE;
      }
    case VIR_TYPED_PARAM_STRING:
      return hd_xdr_read_string (args, HD_RPC_STRING_MAX, value);
    default:
      return FALSE;
    }
}

/* Modular libvirt daemons forward their callers' identity with this; only
 * root may claim to speak for someone else. */
static gboolean
proc_set_identity (HdRpcConnection *c, HdXdrReader *args, HdXdrWriter *ret, HdRpcError *err)
{
  g_autoptr(GHashTable) identity = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  guint32 n, flags;

  if (!hd_xdr_read_u32 (args, &n) || n > HD_RPC_IDENTITY_PARAMS_MAX)
    return hd_rpc_decode_failed (err);
  for (guint32 i = 0; i < n; i++)
    {
      g_autofree char *field = NULL;
      g_autofree char *value = NULL;

      if (!read_typed_param (args, &field, &value))
        return hd_rpc_decode_failed (err);
      g_hash_table_replace (identity, g_steal_pointer (&field), g_steal_pointer (&value));
    }
  if (!hd_xdr_read_u32 (args, &flags))
    return hd_rpc_decode_failed (err);
  if (flags != 0)
    return hd_rpc_unsupported_flags (err, flags, "remoteDispatchConnectSetIdentity");
  if (c->peer_uid != 0)
    {
      hd_rpc_error_set (err, VIR_ERR_ACCESS_DENIED, VIR_FROM_ACCESS,
                        "only root may set the identity of a connection");
      return FALSE;
    }
  g_clear_pointer (&c->identity, g_hash_table_unref);
  c->identity = g_steal_pointer (&identity);
  return TRUE;
}

static const HdRpcProcedureDef connection_procedures[] = {
  { HD_PROC_CONNECT_SUPPORTS_FEATURE, proc_supports_feature, TRUE },
  { HD_PROC_CONNECT_OPEN, proc_connect_open, TRUE },
  { HD_PROC_CONNECT_CLOSE, proc_connect_close, TRUE },
  { HD_PROC_CONNECT_SET_IDENTITY, proc_set_identity, FALSE },
};

static const HdRpcProcedureDef *
find_procedure (gint32 proc)
{
  const HdRpcProcedureDef *table;
  guint n;

  for (guint i = 0; i < G_N_ELEMENTS (connection_procedures); i++)
    if (connection_procedures[i].proc == proc)
      return &connection_procedures[i];
  table = hd_rpc_auth_procedures (&n);
  for (guint i = 0; i < n; i++)
    if (table[i].proc == proc)
      return &table[i];
  table = hd_rpc_nodedev_procedures (&n);
  for (guint i = 0; i < n; i++)
    if (table[i].proc == proc)
      return &table[i];
  return NULL;
}

static void
keepalive (HdRpcConnection *c, const HdRpcHeader *h)
{
  g_auto(HdXdrWriter) w = { 0 };
  HdRpcHeader pong = {
    HD_RPC_KEEPALIVE_PROGRAM, HD_RPC_KEEPALIVE_VERSION, HD_RPC_KEEPALIVE_PONG,
    HD_RPC_MESSAGE, 0, HD_RPC_OK
  };

  if (h->vers != HD_RPC_KEEPALIVE_VERSION || h->type != HD_RPC_MESSAGE ||
      h->proc != HD_RPC_KEEPALIVE_PING)
    return;   /* PONGs and anything else need no answer */
  hd_xdr_writer_init (&w);
  hd_rpc_packet_begin (&w, &pong);
  send_packet (c, &w);
}

gboolean
hd_rpc_connection_dispatch (HdRpcConnection *c, const guint8 *packet, gsize len)
{
  g_auto(HdXdrWriter) ret = { 0 };
  g_auto(HdRpcError) err = { 0 };
  const HdRpcProcedureDef *def;
  HdXdrReader r;
  HdRpcHeader h;

  hd_xdr_reader_init (&r, packet, len);
  if (!hd_rpc_header_decode (&r, &h))
    return FALSE;

  if (h.prog == HD_RPC_KEEPALIVE_PROGRAM)
    {
      keepalive (c, &h);
      return TRUE;
    }

  if (h.type != HD_RPC_CALL)
    {
      /* A client sends calls and keepalives only; it cannot pass file
       * descriptors here, and a stray reply or stream packet is dropped. */
      if (h.type == HD_RPC_CALL_WITH_FDS)
        reply_error (c, &h, VIR_ERR_RPC, VIR_FROM_RPC, "Unexpected message type %u", h.type);
      return TRUE;
    }

  if (h.prog != HD_RPC_REMOTE_PROGRAM || h.vers != HD_RPC_REMOTE_VERSION)
    {
      reply_error (c, &h, VIR_ERR_RPC, VIR_FROM_RPC, "Cannot find program %d version %d",
                   (int) h.prog, (int) h.vers);
      return TRUE;
    }

  def = find_procedure (h.proc);
  if (def == NULL)
    {
      reply_error (c, &h, VIR_ERR_RPC, VIR_FROM_RPC, "unknown procedure: %d", h.proc);
      return TRUE;
    }
  /* libvirt's virNetServerProgramDispatchCall: VIR_ERR_RPC rather than
   * VIR_ERR_AUTH_FAILED, for clients that do not know that code. */
  if (c->auth_required && !c->authenticated && !def->before_auth)
    {
      reply_error (c, &h, VIR_ERR_RPC, VIR_FROM_RPC, "%s", _("authentication required"));
      return TRUE;
    }
  if (!c->open && !def->before_open)
    {
      reply_error (c, &h, VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC, "connection not open");
      return TRUE;
    }

  if (def->async_handler != NULL)
    {
      HdRpcPendingCall *call = g_new0 (HdRpcPendingCall, 1);

      call->c = c;
      call->header = h;
      g_ptr_array_add (c->pending, call);
      if (!def->async_handler (c, &r, call, &err))
        hd_rpc_pending_call_error (call, &err);
      return !c->closing;
    }

  hd_xdr_writer_init (&ret);
  if (def->handler (c, &r, &ret, &err))
    reply (c, &h, &ret, NULL);
  else
    reply (c, &h, NULL, &err);

  return !c->closing;
}

static void
pending_call_finish (HdRpcPendingCall *call, const HdXdrWriter *payload, const HdRpcError *err)
{
  if (call->c != NULL)
    {
      g_ptr_array_remove (call->c->pending, call);
      reply (call->c, &call->header, payload, err);
    }
  g_free (call);
}

void
hd_rpc_pending_call_return (HdRpcPendingCall *call)
{
  pending_call_finish (call, NULL, NULL);
}

void
hd_rpc_pending_call_return_value (HdRpcPendingCall *call, const HdXdrWriter *ret)
{
  pending_call_finish (call, ret, NULL);
}

void
hd_rpc_pending_call_error (HdRpcPendingCall *call, const HdRpcError *err)
{
  pending_call_finish (call, NULL, err);
}

HdRpcConnection *
hd_rpc_pending_call_get_connection (HdRpcPendingCall *call)
{
  return call->c;
}

static void
send_event (HdRpcConnection *c, gint32 proc, const HdRpcEventRegistration *reg,
            const char *name, gint32 event)
{
  g_auto(HdXdrWriter) w = { 0 };
  HdRpcHeader h = { HD_RPC_REMOTE_PROGRAM, HD_RPC_REMOTE_VERSION, proc, HD_RPC_MESSAGE, 0, HD_RPC_OK };

  hd_xdr_writer_init (&w);
  hd_rpc_packet_begin (&w, &h);
  hd_xdr_write_i32 (&w, reg->callback_id);
  hd_xdr_write_string (&w, name);
  if (proc == HD_PROC_NODE_DEVICE_EVENT_LIFECYCLE)
    {
      hd_xdr_write_i32 (&w, event);
      hd_xdr_write_i32 (&w, 0);   /* detail: libvirt has none for node devices */
    }
  send_packet (c, &w);
}

static void
dispatch_event (HdRpcConnection *c, gint32 event_id, HdNodeDevice *dev, gint32 event)
{
  gint32 proc = event_id == VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE
                ? HD_PROC_NODE_DEVICE_EVENT_LIFECYCLE : HD_PROC_NODE_DEVICE_EVENT_UPDATE;

  for (guint i = 0; i < c->events->len; i++)
    {
      const HdRpcEventRegistration *reg = &g_array_index (c->events, HdRpcEventRegistration, i);
      if (reg->event_id == event_id &&
          (reg->device == NULL || g_str_equal (reg->device, dev->name)))
        send_event (c, proc, reg, dev->name, event);
    }
}

void
hd_rpc_connection_device_event (HdRpcConnection *c, HdNodeDevice *dev, int lifecycle_event)
{
  dispatch_event (c, VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE, dev, lifecycle_event);
}

void
hd_rpc_connection_device_update (HdRpcConnection *c, HdNodeDevice *dev)
{
  dispatch_event (c, VIR_NODE_DEVICE_EVENT_ID_UPDATE, dev, 0);
}

gboolean
hd_rpc_connection_add_event (HdRpcConnection *c, gint32 event_id, const char *device,
                             gint32 *callback_id, HdRpcError *err)
{
  HdRpcEventRegistration reg = { 0 };

  if (c->events->len >= MAX_EVENT_REGISTRATIONS)
    {
      hd_rpc_error_set (err, VIR_ERR_OPERATION_FAILED, VIR_FROM_RPC,
                        "too many event registrations on this connection (at most %d)",
                        MAX_EVENT_REGISTRATIONS);
      return FALSE;
    }
  reg.callback_id = c->next_callback_id++;
  reg.event_id = event_id;
  reg.device = g_strdup (device);
  g_array_append_val (c->events, reg);
  *callback_id = reg.callback_id;
  g_debug ("client (uid %u) registered event callback %d: %s events of %s", c->peer_uid,
           reg.callback_id, event_id == VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE ? "lifecycle" : "update",
           device != NULL ? device : "every device");
  return TRUE;
}

gboolean
hd_rpc_connection_remove_event (HdRpcConnection *c, gint32 callback_id, HdRpcError *err)
{
  for (guint i = 0; i < c->events->len; i++)
    if (g_array_index (c->events, HdRpcEventRegistration, i).callback_id == callback_id)
      {
        g_array_remove_index (c->events, i);
        return TRUE;
      }
  hd_rpc_error_set (err, VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC,
                    "node device event callback %d not registered", callback_id);
  return FALSE;
}
