/* hostdevd: the PCI passthrough management daemon. */
#include "config.h"

#define G_LOG_DOMAIN "Hostdevd"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <gio/gio.h>
#include <systemd/sd-daemon.h>

#include "dbus/dbus-service.h"
#include "hostdev/engine.h"
#include "nodedev/inventory.h"
#include "remote/rpc-server.h"
#include "rpc-authorizer.h"

#define DEFAULT_RW_SOCKET RUNSTATEDIR "/libvirt/virtnodedevd-sock"
#define DEFAULT_RO_SOCKET RUNSTATEDIR "/libvirt/virtnodedevd-sock-ro"
#define DEFAULT_STATE_DIR RUNSTATEDIR "/hostdevd"
#define DEFAULT_ASSIGNMENTS_DIR LOCALSTATEDIR "/lib/hostdevd/assignments"

static void
on_recovered (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;

  if (!hd_engine_recover_finish (HD_ENGINE (source), result, &error))
    g_warning (_("Could not finish what the previous run left half done: %s"), error->message);
}

static gboolean
on_quit_signal (gpointer user_data)
{
  GMainLoop *loop = user_data;

  sd_notify (0, "STOPPING=1");
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static void
on_device_added (HdInventory *inventory, HdNodeDevice *dev, gpointer user_data)
{
  g_message (_("Device %s added"), dev->name);
}

static void
on_device_removed (HdInventory *inventory, HdNodeDevice *dev, gpointer user_data)
{
  g_message (_("Device %s removed"), dev->name);
}

static void
on_device_changed (HdInventory *inventory, HdNodeDevice *dev, gpointer user_data)
{
  g_debug ("Device %s changed (driver %s)", dev->name, dev->driver ? dev->driver : "none");
}

static gboolean
on_watchdog (gpointer user_data)
{
  sd_notify (0, "WATCHDOG=1");
  return G_SOURCE_CONTINUE;
}

/* WatchdogSec= of the unit: pinged from the main loop, so a loop that
 * stops turning (a blocked handler) gets the daemon restarted. */
static void
start_watchdog (void)
{
  uint64_t usec = 0;

  if (sd_watchdog_enabled (TRUE, &usec) > 0 && usec > 0)
    g_timeout_add (MAX (usec / 2000, 1), on_watchdog, NULL);
}

/* The directory systemd made for the unit ($RUNTIME_DIRECTORY from
 * RuntimeDirectory=, $STATE_DIRECTORY from StateDirectory=) is the one
 * its sandbox lets hostdevd write to, whatever prefix this build has
 * (/usr/local's state lives in /var/local).  Outside systemd, or with a
 * list of several, the build's own path. */
static char *
default_dir (const char *variable, const char *subdir, const char *fallback)
{
  const char *dir = g_getenv (variable);

  if (dir == NULL || !g_path_is_absolute (dir) || strchr (dir, ':') != NULL)
    return g_strdup (fallback);
  return g_build_filename (dir, subdir, NULL);
}

/* A thousand idle clients must not lock out the next one: take every
 * descriptor the hard limit allows. */
static void
raise_fd_limit (void)
{
  struct rlimit rl;

  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
}

/* Sockets handed over by systemd: the one whose path is @ro_path is the
 * read-only one.  Returns how many were taken. */
static int
listen_activated (HdRpcServer *server, const char *ro_path, GError **error)
{
  int n = sd_listen_fds (TRUE);

  for (int i = 0; i < n; i++)
    {
      int fd = SD_LISTEN_FDS_START + i;
      gboolean readonly = sd_is_socket_unix (fd, SOCK_STREAM, 1, ro_path, 0) > 0;

      if (sd_is_socket_unix (fd, SOCK_STREAM, 1, NULL, 0) <= 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("socket activation passed fd %d, which is not a listening unix socket"), fd);
          return -1;
        }
      if (!hd_rpc_server_listen_fd (server, fd, readonly, error))
        return -1;
    }
  return MAX (n, 0);
}

int
main (int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(HdInventory) inventory = NULL;
  g_autoptr(HdPolkitGate) rpc_polkit = NULL;   /* outlives rpc: declared before it */
  g_autoptr(HdRpcServer) rpc = NULL;
  g_autoptr(HdSysfsWriter) writer = NULL;
  g_autoptr(HdEngine) engine = NULL;
  g_autoptr(HdDBusService) dbus = NULL;
  gboolean no_dbus = FALSE;
  g_autofree char *assignments_dir = NULL;
  g_auto(GStrv) libvirt_uris = NULL;
  gboolean no_libvirt = FALSE;
  g_autoptr(HdDomainSource) domains = NULL;
  g_autofree char *state_dir = NULL;
  g_autofree char *rw_socket = NULL;
  g_autofree char *ro_socket = NULL;
  gboolean version = FALSE;
  gboolean verbose = FALSE;
  int handshake_timeout = 30;
  int n_activated;

  setlocale (LC_ALL, "");
  /* HOSTDEVD_LOCALEDIR: the translations of a build tree, before install
   * (the test of the Korean messages uses it). */
  bindtextdomain (GETTEXT_PACKAGE, g_getenv ("HOSTDEVD_LOCALEDIR") != NULL ?
                  g_getenv ("HOSTDEVD_LOCALEDIR") : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_autofree char *default_state_dir = default_dir ("RUNTIME_DIRECTORY", NULL, DEFAULT_STATE_DIR);
  g_autofree char *default_assignments_dir = default_dir ("STATE_DIRECTORY", "assignments",
                                                          DEFAULT_ASSIGNMENTS_DIR);

  /* The defaults are paths of this build: formatted into the translated
   * text, which GOption then looks up again (and finds as it is). */
  g_autofree char *help_rw = g_strdup_printf (_("The read-write libvirt socket (default %s)"), DEFAULT_RW_SOCKET);
  g_autofree char *help_ro = g_strdup_printf (_("The read-only libvirt socket (default %s)"), DEFAULT_RO_SOCKET);
  g_autofree char *help_state = g_strdup_printf (_("Where the journal of detached devices lives (default %s)"),
                                                 default_state_dir);
  g_autofree char *help_assignments = g_strdup_printf (_("Where assignments made through hostdevd are kept "
                                                         "(default %s)"), default_assignments_dir);
  const GOptionEntry entries[] = {
    { "socket", 0, 0, G_OPTION_ARG_FILENAME, &rw_socket,
      help_rw, N_("PATH") },
    { "ro-socket", 0, 0, G_OPTION_ARG_FILENAME, &ro_socket,
      help_ro, N_("PATH") },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir,
      help_state, N_("DIR") },
    { "handshake-timeout", 0, 0, G_OPTION_ARG_INT, &handshake_timeout,
      N_("Drop clients that have not opened a connection after this many seconds (default 30)"), N_("SECONDS") },
    { "assignments-dir", 0, 0, G_OPTION_ARG_FILENAME, &assignments_dir,
      help_assignments, N_("DIR") },
    { "libvirt-uri", 0, 0, G_OPTION_ARG_STRING_ARRAY, &libvirt_uris,
      N_("Follow the domains of this libvirt connection (repeatable; default qemu:///system, and "
         "xen:///system on Xen)"), N_("URI") },
    { "no-libvirt", 0, 0, G_OPTION_ARG_NONE, &no_libvirt,
      N_("Do not follow libvirt's domains"), NULL },
    { "no-dbus", 0, 0, G_OPTION_ARG_NONE, &no_dbus,
      N_("Do not offer the D-Bus API (org.hostdevd1) on the system bus"), NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, N_("Print debug messages"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print the version and exit"), NULL },
    { NULL }
  };

  context = g_option_context_new (NULL);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, _("Manage PCI device assignment to virtual machines."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      return EXIT_FAILURE;
    }
  if (version)
    {
      g_print ("hostdevd %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }
  if (verbose)
    g_log_set_debug_enabled (TRUE);

  if (rw_socket == NULL)
    rw_socket = g_strdup (DEFAULT_RW_SOCKET);
  if (ro_socket == NULL)
    ro_socket = g_strdup (DEFAULT_RO_SOCKET);
  if (state_dir == NULL)
    state_dir = g_steal_pointer (&default_state_dir);
  raise_fd_limit ();

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_quit_signal, loop);
  g_unix_signal_add (SIGINT, on_quit_signal, loop);

  inventory = hd_inventory_new (geteuid () == 0, &error);
  if (inventory == NULL)
    {
      g_printerr (_("Cannot enumerate devices: %s\n"), error->message);
      return EXIT_FAILURE;
    }
  g_signal_connect (inventory, "device-added", G_CALLBACK (on_device_added), NULL);
  g_signal_connect (inventory, "device-removed", G_CALLBACK (on_device_removed), NULL);
  g_signal_connect (inventory, "device-changed", G_CALLBACK (on_device_changed), NULL);

  writer = hd_sysfs_writer_new_kernel ();
  engine = hd_engine_new (inventory, writer, state_dir, &error);
  if (engine == NULL)
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILURE;
    }
  /* Interrupted operations of a previous run are finished before any
   * client's operation on those devices (they queue behind it). */
  hd_engine_recover_async (engine, on_recovered, NULL);

  rpc = hd_rpc_server_new (inventory, engine);
  hd_rpc_server_set_handshake_timeout (rpc, (guint) MAX (handshake_timeout, 1));
  /* Non-root clients of the read-write socket pass libvirt's polkit check
   * (org.libvirt.unix.manage), as with Debian's virtnodedevd. */
  rpc_polkit = hd_polkit_gate_new ();
  hd_rpc_server_set_authorizer (rpc, hd_rpc_authorize_with_polkit, rpc_polkit);
  n_activated = listen_activated (rpc, ro_socket, &error);
  if (n_activated < 0)
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILURE;
    }
  if (n_activated == 0 &&
      (!hd_rpc_server_listen_path (rpc, rw_socket, 0666, FALSE, &error) ||
       !hd_rpc_server_listen_path (rpc, ro_socket, 0666, TRUE, &error)))
    {
      g_printerr (_("Cannot listen for libvirt clients: %s\n"), error->message);
      return EXIT_FAILURE;
    }

  if (!no_dbus)
    {
      dbus = hd_dbus_service_new (inventory, engine,
                                  assignments_dir != NULL ? assignments_dir : default_assignments_dir, &error);
      if (dbus == NULL)
        {
          g_printerr ("%s\n", error->message);
          return EXIT_FAILURE;
        }
      /* libvirt's domains feed the assignments, which only D-Bus shows. */
      if (!no_libvirt)
        {
          g_auto(GStrv) defaults = hd_domain_source_default_uris ();

          domains = hd_domain_source_new ((const char *const *) (libvirt_uris != NULL ? libvirt_uris : defaults),
                                          5000);
          hd_dbus_service_set_domain_source (dbus, domains);
        }
      hd_dbus_service_start (dbus);
    }

  g_message (_("Watching %u node devices"), hd_inventory_get_n_devices (inventory));
  sd_notify (0, "READY=1");
  start_watchdog ();
  g_main_loop_run (loop);
  return EXIT_SUCCESS;
}
