#include "config.h"

#include "rpc-authorizer.h"

typedef struct {
  GTask *task;               /* the RPC door's */
  HdPolkitGate *gate;        /* not owned */
} Request;

static void
on_answer (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Request *req = user_data;
  GError *error = NULL;
  int answer = hd_polkit_gate_check_process_finish (req->gate, result, &error);

  if (answer < 0)
    g_task_return_error (req->task, error);
  else
    switch ((HdPolkitAnswer) answer)
      {
      case HD_POLKIT_ALLOWED: g_task_return_int (req->task, HD_RPC_AUTH_ALLOWED); break;
      case HD_POLKIT_CHALLENGE: g_task_return_int (req->task, HD_RPC_AUTH_CHALLENGE); break;
      case HD_POLKIT_DISMISSED: g_task_return_int (req->task, HD_RPC_AUTH_DISMISSED); break;
      case HD_POLKIT_DENIED:
      default: g_task_return_int (req->task, HD_RPC_AUTH_DENIED); break;
      }
  g_object_unref (req->task);
  g_free (req);
}

void
hd_rpc_authorize_with_polkit (const HdRpcPeer *peer, const char *action_id, GTask *task, gpointer gate)
{
  Request *req = g_new0 (Request, 1);

  req->task = task;
  req->gate = gate;
  /* As libvirt's virPolkitCheckAuth: polkit may ask the user (virsh runs
   * pkttyagent when it says no agent was there to ask). */
  hd_polkit_gate_check_process_async (gate, peer->pid, peer->start_time, peer->uid, action_id, TRUE,
                                      g_task_get_cancellable (task), on_answer, req);
}
