/* hostdevctl: a polkit authentication agent on the terminal, as systemctl
 * starts one, so that an admin logged in over ssh can type a password
 * when the daemon's polkit check asks for one. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _HdCtlAgent HdCtlAgent;

/* Starts pkttyagent for this session and waits until it is registered.
 * NULL when none is needed (uid 0: the daemon asks polkit nothing) or none
 * can be had (not installed, not startable): the call then goes ahead, and
 * polkit answers without asking. */
HdCtlAgent *hd_ctl_agent_open (void);

/* Whether polkit may ask the caller: only a person who can answer (stdin a
 * terminal) and who did not say --no-ask.  If so, *@agent is the agent
 * that asks (hd_ctl_agent_open), for the caller to keep until its call
 * returns; the call's "interactive" option is the return value. */
gboolean hd_ctl_agent_start (gboolean no_ask, HdCtlAgent **agent);
void hd_ctl_agent_close (HdCtlAgent *agent);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdCtlAgent, hd_ctl_agent_close)

G_END_DECLS
