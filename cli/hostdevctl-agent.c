/* hostdevctl: pkttyagent, started and stopped around an operation. */
#include "config.h"

#include "hostdevctl-agent.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

/* pkttyagent's end of the notification pipe. */
#define NOTIFY_FD 3

/* How long to wait for the agent to register before going ahead without
 * it: long enough for a slow polkitd, short enough not to look hung. */
#define REGISTER_TIMEOUT_MS 10000

struct _HdCtlAgent {
  GPid pid;
};

/* In the child: the agent must not outlive hostdevctl (killed by Ctrl-C,
 * say) and keep the terminal. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

HdCtlAgent *
hd_ctl_agent_open (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *notify = g_strdup_printf ("%d", NOTIFY_FD);
  HdCtlAgent *agent;
  int fds[2];
  int source_fds[1];
  const int target_fds[1] = { NOTIFY_FD };
  GPollFD poll_fd;
  GPid pid;
  gboolean spawned;

  if (geteuid () == 0)
    return NULL;
  path = g_find_program_in_path ("pkttyagent");
  if (path == NULL)
    return NULL;
  if (!g_unix_open_pipe (fds, FD_CLOEXEC, &error))
    {
      g_debug ("No pipe for pkttyagent: %s", error->message);
      return NULL;
    }
  source_fds[0] = fds[1];
  {
    /* --fallback: a desktop session's own agent, if any, goes first. */
    const char *const argv[] = { path, "--notify-fd", notify, "--fallback", NULL };

    spawned = g_spawn_async_with_pipes_and_fds (NULL, argv, NULL,
                                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_CHILD_INHERITS_STDIN,
                                                die_with_parent, NULL, -1, -1, -1,
                                                source_fds, target_fds, 1,
                                                &pid, NULL, NULL, NULL, &error);
  }
  close (fds[1]);
  if (!spawned)
    {
      close (fds[0]);
      g_debug ("Cannot start pkttyagent: %s", error->message);
      return NULL;
    }
  /* The agent closes its end once it is registered, or dies trying:
   * either way the call may go now. */
  poll_fd.fd = fds[0];
  poll_fd.events = G_IO_IN | G_IO_HUP;
  poll_fd.revents = 0;
  while (g_poll (&poll_fd, 1, REGISTER_TIMEOUT_MS) < 0 && errno == EINTR)
    ;
  close (fds[0]);

  agent = g_new0 (HdCtlAgent, 1);
  agent->pid = pid;
  return agent;
}

void
hd_ctl_agent_close (HdCtlAgent *agent)
{
  if (agent == NULL)
    return;
  kill (agent->pid, SIGTERM);
  while (waitpid (agent->pid, NULL, 0) < 0 && errno == EINTR)
    ;
  g_spawn_close_pid (agent->pid);
  g_free (agent);
}

gboolean
hd_ctl_agent_start (gboolean no_ask, HdCtlAgent **agent)
{
  if (no_ask || !isatty (STDIN_FILENO))
    return FALSE;
  *agent = hd_ctl_agent_open ();
  return TRUE;
}
