/* hostdevd: the PCI passthrough management daemon. */
#include "config.h"

#define G_LOG_DOMAIN "Hostdevd"

#include <locale.h>
#include <stdlib.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <gio/gio.h>
#include <systemd/sd-daemon.h>

#include "nodedev/inventory.h"

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

int
main (int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(HdInventory) inventory = NULL;
  gboolean version = FALSE;
  gboolean verbose = FALSE;
  const GOptionEntry entries[] = {
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, N_("Print debug messages"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print the version and exit"), NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

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

  g_message (_("Watching %u node devices"), hd_inventory_get_n_devices (inventory));
  sd_notify (0, "READY=1");
  g_main_loop_run (loop);
  return EXIT_SUCCESS;
}
