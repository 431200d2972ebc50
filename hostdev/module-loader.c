#include "config.h"

#include "module-loader.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <libkmod.h>

#include "nodedev/error.h"

typedef struct kmod_ctx HdKmodCtx;
typedef struct kmod_module HdKmodModule;
typedef struct kmod_list HdKmodList;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdKmodCtx, kmod_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdKmodModule, kmod_module_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdKmodList, kmod_module_unref_list)

gboolean
hd_module_loader_driver_present (const HdStubDriver *stub)
{
  g_autofree char *dir = g_build_filename ("/sys/bus/pci/drivers", stub->driver, NULL);

  return g_file_test (dir, G_FILE_TEST_IS_DIR);
}

static gboolean
insert (const HdStubDriver *stub, GError **error)
{
  g_autoptr(HdKmodCtx) ctx = kmod_new (NULL, NULL);
  g_autoptr(HdKmodList) list = NULL;
  struct kmod_list *l;
  int r;

  if (ctx == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FAILED,
                   _("Failed to load PCI driver module %s: cannot read the module index"), stub->module);
      return FALSE;
    }
  r = kmod_module_new_from_lookup (ctx, stub->module, &list);
  if (r < 0 || list == NULL)
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FAILED,
                   _("Failed to load PCI driver module %s: no such module for this kernel"), stub->module);
      return FALSE;
    }
  kmod_list_foreach (l, list)
    {
      g_autoptr(HdKmodModule) mod = kmod_module_get_module (l);

      /* Honour the admin's blacklist, as modprobe does: a blacklisted
       * stub is a decision, not an accident. */
      r = kmod_module_probe_insert_module (mod, KMOD_PROBE_APPLY_BLACKLIST, NULL, NULL, NULL, NULL);
      if (r == KMOD_PROBE_APPLY_BLACKLIST)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_FAILED,
                       _("Failed to load PCI driver module %s: administratively prohibited"), stub->module);
          return FALSE;
        }
      if (r < 0)
        {
          g_set_error (error, HD_ERROR, HD_ERROR_FAILED,
                       _("Failed to load PCI driver module %s: %s"), stub->module, g_strerror (-r));
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
hd_module_loader_load (const HdStubDriver *stub, gpointer user_data, GError **error)
{
  if (hd_module_loader_driver_present (stub))
    return TRUE;
  if (!insert (stub, error))
    return FALSE;
  if (!hd_module_loader_driver_present (stub))
    {
      g_set_error (error, HD_ERROR, HD_ERROR_FAILED,
                   _("module %s is loaded but the PCI driver %s did not appear"), stub->module, stub->driver);
      return FALSE;
    }
  return TRUE;
}
