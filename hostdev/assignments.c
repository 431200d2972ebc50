#include "config.h"

#include "assignments.h"

#include <glib/gi18n.h>

HdAssignmentDomain *
hd_assignment_domain_new (const char *name, const char *uri, gboolean running, gboolean autostart)
{
  HdAssignmentDomain *d = g_new0 (HdAssignmentDomain, 1);

  d->name = g_strdup (name);
  d->uri = g_strdup (uri);
  d->running = running;
  d->autostart = autostart;
  d->hostdevs = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_hostdev_free);
  return d;
}

void
hd_assignment_domain_free (HdAssignmentDomain *d)
{
  if (d == NULL)
    return;
  g_free (d->name);
  g_free (d->uri);
  g_ptr_array_unref (d->hostdevs);
  g_free (d);
}

void
hd_assignment_free (HdAssignment *a)
{
  if (a == NULL)
    return;
  g_free (a->domain);
  g_free (a->uri);
  g_free (a->device);
  g_free (a->driver);
  g_free (a);
}

const char *
hd_assignment_state_to_string (HdAssignmentState state)
{
  return state == HD_ASSIGNMENT_RUNNING ? "running" : "defined";
}

void
hd_conflict_free (HdConflict *c)
{
  if (c == NULL)
    return;
  g_free (c->device);
  g_strfreev (c->domains);
  g_free (c->message);
  g_free (c);
}

const char *
hd_conflict_kind_to_string (HdConflictKind kind)
{
  static const char *const names[] = {
    "shared-device", "split-group", "unmanaged-on-host", "missing-device", "virt-use-sysfs-off",
  };

  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (names), "invalid");
  return names[kind];
}

static int
compare_assignments (gconstpointer a, gconstpointer b)
{
  const HdAssignment *x = *(HdAssignment *const *) a;
  const HdAssignment *y = *(HdAssignment *const *) b;
  int c = hd_pci_address_compare (&x->address, &y->address);

  return c != 0 ? c : g_strcmp0 (x->domain, y->domain);
}

GPtrArray *
hd_assignments_collect (GPtrArray *domains)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_assignment_free);

  for (guint i = 0; i < domains->len; i++)
    {
      HdAssignmentDomain *d = g_ptr_array_index (domains, i);

      for (guint j = 0; j < d->hostdevs->len; j++)
        {
          HdHostdev *h = g_ptr_array_index (d->hostdevs, j);
          HdAssignment *a = g_new0 (HdAssignment, 1);

          a->domain = g_strdup (d->name);
          a->uri = g_strdup (d->uri);
          a->address = h->source;
          a->device = hd_pci_address_to_nodedev_name (&h->source);
          a->managed = h->managed;
          /* libvirt's default backend for a PCI hostdev is VFIO */
          a->driver = g_strdup (h->driver != NULL ? h->driver : "vfio");
          a->state = d->running ? HD_ASSIGNMENT_RUNNING : HD_ASSIGNMENT_DEFINED;
          a->autostart = d->autostart;
          g_ptr_array_add (out, a);
        }
    }
  g_ptr_array_sort (out, compare_assignments);
  return out;
}

/* A domain that runs or will start by itself: what it holds matters now. */
static gboolean
is_active (const HdAssignment *a)
{
  return a->state == HD_ASSIGNMENT_RUNNING || a->autostart;
}

static void
add_name (GPtrArray *names, const char *name)
{
  for (guint i = 0; i < names->len; i++)
    if (g_str_equal (g_ptr_array_index (names, i), name))
      return;
  g_ptr_array_add (names, g_strdup (name));
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

/* Sorted, NULL-terminated; @names is consumed. */
static GStrv
to_strv (GPtrArray *names)
{
  g_ptr_array_sort (names, compare_strings);
  g_ptr_array_set_free_func (names, NULL);
  g_ptr_array_add (names, NULL);
  return (GStrv) g_ptr_array_free (names, FALSE);
}

/* "a, b, c", sorted. */
static char *
join_names (GPtrArray *names)
{
  g_autoptr(GPtrArray) sorted = g_ptr_array_copy (names, NULL, NULL);

  /* the copy shares the strings (and would inherit their free function) */
  g_ptr_array_set_free_func (sorted, NULL);
  g_ptr_array_sort (sorted, compare_strings);
  g_ptr_array_add (sorted, NULL);
  return g_strjoinv (", ", (char **) sorted->pdata);
}

static void
add_conflict (GPtrArray *out, HdConflictKind kind, gboolean error, const char *device, GPtrArray *domains,
              char *message)
{
  HdConflict *c = g_new0 (HdConflict, 1);

  c->kind = kind;
  c->error = error;
  c->device = g_strdup (device);
  c->domains = to_strv (domains);
  c->message = message;
  g_ptr_array_add (out, c);
}

static int
compare_conflicts (gconstpointer a, gconstpointer b)
{
  const HdConflict *x = *(HdConflict *const *) a;
  const HdConflict *y = *(HdConflict *const *) b;

  if (x->kind != y->kind)
    return (int) x->kind - (int) y->kind;
  return g_strcmp0 (x->device, y->device);
}

/* The rules that look at one device and the domains that name it:
 * assignments [first, end) share @first's address. */
static void
check_device (GPtrArray *out, GPtrArray *assignments, guint first, guint end, const HdAssignmentFacts *facts)
{
  const HdAssignment *a0 = g_ptr_array_index (assignments, first);
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) active = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *addr = hd_pci_address_to_string (&a0->address);

  for (guint i = first; i < end; i++)
    {
      const HdAssignment *a = g_ptr_array_index (assignments, i);

      add_name (all, a->domain);
      if (is_active (a))
        add_name (active, a->domain);
      if (facts->present && !a->managed && a->autostart && a->state != HD_ASSIGNMENT_RUNNING && !facts->on_stub)
        {
          g_autoptr(GPtrArray) one = g_ptr_array_new_with_free_func (g_free);

          add_name (one, a->domain);
          add_conflict (out, HD_CONFLICT_UNMANAGED_ON_HOST, FALSE, a->device, g_steal_pointer (&one),
                        g_strdup_printf (_("Domain %s starts automatically with PCI device %s (managed='no'), "
                                           "which is on %s: detach it first (hostdevctl detach %s) or make it "
                                           "managed='yes'"),
                                         a->domain, addr,
                                         facts->driver != NULL ? facts->driver : _("no driver"), a->device));
        }
    }
  if (!facts->present)
    {
      g_autofree char *list = join_names (all);

      add_conflict (out, HD_CONFLICT_MISSING_DEVICE, FALSE, a0->device, g_steal_pointer (&all),
                    g_strdup_printf (_("PCI device %s, used by %s, is not on this host"), addr, list));
      return;
    }
  if (active->len > 1)
    {
      g_autofree char *list = join_names (active);

      add_conflict (out, HD_CONFLICT_SHARED_DEVICE, TRUE, a0->device, g_steal_pointer (&active),
                    g_strdup_printf (_("PCI device %s is in %s, which run or start automatically: only one of "
                                       "them can have it; remove its <hostdev> from the others (virsh edit)"),
                                     addr, list));
    }
}

/* One IOMMU group, different devices, different active domains. */
static void
check_groups (GPtrArray *out, GPtrArray *assignments, GArray *groups)
{
  g_autoptr(GHashTable) reported = g_hash_table_new (g_direct_hash, g_direct_equal);

  for (guint i = 0; i < assignments->len; i++)
    {
      const HdAssignment *a = g_ptr_array_index (assignments, i);
      int group = g_array_index (groups, int, i);
      g_autoptr(GPtrArray) domains = NULL;
      g_autoptr(GPtrArray) devices = NULL;
      gboolean split = FALSE;

      if (group < 0 || !is_active (a) || g_hash_table_contains (reported, GINT_TO_POINTER (group + 1)))
        continue;
      domains = g_ptr_array_new_with_free_func (g_free);
      devices = g_ptr_array_new_with_free_func (g_free);
      for (guint j = 0; j < assignments->len; j++)
        {
          const HdAssignment *b = g_ptr_array_index (assignments, j);

          if (g_array_index (groups, int, j) != group || !is_active (b))
            continue;
          add_name (domains, b->domain);
          add_name (devices, b->device);
          split |= !g_str_equal (a->domain, b->domain) && !hd_pci_address_equal (&a->address, &b->address);
        }
      if (!split)
        continue;
      g_hash_table_add (reported, GINT_TO_POINTER (group + 1));
      {
        g_autofree char *devs = join_names (devices);
        g_autofree char *doms = join_names (domains);
        g_auto(GStrv) device_list = to_strv (g_steal_pointer (&devices));

        add_conflict (out, HD_CONFLICT_SPLIT_GROUP, TRUE, device_list[0], g_steal_pointer (&domains),
                      g_strdup_printf (_("IOMMU group %d is split across %s: VFIO gives a group to one domain "
                                         "only; assign its devices (%s) to the same domain"),
                                       group, doms, devs));
      }
    }
}

GPtrArray *
hd_assignments_check (GPtrArray *assignments, HdAssignmentLookup lookup, gpointer user_data)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_conflict_free);
  g_autoptr(GArray) groups = g_array_sized_new (FALSE, FALSE, sizeof (int), assignments->len);
  guint first = 0;

  /* @assignments come sorted by address (hd_assignments_collect). */
  while (first < assignments->len)
    {
      const HdAssignment *a = g_ptr_array_index (assignments, first);
      HdAssignmentFacts facts = { FALSE, -1, NULL, FALSE };
      guint end = first + 1;
      int group;

      while (end < assignments->len &&
             hd_pci_address_equal (&a->address, &((HdAssignment *) g_ptr_array_index (assignments, end))->address))
        end++;
      lookup (&a->address, &facts, user_data);
      group = facts.present ? facts.iommu_group : -1;
      for (guint i = first; i < end; i++)
        g_array_append_val (groups, group);
      check_device (out, assignments, first, end, &facts);
      first = end;
    }
  check_groups (out, assignments, groups);
  g_ptr_array_sort (out, compare_conflicts);
  return out;
}

void
hd_assignments_check_virt_use_sysfs (GPtrArray *assignments, gboolean virt_use_sysfs_off, GPtrArray *conflicts)
{
  guint first = 0;

  if (!virt_use_sysfs_off)
    return;
  /* @assignments come sorted by address: one warning per device. */
  while (first < assignments->len)
    {
      const HdAssignment *a0 = g_ptr_array_index (assignments, first);
      g_autoptr(GPtrArray) domains = g_ptr_array_new_with_free_func (g_free);
      guint end = first;

      for (; end < assignments->len; end++)
        {
          const HdAssignment *a = g_ptr_array_index (assignments, end);

          if (!hd_pci_address_equal (&a0->address, &a->address))
            break;
          if (!g_str_equal (a->driver, "vfio"))
            add_name (domains, a->domain);
        }
      if (domains->len > 0)
        {
          g_autofree char *addr = hd_pci_address_to_string (&a0->address);
          g_autofree char *list = join_names (domains);

          add_conflict (conflicts, HD_CONFLICT_VIRT_USE_SYSFS_OFF, FALSE, a0->device, g_steal_pointer (&domains),
                        g_strdup_printf (_("PCI device %s is assigned to %s through pci-stub or pciback; SELinux keeps "
                                           "QEMU from its sysfs files while virt_use_sysfs is off: turn it on (hostdevctl "
                                           "set-virt-use-sysfs, or setsebool -P virt_use_sysfs 1)"),
                                         addr, list));
        }
      first = end;
    }
  g_ptr_array_sort (conflicts, compare_conflicts);
}
