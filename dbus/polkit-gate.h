/* Authorization of the D-Bus door's mutations.
 *
 * Each check is asynchronous, so one caller waiting for an admin's
 * password never holds up the others.  It denies unless polkit says yes:
 * an unreachable polkit is a "no".  A caller whose uid is 0 is allowed
 * without asking polkit, as systemd's services allow root (root can write
 * to sysfs itself; a prompt would only get in a script's way). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _HdPolkitGate HdPolkitGate;

HdPolkitGate *hd_polkit_gate_new (void);
void hd_polkit_gate_free (HdPolkitGate *gate);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdPolkitGate, hd_polkit_gate_free)

/* Asks whether the sender of @invocation may do @action_id.  @details
 * (string → string, may be NULL) are shown to polkit rules and agents.
 * @interactive lets polkit ask the caller to authenticate. */
void hd_polkit_gate_check_async (HdPolkitGate *gate, GDBusMethodInvocation *invocation,
                                 const char *action_id, GHashTable *details, gboolean interactive,
                                 GAsyncReadyCallback callback, gpointer user_data);
/* TRUE if allowed; otherwise HD_ERROR_NOT_AUTHORIZED with the reason. */
gboolean hd_polkit_gate_check_finish (HdPolkitGate *gate, GAsyncResult *result, GError **error);

/* polkit's answer about a process. */
typedef enum {
  HD_POLKIT_ALLOWED,
  HD_POLKIT_DENIED,          /* not authorized */
  HD_POLKIT_CHALLENGE,       /* authentication is needed, and no agent could ask for it */
  HD_POLKIT_DISMISSED,       /* the user dismissed the agent's dialog */
} HdPolkitAnswer;

/* Asks whether the process @pid (started at @start_time, field 22 of
 * /proc/PID/stat) of user @uid may do @action_id: a unix-process subject,
 * for callers that are not on the bus (the libvirt door).  @interactive
 * lets polkit ask the user through an agent.  uid 0 is allowed without
 * asking.  @cancellable NULL: the gate's own (cancelled when it goes). */
void hd_polkit_gate_check_process_async (HdPolkitGate *gate, guint32 pid, guint64 start_time, guint32 uid,
                                         const char *action_id, gboolean interactive,
                                         GCancellable *cancellable, GAsyncReadyCallback callback,
                                         gpointer user_data);
/* The answer, or -1 with @error when polkit could not be asked. */
int hd_polkit_gate_check_process_finish (HdPolkitGate *gate, GAsyncResult *result, GError **error);

G_END_DECLS
