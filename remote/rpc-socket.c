#include "config.h"

#define G_LOG_DOMAIN "HostdevdRpc"

#include "rpc-socket.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gunixsocketaddress.h>
#include <glib/gi18n.h>

#include "nodedev/error.h"

/* Another process answering on @path means it is live. */
static gboolean
socket_is_live (const char *path)
{
  g_autoptr(GSocket) probe = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, NULL);
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (path);

  return probe != NULL && g_socket_connect (probe, address, NULL, NULL);
}

/* What is at @path may go: nothing, or a socket nobody answers on. */
static gboolean
clear_path (const char *path, GError **error)
{
  struct stat st;

  if (lstat (path, &st) < 0)
    return TRUE;
  if (!S_ISSOCK (st.st_mode))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FAILED,
                   _("%s exists and is not a socket; refusing to replace it"), path);
      return FALSE;
    }
  if (socket_is_live (path))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FAILED,
                   _("another process is listening on %s (virtnodedevd or libvirtd?)"), path);
      return FALSE;
    }
  g_debug ("replacing stale socket %s", path);
  unlink (path);
  return TRUE;
}

GSocket *
hd_rpc_socket_listen (const char *path, guint mode, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  mode_t old_umask;
  gboolean bound;

  if (strlen (path) >= sizeof (((struct sockaddr_un *) NULL)->sun_path))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT, _("socket path too long: %s"), path);
      return NULL;
    }
  if (g_mkdir_with_parents (dir, 0755) < 0)
    {
      int saved = errno;
      g_set_error (error, HD_ERROR, HD_ERROR_FAILED, _("cannot create %s: %s"), dir, g_strerror (saved));
      return NULL;
    }
  if (!clear_path (path, error))
    return NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, error);
  if (socket == NULL)
    return NULL;
  address = g_unix_socket_address_new (path);
  /* Created with no access at all, opened up to @mode once bound: nobody
   * can connect in between with more rights than @mode gives. */
  old_umask = umask (0777);
  bound = g_socket_bind (socket, address, FALSE, error);
  umask (old_umask);
  if (!bound)
    return NULL;
  if (chmod (path, mode) < 0)
    {
      int saved = errno;
      unlink (path);
      g_set_error (error, HD_ERROR, HD_ERROR_FAILED, _("cannot chmod %s: %s"), path, g_strerror (saved));
      return NULL;
    }
  g_socket_set_listen_backlog (socket, SOMAXCONN);
  if (!g_socket_listen (socket, error))
    {
      unlink (path);
      return NULL;
    }
  return g_steal_pointer (&socket);
}

void
hd_rpc_socket_peer (GSocket *socket, HdRpcPeer *peer)
{
  g_autoptr(GCredentials) creds = g_socket_get_credentials (socket, NULL);
  pid_t pid = creds != NULL ? g_credentials_get_unix_pid (creds, NULL) : -1;

  peer->uid = creds != NULL ? (guint32) g_credentials_get_unix_user (creds, NULL) : G_MAXUINT32;
  peer->pid = pid > 0 ? (guint32) pid : 0;
  peer->start_time = 0;
}

guint64
hd_rpc_socket_process_start_time (guint32 pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%u/stat", pid);
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;
  const char *rest;
  guint64 value;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  /* The command name (field 2) may hold spaces and parentheses: the
   * fields after it start after the last ')'. */
  rest = strrchr (text, ')');
  if (rest == NULL)
    return 0;
  fields = g_strsplit (g_strstrip ((char *) rest + 1), " ", 0);
  /* fields[0] is field 3 (state): field 22 is fields[19]. */
  if (g_strv_length (fields) < 20 || !g_ascii_string_to_unsigned (fields[19], 10, 1, G_MAXUINT64, &value, NULL))
    return 0;
  return value;
}
