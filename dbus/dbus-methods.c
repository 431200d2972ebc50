/* The method calls of org.hostdevd1.Manager and org.hostdevd1.Device.
 *
 * A mutation goes: options checked, device looked up, polkit asked
 * (asynchronously: nothing waits on it), the engine's operation started,
 * the reply sent when the kernel has done the work.  Errors are HD_ERROR
 * GErrors, which dbus-errors.c names org.hostdevd1.Error.*. */
#include "config.h"

#define G_LOG_DOMAIN "HostdevdDBus"

#include "dbus-service-private.h"
#include "dbus-options.h"

#include <glib/gi18n.h>

#include "hostdev/stub-driver.h"
#include "manager-facts.h"
#include "nodedev/error.h"
#include "xml/hostdev-xml.h"
#include "xml/nodedev-xml.h"

typedef enum { OP_DETACH, OP_REATTACH, OP_RESET, OP_PREVIEW } OpKind;

/* Which options each method takes. */
static const guint allowed_options[] = {
  [OP_DETACH] = HD_DBUS_OPT_DRIVER | HD_DBUS_OPT_GROUP | HD_DBUS_OPT_FORCE | HD_DBUS_OPT_INTERACTIVE,
  [OP_REATTACH] = HD_DBUS_OPT_INTERACTIVE,
  [OP_RESET] = HD_DBUS_OPT_FORCE | HD_DBUS_OPT_INTERACTIVE,
  [OP_PREVIEW] = HD_DBUS_OPT_DRIVER | HD_DBUS_OPT_GROUP | HD_DBUS_OPT_FORCE,
};

typedef struct {
  HdDBusService *service;
  GDBusMethodInvocation *invocation;
  OpKind kind;
  char *name;
  HdDBusOptions opts;
} Request;

static void
request_free (Request *r)
{
  g_object_unref (r->service);
  g_object_unref (r->invocation);
  g_free (r->name);
  hd_dbus_options_clear (&r->opts);
  g_free (r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Request, request_free)

static char *
owner_of (GDBusMethodInvocation *invocation)
{
  return g_strdup_printf ("D-Bus client %s", g_dbus_method_invocation_get_sender (invocation));
}

/* ---- replies when the engine is done ------------------------------------------ */

static void
detach_done (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(Request) r = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) names = hd_engine_detach_finish (HD_ENGINE (source), result, &error);
  g_auto(GStrv) paths = NULL;

  if (names == NULL)
    {
      hd_dbus_return_error (r->invocation, g_steal_pointer (&error));
      return;
    }
  paths = hd_dbus_device_paths ((char *const *) names->pdata, names->len);
  g_dbus_method_invocation_return_value (r->invocation, g_variant_new ("(^ao)", paths));
}

static void
reattach_done (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(Request) r = data;
  g_autoptr(GError) error = NULL;

  if (!hd_engine_reattach_finish (HD_ENGINE (source), result, &error))
    hd_dbus_return_error (r->invocation, g_steal_pointer (&error));
  else
    g_dbus_method_invocation_return_value (r->invocation, NULL);
}

static void
reset_done (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(Request) r = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *method = hd_engine_reset_finish (HD_ENGINE (source), result, &error);

  if (method == NULL)
    hd_dbus_return_error (r->invocation, g_steal_pointer (&error));
  else
    g_dbus_method_invocation_return_value (r->invocation, g_variant_new ("(s)", method));
}

static void
authorized (GObject *source, GAsyncResult *result, gpointer data)
{
  Request *r = data;
  HdEngine *engine = r->service->engine;
  g_autoptr(GError) error = NULL;
  g_autofree char *owner = owner_of (r->invocation);

  /* The request goes on to the engine's callback, which frees it. */
  if (!hd_polkit_gate_check_finish (r->service->gate, result, &error))
    {
      hd_dbus_return_error (r->invocation, g_steal_pointer (&error));
      request_free (r);
      return;
    }
  switch (r->kind)
    {
    case OP_DETACH:
      {
        HdDetachOptions options = { r->opts.driver, r->opts.group, r->opts.force, owner };

        hd_engine_detach_async (engine, r->name, &options, detach_done, r);
        break;
      }
    case OP_REATTACH:
      hd_engine_reattach_async (engine, r->name, owner, reattach_done, r);
      break;
    case OP_RESET:
      hd_engine_reset_async (engine, r->name, r->opts.force, owner, reset_done, r);
      break;
    case OP_PREVIEW:
    default:
      g_assert_not_reached ();
    }
}

/* ---- the mutations --------------------------------------------------------------- */

/* The polkit action: a forced detach of a device the host uses has its
 * own, so that admins can keep it stricter than a plain detach. */
static const char *
action_for (Request *r, HdDBusService *self, GError **error)
{
  g_autoptr(HdVerdict) verdict = NULL;

  switch (r->kind)
    {
    case OP_DETACH:
      {
        HdDetachOptions options = { r->opts.driver, r->opts.group, r->opts.force, NULL };

        if (!r->opts.force)
          return "org.hostdevd1.detach";
        verdict = hd_engine_preview (self->engine, r->name, &options, error);
        if (verdict == NULL)
          return NULL;
        return verdict->host_uses->len > 0 ? "org.hostdevd1.detach-in-use" : "org.hostdevd1.detach";
      }
    case OP_REATTACH:
      return "org.hostdevd1.reattach";
    case OP_RESET:
      return "org.hostdevd1.reset";
    case OP_PREVIEW:
    default:
      g_assert_not_reached ();
    }
}

static gboolean
start (HdDBusService *self, GDBusMethodInvocation *invocation, OpKind kind, const char *name,
       GVariant *options)
{
  g_autoptr(Request) r = g_new0 (Request, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(HdNodeDevice) dev = NULL;
  g_autoptr(GHashTable) details = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  const HdStubDriver *stub = NULL;
  const char *action;
  gboolean interactive;

  r->service = g_object_ref (self);
  r->invocation = g_object_ref (invocation);
  r->kind = kind;
  r->name = g_strdup (name);
  if (!hd_dbus_options_parse (options, allowed_options[kind], &r->opts, &error) ||
      (dev = hd_inventory_refresh_pci (self->inventory, name, &error)) == NULL ||
      (kind == OP_DETACH && (stub = hd_stub_driver_lookup (r->opts.driver, &error)) == NULL) ||
      (action = action_for (r, self, &error)) == NULL)
    return hd_dbus_return_error (invocation, g_steal_pointer (&error));

  /* What polkit rules (and an authentication agent) can match on. */
  g_hash_table_insert (details, "device", g_strdup (dev->name));
  g_hash_table_insert (details, "address", hd_pci_address_to_string (&dev->pci->address));
  g_hash_table_insert (details, "vendor", g_strdup_printf ("%04x", dev->pci->vendor));
  g_hash_table_insert (details, "product", g_strdup_printf ("%04x", dev->pci->product));
  if (dev->pci->vendor_name != NULL)
    g_hash_table_insert (details, "vendor_name", g_strdup (dev->pci->vendor_name));
  if (dev->pci->product_name != NULL)
    g_hash_table_insert (details, "product_name", g_strdup (dev->pci->product_name));
  g_hash_table_insert (details, "driver", g_strdup (dev->driver != NULL ? dev->driver : ""));
  if (stub != NULL)
    g_hash_table_insert (details, "stub", g_strdup (stub->driver));
  interactive = r->opts.interactive;
  hd_polkit_gate_check_async (self->gate, invocation, action, details, interactive,
                              authorized, g_steal_pointer (&r));
  return TRUE;
}

/* ---- Manager ------------------------------------------------------------------------- */

static gboolean
on_lookup_by_name (HdDBusManager *manager, GDBusMethodInvocation *invocation, const char *name,
                   HdDBusService *self)
{
  g_autoptr(HdNodeDevice) dev = hd_inventory_lookup (self->inventory, name);
  g_autofree char *path = NULL;

  if (dev == NULL)
    return hd_dbus_return_error (invocation, g_error_new (HD_ERROR, HD_ERROR_NO_DEVICE,
                                                  _("no node device with matching name '%s'"), name));
  path = hd_dbus_device_path (dev->name);
  hd_dbus_manager_complete_lookup_by_name (manager, invocation, path);
  return TRUE;
}

static gboolean
on_lookup_by_address (HdDBusManager *manager, GDBusMethodInvocation *invocation, const char *address,
                      HdDBusService *self)
{
  g_autofree char *full = NULL;
  g_autofree char *path = NULL;
  g_autoptr(HdNodeDevice) dev = NULL;
  HdPciAddress addr;

  /* "BB:SS.F" is lspci's short form, for domain 0. */
  full = strlen (address) == 7 ? g_strconcat ("0000:", address, NULL) : g_strdup (address);
  if (!hd_pci_address_parse (full, &addr))
    return hd_dbus_return_error (invocation, g_error_new (HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                                  _("'%s' is not a PCI address (DDDD:BB:SS.F or BB:SS.F)"),
                                                  address));
  dev = hd_inventory_lookup_address (self->inventory, &addr);
  if (dev == NULL)
    return hd_dbus_return_error (invocation, g_error_new (HD_ERROR, HD_ERROR_NO_DEVICE,
                                                  _("no PCI device at %s"), full));
  path = hd_dbus_device_path (dev->name);
  hd_dbus_manager_complete_lookup_by_address (manager, invocation, path);
  return TRUE;
}

static GVariant *
members (GPtrArray *list)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(osss)"));
  for (guint i = 0; i < list->len; i++)
    {
      HdVerdictMember *m = g_ptr_array_index (list, i);
      g_autofree char *path = hd_dbus_device_path (m->name);
      g_autofree char *addr = hd_pci_address_to_string (&m->address);

      g_variant_builder_add (&b, "(osss)", path, addr, m->driver != NULL ? m->driver : "",
                             m->why != NULL ? m->why : "");
    }
  return g_variant_builder_end (&b);
}

static GVariant *
strings (GPtrArray *list)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_STRING_ARRAY);
  for (guint i = 0; i < list->len; i++)
    g_variant_builder_add (&b, "s", g_ptr_array_index (list, i));
  return g_variant_builder_end (&b);
}

static gboolean
on_preview (HdDBusManager *manager, GDBusMethodInvocation *invocation, const char *name,
            GVariant *options, HdDBusService *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdVerdict) v = NULL;
  g_auto(HdDBusOptions) o = { 0 };

  if (!hd_dbus_options_parse (options, allowed_options[OP_PREVIEW], &o, &error))
    return hd_dbus_return_error (invocation, g_steal_pointer (&error));
  v = hd_engine_preview (self->engine, name, &(HdDetachOptions) { o.driver, o.group, o.force, NULL }, &error);
  if (v == NULL)
    return hd_dbus_return_error (invocation, g_steal_pointer (&error));
  g_dbus_method_invocation_return_value (invocation,
    g_variant_new ("(ss@a(osss)@a(osss)@a(osss)@as@as)", hd_verdict_kind_to_string (v->kind), v->stub->driver,
                   members (v->takes), members (v->blockers), members (v->stays),
                   strings (v->host_uses), strings (v->reasons)));
  return TRUE;
}

/* The probe reads /proc, /sys and the boot configuration: milliseconds on
 * a quiet host, but a file system that stalls must not stall the main
 * loop (and with it every client and the watchdog). */
static void
probe_readiness (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  GError *error = NULL;
  HdReadiness *readiness = hd_readiness_probe (NULL, &error);

  if (readiness == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, readiness, (GDestroyNotify) hd_readiness_free);
}

void
hd_dbus_readiness_probe_async (HdDBusService *self, GAsyncReadyCallback callback, gpointer data)
{
  g_autoptr(GTask) task = g_task_new (self, NULL, callback, data);

  g_task_set_source_tag (task, hd_dbus_readiness_probe_async);
  g_task_run_in_thread (task, probe_readiness);
}

HdReadiness *
hd_dbus_readiness_probe_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
readiness_probed (GObject *source, GAsyncResult *result, gpointer data)
{
  HdDBusService *self = HD_DBUS_SERVICE (source);
  /* The task's own reference; the handler's is the one a reply takes. */
  g_autoptr(GDBusMethodInvocation) invocation = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(HdReadiness) readiness = hd_dbus_readiness_probe_finish (result, &error);

  if (readiness == NULL)
    {
      hd_dbus_return_error (invocation, g_steal_pointer (&error));
      return;
    }
  hd_dbus_manager_update_readiness (self->manager, readiness);
  g_dbus_method_invocation_return_value (invocation, hd_dbus_readiness_to_variant (readiness));
}

static gboolean
on_validate (HdDBusManager *manager, GDBusMethodInvocation *invocation, HdDBusService *self)
{
  hd_dbus_readiness_probe_async (self, readiness_probed, g_object_ref (invocation));
  return TRUE;
}

static gboolean
on_manager_detach (HdDBusManager *manager, GDBusMethodInvocation *invocation, const char *name,
                   GVariant *options, HdDBusService *self)
{
  return start (self, invocation, OP_DETACH, name, options);
}

static gboolean
on_manager_reattach (HdDBusManager *manager, GDBusMethodInvocation *invocation, const char *name,
                     GVariant *options, HdDBusService *self)
{
  return start (self, invocation, OP_REATTACH, name, options);
}

static gboolean
on_manager_reset (HdDBusManager *manager, GDBusMethodInvocation *invocation, const char *name,
                  GVariant *options, HdDBusService *self)
{
  return start (self, invocation, OP_RESET, name, options);
}

void
hd_dbus_methods_connect_manager (HdDBusService *self, HdDBusManager *manager)
{
  g_signal_connect (manager, "handle-lookup-by-name", G_CALLBACK (on_lookup_by_name), self);
  g_signal_connect (manager, "handle-lookup-by-address", G_CALLBACK (on_lookup_by_address), self);
  g_signal_connect (manager, "handle-preview", G_CALLBACK (on_preview), self);
  g_signal_connect (manager, "handle-validate", G_CALLBACK (on_validate), self);
  g_signal_connect (manager, "handle-detach", G_CALLBACK (on_manager_detach), self);
  g_signal_connect (manager, "handle-re-attach", G_CALLBACK (on_manager_reattach), self);
  g_signal_connect (manager, "handle-reset", G_CALLBACK (on_manager_reset), self);
}

/* ---- Device ------------------------------------------------------------------------------ */

static gboolean
on_get_xml_desc (HdDBusDevice *device, GDBusMethodInvocation *invocation, HdDBusService *self)
{
  const char *name = hd_dbus_device_get_name (device);
  /* As libvirt does before every GetXMLDesc: the dynamic parts re-read. */
  g_autoptr(HdNodeDevice) dev = hd_inventory_refresh (self->inventory, name);
  g_autofree char *xml = NULL;

  if (dev == NULL)
    return hd_dbus_return_error (invocation, g_error_new (HD_ERROR, HD_ERROR_NO_DEVICE,
                                                  _("no node device with matching name '%s'"), name));
  xml = hd_nodedev_xml_format (dev);
  hd_dbus_device_complete_get_xmldesc (device, invocation, xml);
  return TRUE;
}

/* The hostdev for @dev in @o's format. */
static char *
render_hostdev (HdNodeDevice *dev, const HdDBusOptions *o, GError **error)
{
  g_autoptr(HdHostdev) h = NULL;
  g_autoptr(GPtrArray) one = NULL;

  if (o->format == NULL || g_str_equal (o->format, "libvirt"))
    return hd_hostdev_xml_for_address (&dev->pci->address, o->managed, o->driver);
  h = hd_hostdev_new (&dev->pci->address);
  h->managed = o->managed;
  h->driver = g_strdup (o->driver);
  if (g_str_equal (o->format, "qemu"))
    return hd_hostdev_to_qemu_arg (h, error);
  if (g_str_equal (o->format, "xl"))
    {
      one = g_ptr_array_new ();
      g_ptr_array_add (one, h);
      return hd_hostdevs_to_xl_pci (one);
    }
  g_set_error (error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
               _("unknown format '%s' (libvirt, xl or qemu)"), o->format);
  return NULL;
}

static gboolean
on_get_hostdev (HdDBusDevice *device, GDBusMethodInvocation *invocation, GVariant *options,
                HdDBusService *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdNodeDevice) dev = NULL;
  g_autofree char *text = NULL;
  g_auto(HdDBusOptions) o = { 0 };

  /* "" is no driver name here: the XML would carry it. */
  if (hd_dbus_options_parse (options, HD_DBUS_OPT_FORMAT | HD_DBUS_OPT_DRIVER | HD_DBUS_OPT_MANAGED, &o, &error) &&
      (o.driver == NULL || (*o.driver != '\0' ? hd_stub_driver_lookup (o.driver, &error) != NULL
                                              : (g_set_error (&error, HD_ERROR, HD_ERROR_INVALID_ARGUMENT,
                                                              _("unknown driver name '%s'"), o.driver), FALSE))) &&
      (dev = hd_inventory_refresh_pci (self->inventory, hd_dbus_device_get_name (device), &error)) != NULL)
    text = render_hostdev (dev, &o, &error);
  if (text == NULL)
    return hd_dbus_return_error (invocation, g_steal_pointer (&error));
  hd_dbus_device_complete_get_hostdev (device, invocation, text);
  return TRUE;
}

static gboolean
on_device_detach (HdDBusDevice *device, GDBusMethodInvocation *invocation, GVariant *options,
                  HdDBusService *self)
{
  return start (self, invocation, OP_DETACH, hd_dbus_device_get_name (device), options);
}

static gboolean
on_device_reattach (HdDBusDevice *device, GDBusMethodInvocation *invocation, GVariant *options,
                    HdDBusService *self)
{
  return start (self, invocation, OP_REATTACH, hd_dbus_device_get_name (device), options);
}

static gboolean
on_device_reset (HdDBusDevice *device, GDBusMethodInvocation *invocation, GVariant *options,
                 HdDBusService *self)
{
  return start (self, invocation, OP_RESET, hd_dbus_device_get_name (device), options);
}

void
hd_dbus_methods_connect_device (HdDBusService *self, HdDBusDevice *device)
{
  g_signal_connect (device, "handle-get-xmldesc", G_CALLBACK (on_get_xml_desc), self);
  g_signal_connect (device, "handle-get-hostdev", G_CALLBACK (on_get_hostdev), self);
  g_signal_connect (device, "handle-detach", G_CALLBACK (on_device_detach), self);
  g_signal_connect (device, "handle-re-attach", G_CALLBACK (on_device_reattach), self);
  g_signal_connect (device, "handle-reset", G_CALLBACK (on_device_reset), self);
}
