/* Manager.Assign and Manager.Release: assignments for machines without
 * libvirt domains.  Assign checks everything first (name, XML, devices,
 * other domains' claims), asks polkit, records the assignment durably,
 * detaches the managed devices one after the other and, when a non-VFIO
 * driver needs it, turns on SELinux's virt_use_sysfs.  A failure undoes
 * what this call did, in reverse, and forgets the record. */
#include "config.h"

#define G_LOG_DOMAIN "HostdevdDBus"

#include "dbus-service-private.h"
#include "dbus-options.h"

#include <glib/gi18n.h>

#include "hostdev/selinux-boolean.h"
#include "nodedev/error.h"

typedef struct {
  HdDBusService *service;
  GDBusMethodInvocation *invocation;
  char *domain;
  char *xml;
  gboolean interactive;
  GPtrArray *hostdevs;      /* HdHostdev */
  guint next;               /* the next hostdev to detach or reattach */
  GPtrArray *changed;       /* char *: node-device names this call moved */
  GPtrArray *notes;         /* char * */
  GError *error;            /* the failure being undone */
} Job;

static void
job_free (Job *job)
{
  g_object_unref (job->service);
  g_object_unref (job->invocation);
  g_free (job->domain);
  g_free (job->xml);
  g_clear_pointer (&job->hostdevs, g_ptr_array_unref);
  g_ptr_array_unref (job->changed);
  g_ptr_array_unref (job->notes);
  g_clear_error (&job->error);
  g_free (job);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Job, job_free)

static Job *
job_new (HdDBusService *self, GDBusMethodInvocation *invocation, const char *domain, GVariant *options,
         GError **error)
{
  g_autoptr(Job) job = g_new0 (Job, 1);
  g_auto(HdDBusOptions) o = { 0 };

  job->service = g_object_ref (self);
  job->invocation = g_object_ref (invocation);
  job->domain = g_strdup (domain);
  job->changed = g_ptr_array_new_with_free_func (g_free);
  job->notes = g_ptr_array_new_with_free_func (g_free);
  if (!hd_dbus_options_parse (options, HD_DBUS_OPT_INTERACTIVE, &o, error))
    return NULL;
  job->interactive = o.interactive;
  if (!hd_assignment_store_check_name (domain, error))
    return NULL;
  return g_steal_pointer (&job);
}

static GVariant *
paths_of (GPtrArray *names)
{
  g_auto(GStrv) paths = hd_dbus_device_paths ((char *const *) names->pdata, names->len);

  return g_variant_new_objv ((const char *const *) paths, -1);
}

static char *
owner_of (Job *job)
{
  return g_strdup_printf ("D-Bus client %s, domain %s", g_dbus_method_invocation_get_sender (job->invocation),
                          job->domain);
}

static HdHostdev *
next_managed (Job *job)
{
  while (job->next < job->hostdevs->len)
    {
      HdHostdev *h = g_ptr_array_index (job->hostdevs, job->next++);

      if (h->managed)
        return h;
    }
  return NULL;
}

/* ---- undoing a failed Assign ---------------------------------------------------- */

static void undo_next (Job *job);

static void
undone_one (GObject *source, GAsyncResult *result, gpointer data)
{
  Job *job = data;
  g_autoptr(GError) error = NULL;

  if (!hd_engine_reattach_finish (HD_ENGINE (source), result, &error))
    g_warning (_("%s: cannot give a device back after a failed assignment: %s"), job->domain, error->message);
  undo_next (job);
}

static void
undo_next (Job *job)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *owner = NULL;

  if (job->changed->len > 0)
    {
      g_autofree char *name = g_ptr_array_steal_index (job->changed, job->changed->len - 1);

      owner = owner_of (job);
      hd_engine_reattach_async (job->service->engine, name, owner, undone_one, job);
      return;
    }
  if (!hd_assignment_store_remove (job->service->store, job->domain, &error))
    g_warning ("%s", error->message);
  hd_dbus_service_refresh (job->service);
  g_dbus_method_invocation_return_gerror (job->invocation, job->error);
  job_free (job);
}

/* ---- Assign ----------------------------------------------------------------------- */

static void assign_next (Job *job);

static void
reply_assigned (Job *job)
{
  g_ptr_array_add (job->notes, NULL);
  g_dbus_method_invocation_return_value (job->invocation,
                                         g_variant_new ("(@ao^as)", paths_of (job->changed),
                                                        (char **) job->notes->pdata));
  hd_dbus_service_refresh (job->service);
  job_free (job);
}

static void
selinux_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Job *job = data;
  g_autoptr(GError) error = NULL;
  gboolean changed = FALSE;

  if (!hd_dbus_selinux_ensure_finish (result, &changed, &error))
    {
      job->error = g_steal_pointer (&error);
      undo_next (job);
      return;
    }
  if (changed)
    g_ptr_array_add (job->notes, g_strdup (_("SELinux boolean virt_use_sysfs turned on, now and after reboots "
                                             "(pci-stub and pciback need it; VFIO does not)")));
  reply_assigned (job);
}

static void
selinux_authorized (GObject *source, GAsyncResult *result, gpointer data)
{
  Job *job = data;

  if (!hd_polkit_gate_check_finish (job->service->gate, result, &job->error))
    {
      undo_next (job);
      return;
    }
  hd_dbus_selinux_ensure_async (selinux_done, job);
}

/* Whether virt_use_sysfs must be turned on, in a thread: reading it may
 * wait for the policy store's lock, which another client's rebuild holds
 * for seconds, and the main loop (and the watchdog) must not wait. */
static void
read_virt_use_sysfs (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  g_autoptr(GError) error = NULL;
  HdSelinuxState state = hd_selinux_virt_use_sysfs_get (&error);

  g_task_return_boolean (task, hd_selinux_state_needs_on (&state));
}

static void
virt_use_sysfs_read (GObject *source, GAsyncResult *result, gpointer data)
{
  Job *job = data;
  g_autoptr(GHashTable) details = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), NULL))
    {
      reply_assigned (job);
      return;
    }
  details = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (details, "domain", job->domain);
  g_hash_table_insert (details, "boolean", (char *) HD_SELINUX_VIRT_USE_SYSFS);
  hd_polkit_gate_check_async (job->service->gate, job->invocation, "org.hostdevd1.set-selinux-boolean",
                              details, job->interactive, selinux_authorized, job);
}

/* pci-stub and pciback need QEMU to write the device's sysfs files, which
 * SELinux refuses unless virt_use_sysfs is on; VFIO never needs it. */
static void
assign_finish (Job *job)
{
  g_autoptr(GTask) task = NULL;
  gboolean non_vfio = FALSE;

  for (guint i = 0; i < job->hostdevs->len; i++)
    {
      HdHostdev *h = g_ptr_array_index (job->hostdevs, i);

      non_vfio |= h->driver != NULL && !g_str_equal (h->driver, "vfio");
    }
  if (!non_vfio)
    {
      reply_assigned (job);
      return;
    }
  task = g_task_new (NULL, NULL, virt_use_sysfs_read, job);
  g_task_run_in_thread (task, read_virt_use_sysfs);
}

static void
detached_one (GObject *source, GAsyncResult *result, gpointer data)
{
  Job *job = data;
  g_autoptr(GPtrArray) names = hd_engine_detach_finish (HD_ENGINE (source), result, &job->error);

  if (names == NULL)
    {
      undo_next (job);
      return;
    }
  for (guint i = 0; i < names->len; i++)
    g_ptr_array_add (job->changed, g_strdup (g_ptr_array_index (names, i)));
  assign_next (job);
}

static gboolean
in_job (Job *job, const HdPciAddress *address)
{
  for (guint i = 0; i < job->hostdevs->len; i++)
    if (hd_pci_address_equal (&((HdHostdev *) g_ptr_array_index (job->hostdevs, i))->source, address))
      return TRUE;
  return FALSE;
}

/* A device that can only go with its IOMMU group goes as a group when the
 * assignment names every companion: that is what the guides ask for. */
static gboolean
whole_group_assigned (Job *job, const char *name, const char *driver)
{
  HdDetachOptions options = { driver, FALSE, FALSE, NULL };
  g_autoptr(HdVerdict) verdict = hd_engine_preview (job->service->engine, name, &options, NULL);

  if (verdict == NULL || verdict->kind != HD_VERDICT_NEEDS_GROUP)
    return FALSE;
  for (guint i = 0; i < verdict->blockers->len; i++)
    if (!in_job (job, &((HdVerdictMember *) g_ptr_array_index (verdict->blockers, i))->address))
      return FALSE;
  return TRUE;
}

static void
assign_next (Job *job)
{
  HdHostdev *h = next_managed (job);
  g_autofree char *name = NULL;
  g_autofree char *owner = NULL;

  if (h == NULL)
    {
      assign_finish (job);
      return;
    }
  name = hd_pci_address_to_nodedev_name (&h->source);
  owner = owner_of (job);
  {
    HdDetachOptions options = { h->driver, whole_group_assigned (job, name, h->driver), FALSE, owner };

    hd_engine_detach_async (job->service->engine, name, &options, detached_one, job);
  }
}

static void
assign_authorized (GObject *source, GAsyncResult *result, gpointer data)
{
  Job *job = data;
  g_autoptr(GError) error = NULL;

  /* Recorded before the first step: a daemon killed half-way still knows
   * whose devices they are. */
  if (!hd_polkit_gate_check_finish (job->service->gate, result, &error) ||
      !hd_assignment_store_put (job->service->store, job->domain, job->xml, &error))
    {
      hd_dbus_return_error (job->invocation, g_steal_pointer (&error));
      job_free (job);
      return;
    }
  hd_dbus_service_refresh (job->service);
  assign_next (job);
}

/* Another domain of the store that names one of @job's devices, or NULL. */
static char *
claimed_elsewhere (Job *job, char **device)
{
  g_autoptr(GPtrArray) domains = hd_assignment_store_list (job->service->store);

  for (guint i = 0; i < domains->len; i++)
    {
      HdAssignmentDomain *d = g_ptr_array_index (domains, i);

      if (g_str_equal (d->name, job->domain))
        continue;
      for (guint j = 0; j < d->hostdevs->len; j++)
        for (guint k = 0; k < job->hostdevs->len; k++)
          {
            HdHostdev *theirs = g_ptr_array_index (d->hostdevs, j);
            HdHostdev *ours = g_ptr_array_index (job->hostdevs, k);

            if (hd_pci_address_equal (&theirs->source, &ours->source))
              {
                *device = hd_pci_address_to_string (&ours->source);
                return g_strdup (d->name);
              }
          }
    }
  return NULL;
}

static gboolean
on_assign (HdDBusManager *manager, GDBusMethodInvocation *invocation, const char *domain, const char *xml,
           GVariant *options, HdDBusService *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(Job) job = job_new (self, invocation, domain, options, &error);
  g_autoptr(GHashTable) details = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_autoptr(GString) devices = g_string_new (NULL);
  g_autofree char *other = NULL;
  g_autofree char *device = NULL;
  g_autofree char *existing = NULL;

  if (job == NULL)
    return hd_dbus_return_error (invocation, g_steal_pointer (&error));
  job->xml = g_strdup (xml);
  job->hostdevs = hd_assignment_store_parse (domain, xml, &error);
  if (job->hostdevs == NULL)
    return hd_dbus_return_error (invocation, g_steal_pointer (&error));
  existing = hd_assignment_store_get (self->store, domain);
  if (existing != NULL)
    return hd_dbus_return_error (invocation, g_error_new (HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                          _("domain %s has an assignment already: release it first"), domain));
  other = claimed_elsewhere (job, &device);
  if (other != NULL)
    return hd_dbus_return_error (invocation, g_error_new (HD_ERROR, HD_ERROR_IN_USE,
                                          _("PCI device %s is assigned to domain %s"), device, other));
  for (guint i = 0; i < job->hostdevs->len; i++)
    {
      HdHostdev *h = g_ptr_array_index (job->hostdevs, i);
      g_autoptr(HdNodeDevice) dev = hd_inventory_lookup_address (self->inventory, &h->source);
      g_autofree char *addr = hd_pci_address_to_string (&h->source);

      if (dev == NULL)
        return hd_dbus_return_error (invocation, g_error_new (HD_ERROR, HD_ERROR_NO_DEVICE,
                                              _("no PCI device at %s"), addr));
      g_string_append_printf (devices, "%s%s", devices->len > 0 ? " " : "", addr);
    }
  g_hash_table_insert (details, "domain", g_strdup (domain));
  g_hash_table_insert (details, "devices", g_strdup (devices->str));
  hd_polkit_gate_check_async (self->gate, invocation, "org.hostdevd1.assign", details, job->interactive,
                              assign_authorized, job);
  g_steal_pointer (&job);
  return TRUE;
}

/* ---- Release ------------------------------------------------------------------------ */

static void release_next (Job *job);

static void
released_one (GObject *source, GAsyncResult *result, gpointer data)
{
  Job *job = data;
  g_autoptr(GError) error = NULL;

  if (!hd_engine_reattach_finish (HD_ENGINE (source), result, &error))
    {
      /* The first failure is the answer; the other devices still go back. */
      if (job->error == NULL)
        job->error = g_steal_pointer (&error);
    }
  release_next (job);
}

static void
release_next (Job *job)
{
  HdHostdev *h;
  g_autoptr(GError) error = NULL;

  while ((h = next_managed (job)) != NULL)
    {
      g_autofree char *name = hd_pci_address_to_nodedev_name (&h->source);
      g_autofree char *owner = NULL;

      if (!hd_engine_lookup_owned (job->service->engine, name, NULL))
        continue;   /* not on a stub by hostdevd's hand: nothing to give back */
      owner = owner_of (job);
      g_ptr_array_add (job->changed, g_strdup (name));
      hd_engine_reattach_async (job->service->engine, name, owner, released_one, job);
      return;
    }
  /* The record stays while a device could not go back: Release again. */
  if (job->error == NULL && !hd_assignment_store_remove (job->service->store, job->domain, &error))
    job->error = g_steal_pointer (&error);
  hd_dbus_service_refresh (job->service);
  if (job->error != NULL)
    g_dbus_method_invocation_return_gerror (job->invocation, job->error);
  else
    g_dbus_method_invocation_return_value (job->invocation, g_variant_new ("(@ao)", paths_of (job->changed)));
  job_free (job);
}

static void
release_authorized (GObject *source, GAsyncResult *result, gpointer data)
{
  Job *job = data;
  g_autoptr(GError) error = NULL;

  if (!hd_polkit_gate_check_finish (job->service->gate, result, &error))
    {
      hd_dbus_return_error (job->invocation, g_steal_pointer (&error));
      job_free (job);
      return;
    }
  release_next (job);
}

static gboolean
on_release (HdDBusManager *manager, GDBusMethodInvocation *invocation, const char *domain, GVariant *options,
            HdDBusService *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(Job) job = job_new (self, invocation, domain, options, &error);
  g_autoptr(GHashTable) details = g_hash_table_new (g_str_hash, g_str_equal);

  if (job == NULL)
    return hd_dbus_return_error (invocation, g_steal_pointer (&error));
  job->xml = hd_assignment_store_get (self->store, domain);
  if (job->xml == NULL)
    return hd_dbus_return_error (invocation, g_error_new (HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                          _("domain %s has no assignment made through hostdevd"), domain));
  job->hostdevs = hd_assignment_store_parse (domain, job->xml, &error);
  if (job->hostdevs == NULL)
    return hd_dbus_return_error (invocation, g_steal_pointer (&error));
  g_hash_table_insert (details, "domain", job->domain);
  hd_polkit_gate_check_async (self->gate, invocation, "org.hostdevd1.assign", details, job->interactive,
                              release_authorized, job);
  g_steal_pointer (&job);
  return TRUE;
}

void
hd_dbus_assign_connect (HdDBusService *self, HdDBusManager *manager)
{
  g_signal_connect (manager, "handle-assign", G_CALLBACK (on_assign), self);
  g_signal_connect (manager, "handle-release", G_CALLBACK (on_release), self);
}
