/* The kernel modules of device assignment: loaded (<root>/sys/module), built
 * in, loadable (libkmod on <root>/lib/modules/<release>, as modprobe would
 * find them) or missing; and /dev/vfio/vfio.  Nothing is loaded here. */
#include "config.h"

#define G_LOG_DOMAIN "HostdevdReadiness"

#include "host-readiness-private.h"

#include <string.h>

#include <glib/gi18n.h>
#include <libkmod.h>

typedef struct kmod_ctx HdKmodCtx;
typedef struct kmod_module HdKmodModule;
typedef struct kmod_list HdKmodList;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdKmodCtx, kmod_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdKmodModule, kmod_module_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdKmodList, kmod_module_unref_list)

typedef enum {
  MOD_MISSING,
  MOD_LOADABLE,
  MOD_LOADED,
  MOD_BUILTIN,
} ModState;

typedef enum {
  ROLE_NEEDED,    /* assignment on this host cannot work without it */
  ROLE_OPTIONAL,  /* one of the drivers a user may pick */
  ROLE_UNUSED,    /* the other kind of host's */
} ModRole;

typedef struct {
  const char *root;
  const char *release;
  char *moddir;          /* <root>/lib/modules/<release>; NULL without a release */
  gboolean moddir_exists;
  gboolean has_index;    /* modules.dep.bin: libkmod reads nothing else */
  gboolean no_loading;   /* kernel.modules_disabled=1: nothing more loads until reboot */
  HdKmodCtx *ctx;
} Lookup;

/* libkmod's complaints go to the debug log: a missing index is a fact the
 * checks report, not an error for the journal. */
G_GNUC_PRINTF (6, 0) static void
kmod_log (void *data, int priority, const char *file, int line, const char *fn,
          const char *format, va_list args)
{
  g_autofree char *text = g_strdup_vprintf (format, args);

  g_debug ("libkmod: %s", text);
}

static void
lookup_init (Lookup *l, const char *root, const char *release)
{
  g_autofree char *disabled = hd_readiness_read_line (root, "proc/sys/kernel/modules_disabled");

  l->root = root;
  l->release = release;
  l->no_loading = g_strcmp0 (disabled, "1") == 0;
  /* the release names a directory: nothing that climbs out of lib/modules */
  if (release == NULL || strchr (release, '/') != NULL ||
      g_str_equal (release, ".") || g_str_equal (release, ".."))
    return;
  l->moddir = g_build_filename (root, "lib/modules", release, NULL);
  l->moddir_exists = g_file_test (l->moddir, G_FILE_TEST_IS_DIR);
  if (l->moddir_exists)
    {
      g_autofree char *index = g_build_filename (l->moddir, "modules.dep.bin", NULL);
      /* modprobe's configuration directories, below the root too, so that
       * a fixture never sees this machine's aliases */
      g_autofree char *etc = g_build_filename (root, "etc/modprobe.d", NULL);
      g_autofree char *run = g_build_filename (root, "run/modprobe.d", NULL);
      g_autofree char *local = g_build_filename (root, "usr/local/lib/modprobe.d", NULL);
      g_autofree char *lib = g_build_filename (root, "lib/modprobe.d", NULL);
      const char *config[] = { etc, run, local, lib, NULL };

      l->has_index = g_file_test (index, G_FILE_TEST_EXISTS);
      l->ctx = kmod_new (l->moddir, config);
      if (l->ctx != NULL)
        kmod_set_log_fn (l->ctx, kmod_log, NULL);
    }
}

static void
lookup_clear (Lookup *l)
{
  g_clear_pointer (&l->ctx, kmod_unref);
  g_clear_pointer (&l->moddir, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Lookup, lookup_clear)

/* The state of @name; *@where gets the module file as the host sees it. */
static ModState
module_state (const Lookup *l, const char *name, char **where)
{
  g_autofree char *us = g_strdelimit (g_strdup (name), "-", '_');
  g_autofree char *sysdir = g_strconcat ("sys/module/", us, NULL);
  g_autofree char *initstate = g_strconcat (sysdir, "/initstate", NULL);
  g_autoptr(HdKmodList) list = NULL;
  g_autoptr(HdKmodModule) mod = NULL;
  const char *path;
  const char *kdir;

  /* /sys/module/<name> holds loaded modules and built-in ones with
   * parameters; only a loaded module has an initstate */
  if (hd_readiness_exists (l->root, sysdir))
    return hd_readiness_exists (l->root, initstate) ? MOD_LOADED : MOD_BUILTIN;
  if (l->ctx == NULL || kmod_module_new_from_lookup (l->ctx, name, &list) < 0 || list == NULL)
    return MOD_MISSING;
  mod = kmod_module_get_module (list);
  path = kmod_module_get_path (mod);
  /* found without a file: modules.builtin names it */
  if (path == NULL)
    return MOD_BUILTIN;
  /* libkmod answers with its absolute directory; name the file as the host sees it */
  kdir = kmod_get_dirname (l->ctx);
  if (kdir != NULL && g_str_has_prefix (path, kdir) && path[strlen (kdir)] == '/')
    *where = g_build_filename ("/lib/modules", l->release, path + strlen (kdir) + 1, NULL);
  else
    *where = g_strdup (path);
  return MOD_LOADABLE;
}

static char *
state_text (const Lookup *l, const char *name, ModState state, const char *where)
{
  switch (state)
    {
    case MOD_LOADED:
      return g_strdup_printf (_("%s is loaded"), name);
    case MOD_BUILTIN:
      return g_strdup_printf (_("%s is built into the kernel"), name);
    case MOD_LOADABLE:
      return g_strdup_printf (_("%s is available (%s) but not loaded"), name, where);
    case MOD_MISSING:
    default:
      if (l->release == NULL)
        return g_strdup_printf (_("%s: the running kernel's release is unknown (no /proc/sys/kernel/osrelease)"), name);
      if (!l->moddir_exists)
        return g_strdup_printf (_("%s is not available: no modules are installed for the running kernel %s (/lib/modules/%s)"),
                                name, l->release, l->release);
      if (!l->has_index)
        return g_strdup_printf (_("%s is not available: /lib/modules/%s has no module index"), name, l->release);
      return g_strdup_printf (_("%s is not available in kernel %s"), name, l->release);
    }
}

static char *
load_fix (const char *name)
{
  return g_strdup_printf (_("To load it now: modprobe %s\nTo load it at every boot: echo %s > /etc/modules-load.d/%s.conf"),
                          name, name, name);
}

static char *
missing_fix (const Lookup *l, const char *config)
{
  if (l->release == NULL)
    return g_strdup (_("Mount /proc."));
  if (!l->moddir_exists)
    return g_strdup_printf (_("Install the modules of the running kernel %s, or boot a kernel whose modules are installed."), l->release);
  if (!l->has_index)
    return g_strdup_printf ("depmod %s", l->release);
  return g_strdup_printf (_("Boot a kernel built with %s (=m or =y), as distribution kernels are."), config);
}

static const struct {
  const char *id;
  const char *name;
  const char *config;
} modules[] = {
  { "module-vfio", "vfio", "CONFIG_VFIO" },
  { "module-vfio-pci", "vfio-pci", "CONFIG_VFIO_PCI" },
  { "module-vfio-iommu-type1", "vfio_iommu_type1", "CONFIG_VFIO_IOMMU_TYPE1" },
  { "module-pci-stub", "pci-stub", "CONFIG_PCI_STUB" },
  { "module-xen-pciback", "xen-pciback", "CONFIG_XEN_PCIDEV_BACKEND" },
};

static ModRole
role_of (const HdReadiness *r, const char *name)
{
  gboolean xen_driver = g_str_equal (name, "xen-pciback");

  if (r->xen_dom0)
    return xen_driver ? ROLE_NEEDED : ROLE_UNUSED;
  if (xen_driver)
    return ROLE_UNUSED;
  return g_str_equal (name, "pci-stub") ? ROLE_OPTIONAL : ROLE_NEEDED;
}

static void
check_module (HdReadiness *r, const Lookup *l, guint i, ModState *vfio_state)
{
  const char *name = modules[i].name;
  g_autofree char *title = g_strdup_printf (_("Kernel module %s"), name);
  g_autofree char *where = NULL;
  ModState state = module_state (l, name, &where);
  g_autofree char *text = state_text (l, name, state, where);
  ModRole role = role_of (r, name);
  gboolean present = state == MOD_LOADED || state == MOD_BUILTIN;
  HdReadinessStatus status;
  char *detail;
  char *fix = NULL;

  if (g_str_equal (name, "vfio"))
    *vfio_state = state;
  if (g_str_equal (name, "vfio-pci"))
    r->vfio_available = present || (state == MOD_LOADABLE && !l->no_loading);

  if (role == ROLE_UNUSED)
    {
      status = HD_READINESS_INFO;
      detail = g_strdup_printf ("%s; %s", text, r->xen_dom0 ? _("VFIO is not used on a Xen dom0")
                                                            : _("only a Xen dom0 uses it"));
    }
  else if (role == ROLE_OPTIONAL)
    {
      status = state == MOD_MISSING ? HD_READINESS_INFO : HD_READINESS_PASS;
      detail = g_strdup_printf ("%s; %s", text, _("only the legacy kvm driver (pci-stub) uses it"));
    }
  else if (present)
    {
      status = HD_READINESS_PASS;
      detail = g_steal_pointer (&text);
    }
  else if (state == MOD_LOADABLE && l->no_loading)
    {
      status = HD_READINESS_FAIL;
      detail = g_strdup_printf ("%s; %s", text, _("module loading is disabled (kernel.modules_disabled=1) until the next boot"));
      fix = g_strdup_printf (_("Load it at boot, before module loading is disabled: echo %s > /etc/modules-load.d/%s.conf\nThen reboot."),
                             name, name);
    }
  else if (state == MOD_LOADABLE)
    {
      status = HD_READINESS_INFO;
      detail = g_strdup_printf ("%s; %s", text, _("hostdevd loads it when a device is detached to it"));
      fix = load_fix (name);
    }
  else
    {
      g_autofree char *iommufd_where = NULL;

      /* kernels with iommufd can give VFIO its DMA mappings without type1 */
      if (g_str_equal (name, "vfio_iommu_type1") &&
          module_state (l, "iommufd", &iommufd_where) != MOD_MISSING)
        {
          status = HD_READINESS_INFO;
          detail = g_strdup_printf ("%s; %s", text, _("iommufd provides VFIO's DMA mappings instead"));
        }
      else
        {
          status = HD_READINESS_FAIL;
          detail = g_steal_pointer (&text);
          fix = missing_fix (l, modules[i].config);
        }
    }
  hd_readiness_add (r->checks, modules[i].id, title, status, detail, fix);
}

void
hd_readiness_check_modules (HdReadiness *r, const char *root, const char *release)
{
  g_auto(Lookup) l = { 0 };
  ModState vfio_state = MOD_MISSING;
  const char *title = _("VFIO container device /dev/vfio/vfio");

  lookup_init (&l, root, release);
  for (guint i = 0; i < G_N_ELEMENTS (modules); i++)
    check_module (r, &l, i, &vfio_state);

  if (r->xen_dom0)
    hd_readiness_add (r->checks, "vfio-device", title, HD_READINESS_INFO,
                      g_strdup (_("VFIO is not used on a Xen dom0")), NULL);
  else if (hd_readiness_exists (root, "dev/vfio/vfio"))
    hd_readiness_add (r->checks, "vfio-device", title, HD_READINESS_PASS,
                      g_strdup (_("/dev/vfio/vfio is present")), NULL);
  else if (vfio_state == MOD_LOADED || vfio_state == MOD_BUILTIN)
    hd_readiness_add (r->checks, "vfio-device", title, HD_READINESS_WARN,
                      g_strdup (_("vfio is loaded but /dev/vfio/vfio is missing")),
                      g_strdup (_("Let udev create it: udevadm trigger --subsystem-match=misc --action=add\nOr by hand: mkdir -p /dev/vfio && mknod -m 0666 /dev/vfio/vfio c 10 196")));
  else
    hd_readiness_add (r->checks, "vfio-device", title, HD_READINESS_INFO,
                      g_strdup (_("/dev/vfio/vfio appears when vfio is loaded")), NULL);
}
