#include "config.h"

#include "verdict.h"

#include <glib/gi18n.h>

#include "nodedev/error.h"
#include "nodedev/sysfs.h"

static const char *const kind_names[] = {
  "detachable", "already-detached", "needs-group", "in-use-by-host", "not-assignable",
};

const char *
hd_verdict_kind_to_string (HdVerdictKind kind)
{
  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (kind_names), "invalid");
  return kind_names[kind];
}

static void
member_free (HdVerdictMember *m)
{
  g_free (m->name);
  g_free (m->driver);
  g_free (m->why);
  g_free (m);
}

void
hd_verdict_free (HdVerdict *v)
{
  if (v == NULL)
    return;
  g_free (v->name);
  g_ptr_array_unref (v->takes);
  g_ptr_array_unref (v->blockers);
  g_ptr_array_unref (v->stays);
  g_ptr_array_unref (v->host_uses);
  g_ptr_array_unref (v->reasons);
  g_free (v);
}

gboolean
hd_verdict_is_bridge (HdNodeDevice *dev)
{
  if (dev->pci == NULL)
    return FALSE;
  if (dev->pci->config_read && dev->pci->config.header_type >= 0)
    return dev->pci->config.header_type != HD_PCI_HEADER_ENDPOINT;
  /* Without config space (unprivileged) the class code still says it. */
  return dev->pci->klass >= 0 &&
         ((dev->pci->klass >> 8) == 0x0604 || (dev->pci->klass >> 8) == 0x0607);
}

/* The host bridge (class 0x0600) is the CPU's own link to memory and PCI;
 * the ISA bridge (0x0601, the LPC controller) carries the firmware's flash,
 * the TPM, timers and the watchdog.  Neither is ever a device a guest
 * wants, and taking either from the host can stop it; they have the
 * endpoint header of a device a guest could have, so only the class says
 * so. */
static const char *
chipset_use (HdNodeDevice *dev)
{
  if (dev->pci == NULL || dev->pci->klass < 0)
    return NULL;
  switch (dev->pci->klass >> 8)
    {
    case 0x0600:
      return _("it is the chipset's host bridge");
    case 0x0601:
      return _("it is the chipset's ISA bridge");
    default:
      return NULL;
    }
}

/* What the host uses of @dev, in sentences: what @usage (may be NULL) found
 * on it or below it, and the chipset's part it plays. */
static GPtrArray *
host_uses_of (HdHostUsage *usage, HdNodeDevice *dev)
{
  GPtrArray *uses = g_ptr_array_new_with_free_func (g_free);
  const char *chipset = chipset_use (dev);

  if (usage != NULL && dev->syspath != NULL)
    {
      g_autoptr(GPtrArray) found = hd_host_usage_lookup (usage, dev->syspath);

      for (guint i = 0; i < found->len; i++)
        g_ptr_array_add (uses, g_strdup (((HdHostUse *) g_ptr_array_index (found, i))->description));
    }
  if (chipset != NULL)
    g_ptr_array_add (uses, g_strdup (chipset));
  return uses;
}

static void
add_member (GPtrArray *list, HdNodeDevice *dev, const char *why)
{
  HdVerdictMember *m = g_new0 (HdVerdictMember, 1);

  m->name = g_strdup (dev->name);
  m->address = dev->pci->address;
  m->driver = g_strdup (dev->driver);
  m->why = g_strdup (why);
  g_ptr_array_add (list, m);
}

/* Conventional PCI functions behind a PCIe-to-PCI bridge share the
 * bridge's requester ID, so the IOMMU cannot tell them apart: the old
 * VT-d guides require them to go to one guest together. */
static gboolean
behind_pcie_to_pci_bridge (HdInventory *inventory, HdNodeDevice *dev, HdNodeDevice **bridge)
{
  g_autoptr(HdNodeDevice) parent = NULL;

  if (!dev->pci->config_read || dev->pci->config.is_pcie || dev->parent == NULL)
    return FALSE;
  parent = hd_inventory_lookup (inventory, dev->parent);
  if (parent == NULL || parent->pci == NULL || !hd_verdict_is_bridge (parent))
    return FALSE;
  *bridge = g_steal_pointer (&parent);
  return TRUE;
}

/* The devices that go with @dev: its IOMMU group and its bridge set,
 * each once, as current snapshots, with why they are listed. */
static void
collect_companions (HdInventory *inventory, HdNodeDevice *dev, GPtrArray *devs, GPtrArray *whys)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(HdNodeDevice) bridge = NULL;
  g_autofree char *group_why = g_strdup_printf (_("IOMMU group %d"), dev->pci->iommu_group);

  g_hash_table_add (seen, dev->name);
  for (guint i = 0; dev->pci->iommu_group_members && i < dev->pci->iommu_group_members->len; i++)
    {
      const HdPciAddress *a = &g_array_index (dev->pci->iommu_group_members, HdPciAddress, i);
      g_autoptr(HdNodeDevice) known = hd_inventory_lookup_address (inventory, a);
      g_autoptr(HdNodeDevice) m = NULL;

      if (known == NULL || g_hash_table_contains (seen, known->name))
        continue;
      m = hd_inventory_refresh (inventory, known->name);
      if (m == NULL)
        continue;
      g_hash_table_add (seen, m->name);
      g_ptr_array_add (devs, g_steal_pointer (&m));
      g_ptr_array_add (whys, g_strdup (group_why));
    }
  if (behind_pcie_to_pci_bridge (inventory, dev, &bridge))
    {
      g_autoptr(GPtrArray) all = hd_inventory_list (inventory);
      g_autofree char *bridge_why = g_strdup_printf (_("behind the PCIe-to-PCI bridge %s"), bridge->name);

      for (guint i = 0; i < all->len; i++)
        {
          HdNodeDevice *d = g_ptr_array_index (all, i);
          g_autoptr(HdNodeDevice) m = NULL;

          if (d->pci == NULL || g_strcmp0 (d->parent, bridge->name) != 0 ||
              g_hash_table_contains (seen, d->name))
            continue;
          m = hd_inventory_refresh (inventory, d->name);
          if (m == NULL)
            continue;
          g_hash_table_add (seen, m->name);
          g_ptr_array_add (devs, g_steal_pointer (&m));
          g_ptr_array_add (whys, g_strdup (bridge_why));
        }
    }
  /* The strings in @seen belong to snapshots that @devs keeps alive. */
}

static void
add_host_uses (HdVerdict *v, HdHostUsage *usage, HdNodeDevice *dev)
{
  g_autoptr(GPtrArray) uses = host_uses_of (usage, dev);
  g_autofree char *addr = hd_pci_address_to_string (&dev->pci->address);

  for (guint i = 0; i < uses->len; i++)
    {
      const char *use = g_ptr_array_index (uses, i);

      /* A companion's use names the companion; the device's own needs no name. */
      if (hd_pci_address_equal (&dev->pci->address, &v->address))
        g_ptr_array_add (v->host_uses, g_strdup (use));
      else
        g_ptr_array_add (v->host_uses, g_strdup_printf ("%s: %s", addr, use));
    }
}

static char *
join_members (GPtrArray *members)
{
  g_autoptr(GString) s = g_string_new (NULL);

  for (guint i = 0; i < members->len; i++)
    {
      HdVerdictMember *m = g_ptr_array_index (members, i);
      g_autofree char *addr = hd_pci_address_to_string (&m->address);

      if (s->len > 0)
        g_string_append (s, ", ");
      if (m->driver != NULL)
        g_string_append_printf (s, _("%s (driver %s)"), addr, m->driver);
      else
        g_string_append (s, addr);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static char *
join_strings (GPtrArray *strings)
{
  g_autoptr(GString) s = g_string_new (NULL);

  for (guint i = 0; i < strings->len; i++)
    g_string_append_printf (s, "%s%s", i ? "; " : "", (const char *) g_ptr_array_index (strings, i));
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
explain (HdVerdict *v)
{
  g_autofree char *addr = hd_pci_address_to_string (&v->address);

  switch (v->kind)
    {
    case HD_VERDICT_NOT_ASSIGNABLE:
      g_ptr_array_add (v->reasons, g_strdup_printf (_("PCI device %s is a bridge: only endpoint devices can be detached"), addr));
      break;
    case HD_VERDICT_IN_USE_BY_HOST:
      {
        g_autofree char *uses = join_strings (v->host_uses);
        g_ptr_array_add (v->reasons, g_strdup_printf (_("PCI device %s is in use by the host (%s); use force to detach it anyway"), addr, uses));
      }
      break;
    case HD_VERDICT_NEEDS_GROUP:
      {
        g_autofree char *blockers = join_members (v->blockers);
        g_ptr_array_add (v->reasons, g_strdup_printf (_("PCI device %s cannot be detached alone: it must go together with %s; detach the whole group"), addr, blockers));
      }
      break;
    case HD_VERDICT_ALREADY_DETACHED:
      g_ptr_array_add (v->reasons, g_strdup_printf (_("PCI device %s is already bound to %s"), addr, v->stub->driver));
      break;
    case HD_VERDICT_DETACHABLE:
      {
        g_autofree char *takes = join_members (v->takes);
        g_ptr_array_add (v->reasons, g_strdup_printf (_("a detach to %s would take %s"), v->stub->driver, takes));
        if (v->host_uses->len > 0)
          {
            g_autofree char *uses = join_strings (v->host_uses);
            g_ptr_array_add (v->reasons, g_strdup_printf (_("forced although the host uses it: %s"), uses));
          }
      }
      break;
    default:
      g_assert_not_reached ();
    }
}

HdVerdict *
hd_verdict_compute (HdInventory *inventory, HdHostUsage *usage, HdNodeDevice *dev,
                    const HdStubDriver *stub, gboolean group, gboolean force)
{
  g_autoptr(HdVerdict) v = g_new0 (HdVerdict, 1);
  g_autoptr(GPtrArray) companions = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_node_device_unref);
  g_autoptr(GPtrArray) whys = g_ptr_array_new_with_free_func (g_free);
  gboolean on_stub;

  g_return_val_if_fail (dev->pci != NULL, NULL);
  v->name = g_strdup (dev->name);
  v->address = dev->pci->address;
  v->iommu_group = dev->pci->iommu_group;
  v->stub = stub;
  v->group = group;
  v->force = force;
  v->takes = g_ptr_array_new_with_free_func ((GDestroyNotify) member_free);
  v->blockers = g_ptr_array_new_with_free_func ((GDestroyNotify) member_free);
  v->stays = g_ptr_array_new_with_free_func ((GDestroyNotify) member_free);
  v->host_uses = g_ptr_array_new_with_free_func (g_free);
  v->reasons = g_ptr_array_new_with_free_func (g_free);

  if (hd_verdict_is_bridge (dev))
    {
      v->kind = HD_VERDICT_NOT_ASSIGNABLE;
      explain (v);
      return g_steal_pointer (&v);
    }

  on_stub = g_strcmp0 (dev->driver, stub->driver) == 0;
  if (!on_stub)
    {
      add_member (v->takes, dev, _("requested"));
      add_host_uses (v, usage, dev);
    }
  collect_companions (inventory, dev, companions, whys);
  for (guint i = 0; i < companions->len; i++)
    {
      HdNodeDevice *m = g_ptr_array_index (companions, i);
      const char *why = g_ptr_array_index (whys, i);
      gboolean blocks = !hd_verdict_is_bridge (m) && !hd_stub_driver_keeps_group_viable (m->driver);

      if (blocks)
        add_member (v->blockers, m, why);
      /* A whole-group detach also holds the endpoints that have no driver
       * or another stub, so that no later probe hands them to the host. */
      if (group && !hd_verdict_is_bridge (m) && g_strcmp0 (m->driver, stub->driver) != 0)
        {
          add_member (v->takes, m, why);
          add_host_uses (v, usage, m);
        }
      else if (!blocks)
        add_member (v->stays, m, why);
    }

  if (v->host_uses->len > 0 && !force)
    v->kind = HD_VERDICT_IN_USE_BY_HOST;
  else if (v->blockers->len > 0 && !group && !on_stub)
    v->kind = HD_VERDICT_NEEDS_GROUP;
  else if (v->takes->len == 0)
    v->kind = HD_VERDICT_ALREADY_DETACHED;
  else
    v->kind = HD_VERDICT_DETACHABLE;
  explain (v);
  return g_steal_pointer (&v);
}

gboolean
hd_verdict_allows (const HdVerdict *v, GError **error)
{
  const char *reason = v->reasons->len > 0 ? g_ptr_array_index (v->reasons, 0) : "";

  switch (v->kind)
    {
    case HD_VERDICT_DETACHABLE:
    case HD_VERDICT_ALREADY_DETACHED:
      return TRUE;
    case HD_VERDICT_NOT_ASSIGNABLE:
      g_set_error_literal (error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT, reason);
      return FALSE;
    case HD_VERDICT_IN_USE_BY_HOST:
    case HD_VERDICT_NEEDS_GROUP:
    default:
      g_set_error_literal (error, HD_ERROR, HD_ERROR_IN_USE, reason);
      return FALSE;
    }
}

/* Another function on @dev's bus that a host driver holds. */
static HdNodeDevice *
active_bus_neighbour (HdInventory *inventory, HdNodeDevice *dev)
{
  g_autoptr(GPtrArray) all = hd_inventory_list (inventory);

  for (guint i = 0; i < all->len; i++)
    {
      HdNodeDevice *d = g_ptr_array_index (all, i);

      if (d->pci == NULL || g_str_equal (d->name, dev->name) ||
          d->pci->address.domain != dev->pci->address.domain ||
          d->pci->address.bus != dev->pci->address.bus)
        continue;
      if (d->driver != NULL && hd_stub_driver_find_by_driver (d->driver) == NULL)
        return hd_node_device_ref (d);
    }
  return NULL;
}

char *
hd_verdict_reset_method (HdInventory *inventory, HdHostUsage *usage, HdNodeDevice *dev,
                         gboolean force, GError **error)
{
  g_autoptr(HdNodeDevice) neighbour = NULL;
  g_autofree char *addr = NULL;

  if (dev->pci == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT, _("device %s is not a PCI device"), dev->name);
      return NULL;
    }
  addr = hd_pci_address_to_string (&dev->pci->address);
  if (hd_verdict_is_bridge (dev))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FAILED,
                   _("Invalid attempt to reset PCI device %s. Only PCI endpoint devices can be reset"), addr);
      return NULL;
    }
  if (!force)
    {
      g_autoptr(GPtrArray) uses = host_uses_of (usage, dev);

      if (uses->len > 0)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_IN_USE,
                       _("PCI device %s is in use by the host (%s); use force to reset it anyway"),
                       addr, (const char *) g_ptr_array_index (uses, 0));
          return NULL;
        }
    }
  if (dev->pci->reset_methods == NULL || dev->pci->reset_methods[0] == NULL)
    {
      /* Kernels before 5.15 have no reset_method: the reset file alone
       * means "the kernel's own choice". */
      if (hd_sysfs_exists (dev->syspath, "reset"))
        return g_strdup ("default");
      g_set_error (error, HD_ERROR, HD_ERROR_FAILED,
                   _("Unable to reset PCI device %s: no FLR, PM reset or bus reset available"), addr);
      return NULL;
    }
  for (guint i = 0; dev->pci->reset_methods[i]; i++)
    {
      const char *m = dev->pci->reset_methods[i];

      if (m[0] == '\0')
        continue;
      if (g_str_equal (m, "bus") || g_str_equal (m, "cxl_bus"))
        {
          if (neighbour == NULL)
            neighbour = active_bus_neighbour (inventory, dev);
          if (neighbour != NULL)
            continue;
        }
      return g_strdup (m);
    }
  if (neighbour != NULL)
    {
      g_autofree char *other = hd_pci_address_to_string (&neighbour->pci->address);

      /* libvirt wraps its own internal error in another, prefix and all:
       * virsh prints the same line against both daemons. */
      g_set_error (error, HD_ERROR, HD_ERROR_FAILED,
                   _("Unable to reset PCI device %s: internal error: Active %s devices on bus with %s, not doing bus reset"),
                   addr, other, addr);
      return NULL;
    }
  g_set_error (error, HD_ERROR, HD_ERROR_FAILED,
               _("Unable to reset PCI device %s: no FLR, PM reset or bus reset available"), addr);
  return NULL;
}
