/* What the host itself uses, mapped onto sysfs device paths: filesystems
 * (the root one named as such), swap, network interfaces with addresses,
 * routes or a master (bridge, bond, team), the boot VGA device and active
 * framebuffers.  A PCI device is "in use by the host" when one of these
 * sits on it or anywhere below it (the verdict adds the chipset's own
 * functions, by their class: verdict.h). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  HD_HOST_USE_ROOT_FS,      /* backs the root filesystem */
  HD_HOST_USE_MOUNT,        /* backs another mounted filesystem */
  HD_HOST_USE_SWAP,         /* backs active swap */
  HD_HOST_USE_NET_ADDRESS,  /* a network interface with addresses */
  HD_HOST_USE_NET_ROUTE,    /* a network interface that routes carry */
  HD_HOST_USE_NET_MASTER,   /* a network interface enslaved to a bridge/bond/team */
  HD_HOST_USE_BOOT_VGA,     /* the firmware's boot display */
  HD_HOST_USE_FRAMEBUFFER,  /* an active framebuffer console */
} HdHostUseKind;

typedef struct {
  HdHostUseKind kind;
  char *holder;       /* canonical sysfs path of what is used: a block device (the physical
                       * one under dm, md or NVMe multipath), a net interface, a virtio
                       * device (9p, virtiofs), a PCI function (boot VGA, framebuffer) */
  char *description;  /* translated, for people: "/dev/vda1 is mounted on /boot" */
} HdHostUse;

void hd_host_use_free (HdHostUse *use);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdHostUse, hd_host_use_free)

/* Where the facts come from; the defaults are the running host's.  Tests
 * hand in fixture files and a fake address table.  sysfs is read through
 * /sys (umockdev redirects it in tests). */
typedef struct {
  const char *mountinfo;    /* /proc/self/mountinfo */
  const char *swaps;        /* /proc/swaps */
  const char *ipv4_routes;  /* /proc/net/route */
  const char *ipv6_routes;  /* /proc/net/ipv6_route */
  /* Addresses of @ifname as "ADDR/PREFIX", NULL or empty if none.  NULL
   * here: getifaddrs(3).  IPv6 link-local addresses do not count. */
  GStrv (*interface_addresses) (const char *ifname, gpointer user_data);
  gpointer user_data;
} HdHostUsageSources;

typedef struct _HdHostUsage HdHostUsage;

/* One snapshot of the host's use of devices.  @sources NULL: this host.
 * Missing source files are not errors (a container may lack /proc/swaps);
 * only unreadable or malformed ones are (HD_ERROR_FAILED,
 * HD_ERROR_INVALID_DATA, naming the file and line), and so is a failing
 * getifaddrs(3), since every interface would then look free.  One use is
 * kept per kind and holder (bind mounts repeat a device). */
HdHostUsage *hd_host_usage_scan (const HdHostUsageSources *sources, GError **error);
void hd_host_usage_free (HdHostUsage *usage);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdHostUsage, hd_host_usage_free)

/* The uses on @syspath (a PCI function's canonical sysfs directory) or
 * below it, sorted by kind, then holder; an empty array if the host does
 * not use it.  Elements are copies (HdHostUse), owned by the array. */
GPtrArray *hd_host_usage_lookup (HdHostUsage *usage, const char *syspath);

/* Every use found, for diagnostics and tests. */
GPtrArray *hd_host_usage_list (HdHostUsage *usage);

G_END_DECLS
