/* AUTH_LIST and AUTH_POLKIT, as libvirt 9.0's remote dispatcher answers
 * them on a unix socket with auth_unix_rw = "polkit"
 * (remoteDispatchAuthList, remoteDispatchAuthPolkit, virPolkitCheckAuth):
 * the same auth types, the same polkit action and subject, and the same
 * error codes, domains and texts, so that virsh reacts as it does with
 * libvirtd (an agent started on "no polkit agent available", retries on
 * "access denied by policy").  The check itself is the authorizer's. */
#include "config.h"

#define G_LOG_DOMAIN "HostdevdRpc"

#include "rpc-connection-private.h"

#include <glib/gi18n.h>

#include "rpc-protocol.h"

/* virerror.c's prefixes of the authentication codes.  Set here rather than
 * through hd_rpc_error_set() so that a prefix is never applied twice. */
static void
auth_error (HdRpcError *err, int code, int domain, const char *text)
{
  const char *prefix;

  switch (code)
    {
    case VIR_ERR_AUTH_FAILED: prefix = "authentication failed: "; break;
    case VIR_ERR_AUTH_UNAVAILABLE: prefix = "authentication unavailable: "; break;
    case VIR_ERR_AUTH_CANCELLED: prefix = "authentication cancelled: "; break;
    default: g_assert_not_reached ();
    }
  g_free (err->message);
  err->code = code;
  err->domain = domain;
  err->message = g_strconcat (prefix, text, NULL);
}

void
hd_rpc_connection_require_auth (HdRpcConnection *c, const HdRpcPeer *peer,
                                HdRpcAuthorizeFunc authorize, gpointer user_data)
{
  c->auth_required = TRUE;
  c->authenticated = FALSE;
  c->peer = *peer;
  c->authorize = authorize;
  c->authorize_data = user_data;
}

gint64
hd_rpc_connection_get_auth_activity (HdRpcConnection *c)
{
  return c->auth_cancellable != NULL ? G_MAXINT64 : c->auth_finished;
}

void
hd_rpc_connection_auth_clear (HdRpcConnection *c)
{
  if (c->auth_cancellable == NULL)
    return;
  g_cancellable_cancel (c->auth_cancellable);
  g_clear_object (&c->auth_cancellable);
}

/* The root bypass is libvirt's: root is not asked, so that a missing or
 * broken polkit never locks root out.  hostdevd decides it when the
 * client connects (the server does not require authentication of root)
 * rather than here, so root may skip AUTH_LIST altogether. */
static gboolean
proc_auth_list (HdRpcConnection *c, HdXdrReader *args, HdXdrWriter *ret, HdRpcError *err)
{
  hd_xdr_write_u32 (ret, 1);
  hd_xdr_write_i32 (ret, c->auth_required && !c->authenticated ? HD_RPC_AUTH_POLKIT : HD_RPC_AUTH_NONE);
  return TRUE;
}

static void
auth_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HdRpcPendingCall *call = user_data;
  HdRpcConnection *c = hd_rpc_pending_call_get_connection (call);
  g_autoptr(GError) error = NULL;
  g_auto(HdRpcError) err = { 0 };
  g_auto(HdXdrWriter) ret = { 0 };
  gssize answer = g_task_propagate_int (G_TASK (result), &error);

  if (c == NULL)
    {
      /* The client went away meanwhile: nobody to answer. */
      g_debug ("an authentication check ended after its client had gone");
      hd_rpc_pending_call_return (call);
      return;
    }
  g_clear_object (&c->auth_cancellable);
  c->auth_finished = g_get_monotonic_time ();

  if (error != NULL)
    {
      g_autofree char *text =
        g_strdup_printf (_("polkit could not be asked whether uid %u may use the read-write socket (%s)"),
                         c->peer.uid, error->message);

      g_debug ("client (pid %u, uid %u): %s", c->peer.pid, c->peer.uid, text);
      auth_error (&err, VIR_ERR_AUTH_FAILED, VIR_FROM_RPC, text);
      hd_rpc_pending_call_error (call, &err);
      return;
    }

  switch ((HdRpcAuthResult) answer)
    {
    case HD_RPC_AUTH_ALLOWED:
      g_debug ("polkit allowed %s to client pid %u, uid %u", HD_RPC_POLKIT_ACTION_MANAGE,
               c->peer.pid, c->peer.uid);
      c->authenticated = TRUE;
      hd_xdr_writer_init (&ret);
      hd_xdr_write_i32 (&ret, 1);     /* complete */
      hd_rpc_pending_call_return_value (call, &ret);
      return;
    case HD_RPC_AUTH_DISMISSED:
      auth_error (&err, VIR_ERR_AUTH_CANCELLED, VIR_FROM_POLKIT, _("user cancelled authentication process"));
      break;
    case HD_RPC_AUTH_CHALLENGE:
      {
        g_autofree char *text = g_strdup_printf (_("no polkit agent available to authenticate action '%s'"),
                                                 HD_RPC_POLKIT_ACTION_MANAGE);
        auth_error (&err, VIR_ERR_AUTH_UNAVAILABLE, VIR_FROM_POLKIT, text);
      }
      break;
    case HD_RPC_AUTH_DENIED:
    default:
      auth_error (&err, VIR_ERR_AUTH_FAILED, VIR_FROM_POLKIT, _("access denied by policy"));
      break;
    }
  g_debug ("polkit refused %s to client pid %u, uid %u: %s", HD_RPC_POLKIT_ACTION_MANAGE,
           c->peer.pid, c->peer.uid, err.message);
  hd_rpc_pending_call_error (call, &err);
}

static gboolean
proc_auth_polkit (HdRpcConnection *c, HdXdrReader *args, HdRpcPendingCall *call, HdRpcError *err)
{
  GTask *task;

  if (!c->auth_required)
    {
      /* The read-only socket, and root: AUTH_LIST said NONE. */
      hd_rpc_error_set (err, VIR_ERR_INTERNAL_ERROR, VIR_FROM_RPC, "%s",
                        _("client tried invalid PolicyKit init request"));
      return FALSE;
    }
  if (c->authenticated)
    {
      g_auto(HdXdrWriter) ret = { 0 };

      hd_xdr_writer_init (&ret);
      hd_xdr_write_i32 (&ret, 1);
      hd_rpc_pending_call_return_value (call, &ret);
      return TRUE;
    }
  if (c->auth_cancellable != NULL)
    {
      /* One check at a time: a client cannot pile up checks. */
      hd_rpc_error_set (err, VIR_ERR_RPC, VIR_FROM_RPC, "%s",
                        _("an authentication check is already in progress on this connection"));
      return FALSE;
    }
  if (c->authorize == NULL)
    {
      g_autofree char *text =
        g_strdup_printf (_("hostdevd has no polkit to authorize uid %u on the read-write socket; "
                           "connect as root, or use the read-only socket"), c->peer.uid);
      auth_error (err, VIR_ERR_AUTH_FAILED, VIR_FROM_RPC, text);
      return FALSE;
    }
  if (c->peer.start_time == 0)
    {
      /* libvirt refuses too: without the start time polkit cannot tell
       * the process from a later one with the same pid. */
      g_autofree char *text = g_strdup_printf (_("the start time of process %u is unknown"), c->peer.pid);
      auth_error (err, VIR_ERR_AUTH_FAILED, VIR_FROM_RPC, text);
      return FALSE;
    }

  g_debug ("asking polkit whether client pid %u, uid %u may do %s", c->peer.pid, c->peer.uid,
           HD_RPC_POLKIT_ACTION_MANAGE);
  c->auth_cancellable = g_cancellable_new ();
  task = g_task_new (NULL, c->auth_cancellable, auth_done, call);
  g_task_set_source_tag (task, proc_auth_polkit);
  c->authorize (&c->peer, HD_RPC_POLKIT_ACTION_MANAGE, task, c->authorize_data);
  return TRUE;
}

static const HdRpcProcedureDef auth_procedures[] = {
  { HD_PROC_AUTH_LIST, proc_auth_list, TRUE, NULL, TRUE },
  { HD_PROC_AUTH_POLKIT, NULL, TRUE, proc_auth_polkit, TRUE },
};

const HdRpcProcedureDef *
hd_rpc_auth_procedures (guint *n)
{
  *n = G_N_ELEMENTS (auth_procedures);
  return auth_procedures;
}
