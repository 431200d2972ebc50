/* The libvirt client behind HdDomainSource: one worker thread per URI.
 *
 * Why threads and libvirt's default event loop rather than libvirt-glib's
 * gvir_event_register() (GLib sources on the main context): every call
 * that reads domains is a synchronous RPC, and virConnectOpen on a hung
 * libvirtd never returns, so they have to run off the main loop whatever
 * runs libvirt's event loop.  With gvir_event_register libvirt's socket and
 * keepalive handlers would still run on the main loop, and its callbacks
 * would be tempted to call libvirt there; with virEventRegisterDefaultImpl
 * (libvirt's own, well-kept poll loop) on a thread of its own, nothing of
 * libvirt ever runs on hostdevd's main loop, and no new dependency comes
 * in (libvirt-glib 4.0 is not installed with libvirt-dev).  The event
 * thread only turns events into requests for the URI's worker; the worker
 * makes the calls (a hung qemu:///system never delays xen:///system) and
 * hands results to the main context (domain-source.c).
 *
 * Worker loop: disconnected → virConnectOpenReadOnly, retried after 1 s,
 * 2 s, … up to 30 s; connected → lifecycle events and the close callback
 * registered, keepalive on (5 s × 3, so a hung daemon counts as gone), the
 * full list sent, then requests from events, and every poll_ms a cheap
 * check (list + autostart + active) that catches what no event reports
 * (autostart) or what was missed.  One log message per state change. */
#include "config.h"

#include "domain-source-private.h"

#include <glib/gi18n.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "xml/hostdev-xml.h"

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000

typedef enum { REQ_QUIT, REQ_REFRESH, REQ_LOST } ReqKind;

typedef struct {
  ReqKind kind;
  guint gen;
  char *uuid;
  char *reason;
} Request;

typedef struct {
  gboolean autostart, active;
} Known;

struct _HdDsWorker {
  gatomicrefcount ref;
  char *uri;
  guint poll_ms;
  GAsyncQueue *requests;
  HdDsDeliver deliver;
  gpointer data;
  GDestroyNotify notify;
  GThread *thread;
  GMutex done_lock;
  GCond done_cond;
  gboolean done;              /* under done_lock: the worker has finished */
  /* Worker thread only: */
  virConnectPtr conn;
  guint gen;
  int lifecycle_id;
  gboolean close_registered;
  GHashTable *known;          /* uuid → Known: what was last delivered */
  int logged;                 /* last state logged: 0 none, 1 connected, 2 down */
};

typedef struct {
  HdDsWorker *w;
  guint gen;
} CallbackCtx;

static void
request_free (Request *r)
{
  g_free (r->uuid);
  g_free (r->reason);
  g_free (r);
}

static void
push (HdDsWorker *w, ReqKind kind, guint gen, const char *uuid, const char *reason)
{
  Request *r = g_new0 (Request, 1);
  r->kind = kind;
  r->gen = gen;
  r->uuid = g_strdup (uuid);
  r->reason = g_strdup (reason);
  g_async_queue_push (w->requests, r);
}

static HdDsWorker *
worker_ref (HdDsWorker *w)
{
  g_atomic_ref_count_inc (&w->ref);
  return w;
}

static void
worker_unref (HdDsWorker *w)
{
  if (!g_atomic_ref_count_dec (&w->ref))
    return;
  g_async_queue_unref (w->requests);
  g_clear_pointer (&w->known, g_hash_table_unref);
  g_mutex_clear (&w->done_lock);
  g_cond_clear (&w->done_cond);
  g_free (w->uri);
  g_free (w);
}

void
hd_ds_result_free (HdDsResult *r)
{
  if (r == NULL)
    return;
  g_free (r->uri);
  g_free (r->reason);
  g_free (r->uuid);
  g_clear_pointer (&r->domain, hd_domain_unref);
  g_clear_pointer (&r->all, g_ptr_array_unref);
  g_free (r);
}

static void
deliver (HdDsWorker *w, HdDsResultKind kind, const char *uuid, const char *reason,
         HdDomain *domain, GPtrArray *all)
{
  HdDsResult *r = g_new0 (HdDsResult, 1);
  r->kind = kind;
  r->uri = g_strdup (w->uri);
  r->uuid = g_strdup (uuid);
  r->reason = g_strdup (reason);
  r->domain = domain;
  r->all = all;
  w->deliver (r, w->data);
}

/* libvirt's message for the last failure on this thread. */
static char *
last_error (void)
{
  const char *m = virGetLastErrorMessage ();
  return g_strdup (m != NULL ? m : "unknown error");
}

/* --- libvirt's event loop: one thread for the process --- */

static void
silent_error (void *data, virErrorPtr err)
{
  /* libvirt prints every error to stderr unless told otherwise; the
   * worker reports what matters, once. */
}

static gpointer
event_thread (gpointer data)
{
  for (;;)
    if (virEventRunDefaultImpl () < 0)
      g_usleep (100 * 1000);
  return NULL;
}

static gboolean
libvirt_init (char **why)
{
  static gsize once;
  static int status;
  if (g_once_init_enter (&once)) {
    virSetErrorFunc (NULL, silent_error);
    if (virInitialize () < 0 || virEventRegisterDefaultImpl () < 0) {
      status = -1;
    } else {
      g_thread_unref (g_thread_new ("hd-libvirt-events", event_thread, NULL));
      status = 1;
    }
    g_once_init_leave (&once, 1);
  }
  if (status < 0) {
    g_autofree char *m = last_error ();
    *why = g_strdup_printf (_("cannot initialize libvirt: %s"), m);
    return FALSE;
  }
  return TRUE;
}

/* --- callbacks: on the event thread; they only queue requests --- */

static void
ctx_free (void *opaque)
{
  CallbackCtx *c = opaque;
  worker_unref (c->w);
  g_free (c);
}

static CallbackCtx *
ctx_new (HdDsWorker *w)
{
  CallbackCtx *c = g_new0 (CallbackCtx, 1);
  c->w = worker_ref (w);
  c->gen = w->gen;
  return c;
}

static int
lifecycle_cb (virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
  CallbackCtx *c = opaque;
  char uuid[VIR_UUID_STRING_BUFLEN];
  if (virDomainGetUUIDString (dom, uuid) == 0)
    push (c->w, REQ_REFRESH, c->gen, uuid, NULL);
  return 0;
}

static void
close_cb (virConnectPtr conn, int reason, void *opaque)
{
  CallbackCtx *c = opaque;
  const char *why = reason == VIR_CONNECT_CLOSE_REASON_EOF ? "end of file"
                    : reason == VIR_CONNECT_CLOSE_REASON_KEEPALIVE ? "keepalive timeout"
                    : reason == VIR_CONNECT_CLOSE_REASON_CLIENT ? "closed by the client"
                    : "error";
  push (c->w, REQ_LOST, c->gen, NULL, why);
}

/* --- the worker --- */

static GPtrArray *
parse_hostdevs (const char *xml, const char *which, GString *errors)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL, *uuid = NULL;
  GPtrArray *list = hd_hostdev_parse_domain (xml, &name, &uuid, &error);
  if (list != NULL)
    return list;
  if (errors->len > 0)
    g_string_append (errors, "; ");
  g_string_append_printf (errors, "%s: %s", which, error->message);
  return g_ptr_array_new_with_free_func ((GDestroyNotify) hd_hostdev_free);
}

static GPtrArray *
copy_hostdevs (GPtrArray *from)
{
  GPtrArray *to = g_ptr_array_new_full (from->len, (GDestroyNotify) hd_hostdev_free);
  for (guint i = 0; i < from->len; i++)
    g_ptr_array_add (to, hd_hostdev_copy (g_ptr_array_index (from, i)));
  return to;
}

static gboolean
no_domain (void)
{
  return virGetLastErrorCode () == VIR_ERR_NO_DOMAIN;
}

/* The snapshot of @dom; NULL with *gone when the domain no longer exists. */
static HdDomain *
snapshot (HdDsWorker *w, virDomainPtr dom, gboolean *gone)
{
  char uuid[VIR_UUID_STRING_BUFLEN];
  *gone = FALSE;
  if (virDomainGetUUIDString (dom, uuid) < 0)
    return NULL;
  g_autoptr(HdDomain) d = hd_domain_new (w->uri, virDomainGetName (dom), uuid);
  g_autoptr(GString) errors = g_string_new (NULL);

  int active = virDomainIsActive (dom);
  int persistent = virDomainIsPersistent (dom);
  if (active < 0 || persistent < 0) {
    *gone = no_domain ();
    return NULL;
  }
  int autostart = 0;
  if (virDomainGetAutostart (dom, &autostart) < 0)
    autostart = 0;
  d->state = active ? HD_DOMAIN_RUNNING : HD_DOMAIN_DEFINED;
  d->persistent = persistent;
  d->autostart = autostart != 0;

  /* Live XML for a running domain, the only XML for a shut-off one. */
  g_autofree char *xml = virDomainGetXMLDesc (dom, 0);
  if (xml == NULL) {
    if ((*gone = no_domain ()))
      return NULL;
    g_autofree char *m = last_error ();
    g_string_append_printf (errors, _("cannot read the domain XML: %s"), m);
  } else {
    g_ptr_array_unref (d->hostdevs);
    d->hostdevs = parse_hostdevs (xml, active ? _("live XML") : _("XML"), errors);
  }
  if (!active) {
    g_ptr_array_unref (d->config_hostdevs);
    d->config_hostdevs = copy_hostdevs (d->hostdevs);
  } else if (persistent) {
    g_autofree char *config = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_INACTIVE);
    if (config == NULL) {
      if ((*gone = no_domain ()))
        return NULL;
      g_autofree char *m = last_error ();
      if (errors->len > 0)
        g_string_append (errors, "; ");
      g_string_append_printf (errors, _("cannot read the inactive domain XML: %s"), m);
    } else {
      g_ptr_array_unref (d->config_hostdevs);
      d->config_hostdevs = parse_hostdevs (config, _("inactive XML"), errors);
    }
  }
  if (errors->len > 0)
    d->error = g_strdup (errors->str);

  Known *k = g_new0 (Known, 1);
  k->autostart = d->autostart;
  k->active = active;
  g_hash_table_replace (w->known, g_strdup (uuid), k);
  return g_steal_pointer (&d);
}

static void
forget (HdDsWorker *w, const char *uuid)
{
  if (g_hash_table_remove (w->known, uuid))
    deliver (w, HD_DS_REMOVED, uuid, NULL, NULL, NULL);
}

static void
refresh_one (HdDsWorker *w, const char *uuid)
{
  virDomainPtr dom = virDomainLookupByUUIDString (w->conn, uuid);
  if (dom == NULL) {
    if (no_domain ())
      forget (w, uuid);
    /* Anything else is the connection: its close callback follows. */
    return;
  }
  gboolean gone;
  HdDomain *d = snapshot (w, dom, &gone);
  virDomainFree (dom);
  if (d != NULL)
    deliver (w, HD_DS_DOMAIN, NULL, NULL, d, NULL);
  else if (gone)
    forget (w, uuid);
}

static void
drop_connection (HdDsWorker *w)
{
  if (w->conn == NULL)
    return;
  if (w->lifecycle_id >= 0)
    virConnectDomainEventDeregisterAny (w->conn, w->lifecycle_id);
  if (w->close_registered)
    virConnectUnregisterCloseCallback (w->conn, close_cb);
  virConnectClose (w->conn);
  w->conn = NULL;
  w->lifecycle_id = -1;
  w->close_registered = FALSE;
  w->gen++;
}

/* The full list after (re)connecting. */
static gboolean
sync_all (HdDsWorker *w)
{
  virDomainPtr *doms = NULL;
  int n = virConnectListAllDomains (w->conn, &doms, 0);
  if (n < 0)
    return FALSE;
  GPtrArray *all = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_domain_unref);
  g_hash_table_remove_all (w->known);
  for (int i = 0; i < n; i++) {
    gboolean gone;
    HdDomain *d = snapshot (w, doms[i], &gone);
    if (d != NULL)
      g_ptr_array_add (all, d);
    virDomainFree (doms[i]);
  }
  free (doms);
  deliver (w, HD_DS_SYNC, NULL, NULL, NULL, all);
  return TRUE;
}

static gboolean
try_connect (HdDsWorker *w, char **why)
{
  w->conn = virConnectOpenReadOnly (w->uri);
  if (w->conn == NULL) {
    *why = last_error ();
    return FALSE;
  }
  w->gen++;
  w->close_registered = virConnectRegisterCloseCallback (w->conn, close_cb, ctx_new (w), ctx_free) == 0;
  /* Registered before listing, so nothing defined meanwhile is missed. */
  w->lifecycle_id = virConnectDomainEventRegisterAny (w->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                      VIR_DOMAIN_EVENT_CALLBACK (lifecycle_cb),
                                                      ctx_new (w), ctx_free);
  virConnectSetKeepAlive (w->conn, 5, 3);
  if (w->lifecycle_id < 0 || !w->close_registered) {
    *why = last_error ();
    drop_connection (w);
    return FALSE;
  }
  deliver (w, HD_DS_CONNECTED, NULL, NULL, NULL, NULL);
  if (!sync_all (w)) {
    *why = last_error ();
    drop_connection (w);
    deliver (w, HD_DS_DISCONNECTED, NULL, *why, NULL, NULL);
    return FALSE;
  }
  return TRUE;
}

/* Catches what no event reports (autostart) and anything missed. */
static void
poll_all (HdDsWorker *w)
{
  virDomainPtr *doms = NULL;
  int n = virConnectListAllDomains (w->conn, &doms, 0);
  if (n < 0)
    return;
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (int i = 0; i < n; i++) {
    char uuid[VIR_UUID_STRING_BUFLEN];
    int autostart = 0;
    if (virDomainGetUUIDString (doms[i], uuid) == 0) {
      g_hash_table_add (seen, g_strdup (uuid));
      Known *k = g_hash_table_lookup (w->known, uuid);
      int active = virDomainIsActive (doms[i]);
      if (virDomainGetAutostart (doms[i], &autostart) < 0)
        autostart = 0;
      if (k == NULL || (active >= 0 && (gboolean) active != k->active) || (autostart != 0) != k->autostart)
        refresh_one (w, uuid);
    }
    virDomainFree (doms[i]);
  }
  free (doms);
  g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, w->known);
  while (g_hash_table_iter_next (&it, &key, NULL))
    if (!g_hash_table_contains (seen, key))
      g_ptr_array_add (gone, g_strdup (key));
  for (guint i = 0; i < gone->len; i++)
    forget (w, g_ptr_array_index (gone, i));
}

static gpointer
worker_thread (gpointer data)
{
  HdDsWorker *w = data;
  guint backoff = BACKOFF_FIRST_MS;
  gint64 next_try = 0, next_poll = 0;

  g_autofree char *init_error = NULL;
  if (!libvirt_init (&init_error)) {
    g_message ("%s: %s", w->uri, init_error);
    next_try = G_MAXINT64;
  }

  for (;;) {
    gint64 now = g_get_monotonic_time ();
    if (w->conn == NULL && now >= next_try) {
      g_autofree char *why = NULL;
      if (try_connect (w, &why)) {
        if (w->logged != 1)
          g_message (_("libvirt: connected to %s"), w->uri);
        w->logged = 1;
        backoff = BACKOFF_FIRST_MS;
        next_poll = g_get_monotonic_time () + (gint64) w->poll_ms * 1000;
      } else {
        if (w->logged != 2)
          g_message (_("libvirt: cannot connect to %s (%s); retrying in the background"), w->uri, why);
        w->logged = 2;
        next_try = g_get_monotonic_time () + (gint64) backoff * 1000;
        backoff = MIN (backoff * 2, BACKOFF_MAX_MS);
      }
      now = g_get_monotonic_time ();
    }
    gint64 deadline = w->conn != NULL ? next_poll : next_try;
    Request *r = deadline == G_MAXINT64 ? g_async_queue_pop (w->requests)
                 : g_async_queue_timeout_pop (w->requests, (guint64) MAX (deadline - now, 0));
    if (r == NULL) {
      if (w->conn != NULL) {
        poll_all (w);
        next_poll = g_get_monotonic_time () + (gint64) w->poll_ms * 1000;
      }
      continue;
    }
    ReqKind kind = r->kind;
    if (kind == REQ_REFRESH && w->conn != NULL && r->gen == w->gen) {
      refresh_one (w, r->uuid);
    } else if (kind == REQ_LOST && w->conn != NULL && r->gen == w->gen) {
      drop_connection (w);
      g_message (_("libvirt: lost the connection to %s (%s)"), w->uri, r->reason);
      w->logged = 0;
      deliver (w, HD_DS_DISCONNECTED, NULL, r->reason, NULL, NULL);
      next_try = g_get_monotonic_time ();   /* at once, then backing off */
      backoff = BACKOFF_FIRST_MS;
    }
    request_free (r);
    if (kind == REQ_QUIT)
      break;
  }
  drop_connection (w);
  if (w->notify != NULL)
    w->notify (w->data);
  g_mutex_lock (&w->done_lock);
  w->done = TRUE;
  g_cond_broadcast (&w->done_cond);
  g_mutex_unlock (&w->done_lock);
  worker_unref (w);
  return NULL;
}

HdDsWorker *
hd_ds_worker_start (const char *uri, guint poll_ms, HdDsDeliver deliver_fn, gpointer data,
                    GDestroyNotify notify)
{
  HdDsWorker *w = g_new0 (HdDsWorker, 1);
  g_atomic_ref_count_init (&w->ref);
  w->uri = g_strdup (uri);
  w->poll_ms = poll_ms;
  w->requests = g_async_queue_new_full ((GDestroyNotify) request_free);
  w->deliver = deliver_fn;
  w->data = data;
  w->notify = notify;
  w->lifecycle_id = -1;
  w->known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_mutex_init (&w->done_lock);
  g_cond_init (&w->done_cond);
  g_autofree char *name = g_strdup_printf ("hd-libvirt-%.5s", uri);
  w->thread = g_thread_new (name, worker_thread, worker_ref (w));
  return w;
}

/* A worker that finishes in time is joined: one still ending while the
 * process exits races libcrypto's exit handler (libvirt's), which frees
 * the same thread-local state as the thread's own destructor (a double
 * free AddressSanitizer caught at SIGTERM).  One blocked in libvirt is
 * not waited for longer. */
#define WORKER_STOP_WAIT_US (2 * G_TIME_SPAN_SECOND)

void
hd_ds_worker_stop (HdDsWorker *w)
{
  gint64 deadline = g_get_monotonic_time () + WORKER_STOP_WAIT_US;
  gboolean done;

  push (w, REQ_QUIT, 0, NULL, NULL);
  g_mutex_lock (&w->done_lock);
  while (!w->done && g_cond_wait_until (&w->done_cond, &w->done_lock, deadline))
    ;
  done = w->done;
  g_mutex_unlock (&w->done_lock);
  if (done)
    g_thread_join (g_steal_pointer (&w->thread));
  else
    g_clear_pointer (&w->thread, g_thread_unref);
  worker_unref (w);
}
