/* HdDomainSource: the main-loop side (see domain-source.h); the libvirt
 * side is domain-source-libvirt.c. */
#include "config.h"

#include "domain-source-private.h"

#include "xml/hostdev-xml.h"

/* --- HdDomain --- */

HdDomain *
hd_domain_new (const char *uri, const char *name, const char *uuid)
{
  HdDomain *d = g_new0 (HdDomain, 1);
  d->refcount = 1;
  d->uri = g_strdup (uri);
  d->name = g_strdup (name);
  d->uuid = g_strdup (uuid);
  d->hostdevs = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_hostdev_free);
  d->config_hostdevs = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_hostdev_free);
  return d;
}

HdDomain *
hd_domain_ref (HdDomain *domain)
{
  g_atomic_int_inc (&domain->refcount);
  return domain;
}

void
hd_domain_unref (HdDomain *domain)
{
  if (domain == NULL || !g_atomic_int_dec_and_test (&domain->refcount))
    return;
  g_free (domain->uri);
  g_free (domain->name);
  g_free (domain->uuid);
  g_ptr_array_unref (domain->hostdevs);
  g_ptr_array_unref (domain->config_hostdevs);
  g_free (domain->error);
  g_free (domain);
}

G_DEFINE_BOXED_TYPE (HdDomain, hd_domain, hd_domain_ref, hd_domain_unref)

static gboolean
hostdevs_equal (GPtrArray *a, GPtrArray *b)
{
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++)
    if (!hd_hostdev_equal (g_ptr_array_index (a, i), g_ptr_array_index (b, i)))
      return FALSE;
  return TRUE;
}

gboolean
hd_domain_equal (const HdDomain *a, const HdDomain *b)
{
  return g_strcmp0 (a->uri, b->uri) == 0 && g_strcmp0 (a->name, b->name) == 0
         && g_strcmp0 (a->uuid, b->uuid) == 0 && a->state == b->state
         && a->autostart == b->autostart && a->persistent == b->persistent
         && g_strcmp0 (a->error, b->error) == 0 && hostdevs_equal (a->hostdevs, b->hostdevs)
         && hostdevs_equal (a->config_hostdevs, b->config_hostdevs);
}

const char *
hd_domain_state_to_string (HdDomainState state)
{
  return state == HD_DOMAIN_RUNNING ? "running" : "defined";
}

/* --- between the workers and the main context --- */

typedef struct {
  gatomicrefcount ref;
  GMainContext *context;
  GMutex lock;
  GQueue results;          /* HdDsResult*, under lock */
  gboolean scheduled;      /* a drain is queued on the context, under lock */
  HdDomainSource *owner;   /* main context only; NULL once disposed */
} Shared;

static Shared *
shared_ref (Shared *s)
{
  g_atomic_ref_count_inc (&s->ref);
  return s;
}

static void
shared_unref (gpointer data)
{
  Shared *s = data;
  if (!g_atomic_ref_count_dec (&s->ref))
    return;
  g_queue_clear_full (&s->results, (GDestroyNotify) hd_ds_result_free);
  g_mutex_clear (&s->lock);
  g_main_context_unref (s->context);
  g_free (s);
}

struct _HdDomainSource {
  GObject parent;
  Shared *shared;
  GPtrArray *workers;       /* HdDsWorker* */
  GHashTable *domains;      /* "uri\nuuid" → HdDomain* */
  GHashTable *connected;    /* uri → uri, while connected */
};

G_DEFINE_FINAL_TYPE (HdDomainSource, hd_domain_source, G_TYPE_OBJECT)

enum { SIG_CONNECTED, SIG_DISCONNECTED, SIG_DOMAIN_CHANGED, SIG_DOMAIN_REMOVED, N_SIGNALS };
static guint signals[N_SIGNALS];

static char *
key_of (const char *uri, const char *uuid)
{
  return g_strconcat (uri, "\n", uuid, NULL);
}

static void
apply_domain (HdDomainSource *self, HdDomain *d)
{
  g_autofree char *key = key_of (d->uri, d->uuid);
  HdDomain *old = g_hash_table_lookup (self->domains, key);
  if (old != NULL && hd_domain_equal (old, d))
    return;
  g_hash_table_replace (self->domains, g_steal_pointer (&key), hd_domain_ref (d));
  g_signal_emit (self, signals[SIG_DOMAIN_CHANGED], 0, d);
}

static void
remove_domain (HdDomainSource *self, const char *uri, const char *uuid)
{
  g_autofree char *key = key_of (uri, uuid);
  char *stolen_key = NULL;
  HdDomain *old = NULL;
  if (!g_hash_table_steal_extended (self->domains, key, (gpointer *) &stolen_key, (gpointer *) &old))
    return;
  g_free (stolen_key);
  g_signal_emit (self, signals[SIG_DOMAIN_REMOVED], 0, old->uri, old->uuid, old->name);
  hd_domain_unref (old);
}

static void
apply_sync (HdDomainSource *self, const char *uri, GPtrArray *all)
{
  g_autoptr(GHashTable) now = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < all->len; i++)
    g_hash_table_add (now, ((HdDomain *) g_ptr_array_index (all, i))->uuid);
  g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, self->domains);
  while (g_hash_table_iter_next (&it, NULL, &value)) {
    HdDomain *d = value;
    if (g_str_equal (d->uri, uri) && !g_hash_table_contains (now, d->uuid))
      g_ptr_array_add (gone, g_strdup (d->uuid));
  }
  for (guint i = 0; i < gone->len; i++)
    remove_domain (self, uri, g_ptr_array_index (gone, i));
  for (guint i = 0; i < all->len; i++)
    apply_domain (self, g_ptr_array_index (all, i));
}

static void
apply (HdDomainSource *self, HdDsResult *r)
{
  switch (r->kind) {
  case HD_DS_CONNECTED:
    g_hash_table_add (self->connected, g_strdup (r->uri));
    g_signal_emit (self, signals[SIG_CONNECTED], 0, r->uri);
    break;
  case HD_DS_DISCONNECTED:
    if (g_hash_table_remove (self->connected, r->uri))
      g_signal_emit (self, signals[SIG_DISCONNECTED], 0, r->uri, r->reason);
    break;
  case HD_DS_DOMAIN:
    apply_domain (self, r->domain);
    break;
  case HD_DS_REMOVED:
    remove_domain (self, r->uri, r->uuid);
    break;
  case HD_DS_SYNC:
    apply_sync (self, r->uri, r->all);
    break;
  }
}

static gboolean
drain (gpointer data)
{
  Shared *s = data;
  GQueue taken = G_QUEUE_INIT;
  g_mutex_lock (&s->lock);
  taken = s->results;
  g_queue_init (&s->results);
  s->scheduled = FALSE;
  g_mutex_unlock (&s->lock);

  HdDsResult *r;
  HdDomainSource *self = s->owner != NULL ? g_object_ref (s->owner) : NULL;
  while ((r = g_queue_pop_head (&taken)) != NULL) {
    if (self != NULL && s->owner != NULL)
      apply (self, r);
    hd_ds_result_free (r);
  }
  g_clear_object (&self);
  return G_SOURCE_REMOVE;
}

/* On a worker thread. */
static void
deliver_cb (HdDsResult *r, gpointer data)
{
  Shared *s = data;
  g_mutex_lock (&s->lock);
  g_queue_push_tail (&s->results, r);
  gboolean schedule = !s->scheduled;
  s->scheduled = TRUE;
  g_mutex_unlock (&s->lock);
  if (schedule)
    g_main_context_invoke_full (s->context, G_PRIORITY_DEFAULT, drain, shared_ref (s), shared_unref);
}

/* --- the object --- */

char **
hd_domain_source_default_uris (void)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  g_strv_builder_add (b, "qemu:///system");
  if (g_file_test ("/proc/xen", G_FILE_TEST_IS_DIR))
    g_strv_builder_add (b, "xen:///system");
  return g_strv_builder_end (b);
}

HdDomainSource *
hd_domain_source_new (const char *const *uris, guint poll_ms)
{
  HdDomainSource *self = g_object_new (HD_TYPE_DOMAIN_SOURCE, NULL);
  g_auto(GStrv) defaults = uris == NULL ? hd_domain_source_default_uris () : NULL;
  const char *const *list = uris != NULL ? uris : (const char *const *) defaults;
  for (guint i = 0; list[i] != NULL; i++)
    g_ptr_array_add (self->workers,
                     hd_ds_worker_start (list[i], poll_ms != 0 ? poll_ms : 5000, deliver_cb,
                                         shared_ref (self->shared), shared_unref));
  return self;
}

static gint
compare_domains (gconstpointer a, gconstpointer b)
{
  const HdDomain *x = *(HdDomain *const *) a, *y = *(HdDomain *const *) b;
  int c = g_strcmp0 (x->uri, y->uri);
  if (c == 0)
    c = g_strcmp0 (x->name, y->name);
  return c != 0 ? c : g_strcmp0 (x->uuid, y->uuid);
}

GPtrArray *
hd_domain_source_list (HdDomainSource *self)
{
  g_return_val_if_fail (HD_IS_DOMAIN_SOURCE (self), NULL);
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_domain_unref);
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init (&it, self->domains);
  while (g_hash_table_iter_next (&it, NULL, &value))
    g_ptr_array_add (list, hd_domain_ref (value));
  g_ptr_array_sort (list, compare_domains);
  return list;
}

HdDomain *
hd_domain_source_lookup (HdDomainSource *self, const char *uri, const char *uuid)
{
  g_return_val_if_fail (HD_IS_DOMAIN_SOURCE (self), NULL);
  g_autofree char *key = key_of (uri, uuid);
  HdDomain *d = g_hash_table_lookup (self->domains, key);
  return d != NULL ? hd_domain_ref (d) : NULL;
}

gboolean
hd_domain_source_is_connected (HdDomainSource *self, const char *uri)
{
  g_return_val_if_fail (HD_IS_DOMAIN_SOURCE (self), FALSE);
  return g_hash_table_contains (self->connected, uri);
}

static void
hd_domain_source_init (HdDomainSource *self)
{
  Shared *s = g_new0 (Shared, 1);
  g_atomic_ref_count_init (&s->ref);
  g_mutex_init (&s->lock);
  g_queue_init (&s->results);
  s->context = g_main_context_ref_thread_default ();
  s->owner = self;
  self->shared = s;
  self->workers = g_ptr_array_new ();
  self->domains = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) hd_domain_unref);
  self->connected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static void
hd_domain_source_dispose (GObject *object)
{
  HdDomainSource *self = HD_DOMAIN_SOURCE (object);
  /* Each worker gets two seconds to end and is joined; one blocked in
   * libvirt is not waited for longer (hd_ds_worker_stop). */
  for (guint i = 0; i < self->workers->len; i++)
    hd_ds_worker_stop (g_ptr_array_index (self->workers, i));
  g_ptr_array_set_size (self->workers, 0);
  if (self->shared != NULL) {
    self->shared->owner = NULL;
    g_clear_pointer (&self->shared, shared_unref);
  }
  G_OBJECT_CLASS (hd_domain_source_parent_class)->dispose (object);
}

static void
hd_domain_source_finalize (GObject *object)
{
  HdDomainSource *self = HD_DOMAIN_SOURCE (object);
  g_ptr_array_unref (self->workers);
  g_hash_table_unref (self->domains);
  g_hash_table_unref (self->connected);
  G_OBJECT_CLASS (hd_domain_source_parent_class)->finalize (object);
}

static void
hd_domain_source_class_init (HdDomainSourceClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  oc->dispose = hd_domain_source_dispose;
  oc->finalize = hd_domain_source_finalize;

  signals[SIG_CONNECTED] = g_signal_new ("connected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIG_DISCONNECTED] = g_signal_new ("disconnected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                            0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING,
                                            G_TYPE_STRING);
  signals[SIG_DOMAIN_CHANGED] = g_signal_new ("domain-changed", G_TYPE_FROM_CLASS (klass),
                                              G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                              HD_TYPE_DOMAIN);
  signals[SIG_DOMAIN_REMOVED] = g_signal_new ("domain-removed", G_TYPE_FROM_CLASS (klass),
                                              G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                                              G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
}
