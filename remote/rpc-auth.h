/* Authentication of libvirt RPC clients, as libvirt's unix sockets do it
 * with auth_unix_rw = "polkit": a client of the read-write socket whose
 * peer is not root must pass REMOTE_PROC_AUTH_POLKIT before any other
 * call than the authentication ones.  remote/ only asks; who answers (the
 * polkit authority) is plugged in by the daemon as an authorizer. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* libvirt's polkit action for the read-write socket (libvirtd.policy):
 * existing rules, such as "members of group libvirt may", apply. */
#define HD_RPC_POLKIT_ACTION_MANAGE "org.libvirt.unix.manage"

/* The peer of a connection, from SO_PEERCRED and /proc/PID/stat. */
typedef struct {
  guint32 uid;
  guint32 pid;
  guint64 start_time;        /* field 22 of /proc/PID/stat; 0: unknown */
} HdRpcPeer;

/* The authority's answer (polkit's CheckAuthorization result). */
typedef enum {
  HD_RPC_AUTH_ALLOWED,
  HD_RPC_AUTH_DENIED,        /* not authorized */
  HD_RPC_AUTH_CHALLENGE,     /* authentication needed, and no agent could ask for it */
  HD_RPC_AUTH_DISMISSED,     /* the user dismissed the agent's dialog */
} HdRpcAuthResult;

/* Asks whether @peer may do @action_id, letting the authority ask the user
 * (polkit's AllowUserInteraction).  Takes @task and completes it exactly
 * once, at once or later, on the main context: g_task_return_int() with an
 * HdRpcAuthResult, or g_task_return_error() when the authority could not
 * be asked.  @task's cancellable is cancelled when the client goes away;
 * the answer is then ignored.  @peer is only valid during the call. */
typedef void (*HdRpcAuthorizeFunc) (const HdRpcPeer *peer, const char *action_id, GTask *task,
                                    gpointer user_data);

G_END_DECLS
