/* Prints an HdDomainSource's signals as lines, for test-domain-source.py:
 *
 *   domain-source-watch [--poll-ms N] URI…
 *
 *   connected URI
 *   disconnected URI REASON
 *   changed URI NAME UUID STATE autostart=0|1 persistent=0|1 hostdevs=A,B config=A,B error=TEXT|-
 *   removed URI NAME UUID
 *
 * A line "list" on stdin prints "list-begin", one "domain …" line per
 * hd_domain_source_list() entry (same fields as "changed") and "list-end";
 * end of stdin ends the program. */
#include "config.h"

#include <stdio.h>
#include <gio/gio.h>
#include <gio/gunixinputstream.h>

#include "hostdev/domain-source.h"
#include "xml/hostdev-xml.h"

static char *
addresses (GPtrArray *hostdevs)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < hostdevs->len; i++) {
    HdHostdev *h = g_ptr_array_index (hostdevs, i);
    g_autofree char *a = hd_pci_address_to_string (&h->source);
    g_string_append_printf (s, "%s%s", i > 0 ? "," : "", a);
  }
  if (s->len == 0)
    g_string_append (s, "-");
  return g_string_free (s, FALSE);
}

static void
print_domain (const char *what, HdDomain *d)
{
  g_autofree char *now = addresses (d->hostdevs);
  g_autofree char *next = addresses (d->config_hostdevs);
  printf ("%s %s %s %s %s autostart=%d persistent=%d hostdevs=%s config=%s error=%s\n", what, d->uri,
          d->name, d->uuid, hd_domain_state_to_string (d->state), d->autostart, d->persistent, now, next,
          d->error != NULL ? d->error : "-");
  fflush (stdout);
}

static void
on_connected (HdDomainSource *src, const char *uri, gpointer data)
{
  printf ("connected %s\n", uri);
  fflush (stdout);
}

static void
on_disconnected (HdDomainSource *src, const char *uri, const char *reason, gpointer data)
{
  printf ("disconnected %s %s\n", uri, reason);
  fflush (stdout);
}

static void
on_changed (HdDomainSource *src, HdDomain *d, gpointer data)
{
  print_domain ("changed", d);
}

static void
on_removed (HdDomainSource *src, const char *uri, const char *uuid, const char *name, gpointer data)
{
  printf ("removed %s %s %s\n", uri, name, uuid);
  fflush (stdout);
}

typedef struct {
  HdDomainSource *src;
  GMainLoop *loop;
  GDataInputStream *in;
} App;

static void read_line (App *app);

static void
on_line (GObject *stream, GAsyncResult *res, gpointer data)
{
  App *app = data;
  g_autofree char *line = g_data_input_stream_read_line_finish (app->in, res, NULL, NULL);
  if (line == NULL) {
    g_main_loop_quit (app->loop);
    return;
  }
  if (g_str_equal (g_strstrip (line), "list")) {
    g_autoptr(GPtrArray) list = hd_domain_source_list (app->src);
    printf ("list-begin\n");
    for (guint i = 0; i < list->len; i++)
      print_domain ("domain", g_ptr_array_index (list, i));
    printf ("list-end\n");
    fflush (stdout);
  }
  read_line (app);
}

static void
read_line (App *app)
{
  g_data_input_stream_read_line_async (app->in, G_PRIORITY_DEFAULT, NULL, on_line, app);
}

static gboolean
quit_later (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  int poll_ms = 0;
  g_auto(GStrv) uris = NULL;
  GOptionEntry entries[] = {
    { "poll-ms", 0, 0, G_OPTION_ARG_INT, &poll_ms, "autostart poll interval", "MS" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &uris, NULL, "URI…" },
    { NULL },
  };
  g_autoptr(GOptionContext) oc = g_option_context_new ("URI…");
  g_autoptr(GError) error = NULL;
  g_option_context_add_main_entries (oc, entries, NULL);
  if (!g_option_context_parse (oc, &argc, &argv, &error)) {
    fprintf (stderr, "%s\n", error->message);
    return 2;
  }

  App app = { 0 };
  app.loop = g_main_loop_new (NULL, FALSE);
  app.src = hd_domain_source_new ((const char *const *) uris, (guint) MAX (poll_ms, 0));
  g_signal_connect (app.src, "connected", G_CALLBACK (on_connected), NULL);
  g_signal_connect (app.src, "disconnected", G_CALLBACK (on_disconnected), NULL);
  g_signal_connect (app.src, "domain-changed", G_CALLBACK (on_changed), NULL);
  g_signal_connect (app.src, "domain-removed", G_CALLBACK (on_removed), NULL);
  g_autoptr(GInputStream) raw = g_unix_input_stream_new (0, FALSE);
  app.in = g_data_input_stream_new (raw);
  read_line (&app);
  g_main_loop_run (app.loop);

  g_object_unref (app.in);
  g_object_unref (app.src);
  /* Let the workers close their connections and end before exiting. */
  g_timeout_add (300, quit_later, app.loop);
  g_main_loop_run (app.loop);
  g_main_loop_unref (app.loop);
  return 0;
}
