/* hostdevctl: the admin command.  A client of hostdevd's D-Bus API
 * (org.hostdevd1 on the system bus) and nothing else: it never reads or
 * writes sysfs, so what it shows is what the daemon knows and what it does
 * goes through the daemon's verdicts, journal and polkit.
 *
 * Exit status, one per class of failure so that scripts can tell a device
 * that is missing from one the host is using (also in `hostdevctl --help`):
 *   0  success
 *   1  the operation failed (Failed, System, InvalidData, TimedOut, ...)
 *   2  usage error, or the daemon said InvalidArgument / ArgumentUnsupported
 *   3  no such device (NoDevice)
 *   4  not authorized (NotAuthorized, or the bus refused the call)
 *   5  refused by a safety verdict: the host or the IOMMU group uses it (InUse)
 *   6  another operation holds the device (Busy)
 *   7  not supported (NotSupported, or a daemon without that method)
 *   8  hostdevd is not reachable (no system bus, or nothing owns org.hostdevd1)
 */
#pragma once

#include <gio/gio.h>

#include "dbus/hd-dbus-generated.h"

G_BEGIN_DECLS

#define HD_CTL_BUS_NAME "org.hostdevd1"
#define HD_CTL_ROOT_PATH "/org/hostdevd1"
#define HD_CTL_MANAGER_PATH "/org/hostdevd1/Manager"
#define HD_CTL_MANAGER_IFACE "org.hostdevd1.Manager"
#define HD_CTL_DEVICE_IFACE "org.hostdevd1.Device"

typedef enum {
  HD_CTL_EXIT_OK = 0,
  HD_CTL_EXIT_FAILED = 1,
  HD_CTL_EXIT_USAGE = 2,
  HD_CTL_EXIT_NO_DEVICE = 3,
  HD_CTL_EXIT_NOT_AUTHORIZED = 4,
  HD_CTL_EXIT_IN_USE = 5,
  HD_CTL_EXIT_BUSY = 6,
  HD_CTL_EXIT_NOT_SUPPORTED = 7,
  HD_CTL_EXIT_UNREACHABLE = 8,
} HdCtlExit;

/* hostdevctl's own failures; the code is the exit status. */
#define HD_CTL_ERROR (hd_ctl_error_quark ())
GQuark hd_ctl_error_quark (void);

typedef struct _HdCtl HdCtl;

typedef struct {
  const char *name;
  const char *operands;     /* "DEVICE", or NULL when it takes none */
  const char *summary;      /* N_(): one line in the command list */
  const char *description;  /* N_(): what it does, for COMMAND --help */
  const char *examples;     /* N_(): one example per line */
  int (*run) (HdCtl *ctl, int argc, char **argv);
} HdCtlCommand;

/* Everything a command needs, passed around instead of globals. */
struct _HdCtl {
  const HdCtlCommand *command;
  gboolean no_color;             /* --no-color, before or after the command */
  gboolean color;                /* decided when the options are parsed */
  GDBusConnection *bus;
  GDBusObjectManager *objects;   /* one GetManagedObjects: every device */
  HdDBusManager *manager;
};

void hd_ctl_clear (HdCtl *ctl);

/* Parses a command's options (@entries, NULL-terminated, may be NULL; plus
 * --no-color and --help) and checks that exactly @n_operands operands are
 * left, in (*argv)[1..].  Returns -1 to go on, otherwise the exit status:
 * 0 once --help is printed, 2 after a usage error (printed). */
int hd_ctl_parse_options (HdCtl *ctl, const GOptionEntry *entries,
                          int *argc, char ***argv, int n_operands);

/* Prints "hostdevctl: MESSAGE" on stderr (the D-Bus error name stripped)
 * and returns the exit status of @error's class. */
int hd_ctl_fail (GError *error);
HdCtlExit hd_ctl_exit_status_for_error (const GError *error);

/* hostdevctl-client.c: the daemon. */
gboolean hd_ctl_connect (HdCtl *ctl, GError **error);
HdDBusManager *hd_ctl_get_manager (HdCtl *ctl, GError **error);
/* Every device (computer first if @with_computer, then PCI functions in
 * address order), as HdDBusDevice proxies; transfer container. */
GPtrArray *hd_ctl_list_devices (HdCtl *ctl, gboolean with_computer);
/* @what: a libvirt name ("pci_0000_01_00_0") or a PCI address
 * ("0000:01:00.0" or "01:00.0"). */
HdDBusDevice *hd_ctl_find_device (HdCtl *ctl, const char *what, GError **error);
HdDBusDevice *hd_ctl_device_at (HdCtl *ctl, const char *object_path);
/* The libvirt name of the device at @object_path; newly allocated. */
char *hd_ctl_name_of (HdCtl *ctl, const char *object_path);
int hd_ctl_compare_devices (gconstpointer a, gconstpointer b);

/* The commands. */
int hd_ctl_cmd_list (HdCtl *ctl, int argc, char **argv);
int hd_ctl_cmd_tree (HdCtl *ctl, int argc, char **argv);
int hd_ctl_cmd_show (HdCtl *ctl, int argc, char **argv);
int hd_ctl_cmd_dumpxml (HdCtl *ctl, int argc, char **argv);
int hd_ctl_cmd_detach (HdCtl *ctl, int argc, char **argv);
int hd_ctl_cmd_reattach (HdCtl *ctl, int argc, char **argv);
int hd_ctl_cmd_reset (HdCtl *ctl, int argc, char **argv);
int hd_ctl_cmd_monitor (HdCtl *ctl, int argc, char **argv);
int hd_ctl_cmd_validate (HdCtl *ctl, int argc, char **argv);
int hd_ctl_cmd_hostdev_xml (HdCtl *ctl, int argc, char **argv);
int hd_ctl_cmd_assignments (HdCtl *ctl, int argc, char **argv);
int hd_ctl_cmd_set_virt_use_sysfs (HdCtl *ctl, int argc, char **argv);

G_END_DECLS
