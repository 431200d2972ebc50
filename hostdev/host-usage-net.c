/* Network interfaces the host uses: with addresses, carrying routes, or
 * enslaved to a bridge, bond or team (see host-usage-private.h). */
#define G_LOG_DOMAIN "HostdevdHostUsage"

#include "config.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "host-usage-private.h"
#include "nodedev/sysfs.h"

typedef struct ifaddrs HdIfaddrs;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdIfaddrs, freeifaddrs)

/* /proc/net/route: a header, then "Iface Destination Gateway …", 11
 * columns.  /proc/net/ipv6_route: no header, 10 columns, the device last;
 * every interface that is up has link-local and multicast routes, so
 * those say nothing about use. */
static gboolean
read_routes (const char *path, gboolean ipv6, GHashTable *routed, GError **error)
{
  g_auto(GStrv) lines = NULL;

  if (!hd_usage_read_lines (path, &lines, error))
    return FALSE;
  for (guint i = ipv6 ? 0 : 1; lines != NULL && lines[0] != NULL && lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = hd_usage_split_fields (lines[i]);
      guint n = g_strv_length (f);

      if (n > 0 && (ipv6 ? n != 10 || strlen (f[0]) != 32 : n != 11))
        return hd_usage_malformed (path, i + 1, error);
      if (n == 0 || (ipv6 && (g_ascii_strncasecmp (f[0], "ff", 2) == 0 ||
                              (g_ascii_strncasecmp (f[0], "fe", 2) == 0 && strchr ("89abAB", f[0][2]) != NULL))))
        continue;
      if (!g_str_equal (f[ipv6 ? 9 : 0], "lo"))
        g_hash_table_add (routed, g_strdup (f[ipv6 ? 9 : 0]));
    }
  return TRUE;
}

/* fe80::/10: every IPv6 interface has one, so it says nothing about use. */
static gboolean
is_link_local (const char *address)
{
  g_autofree char *host = g_strndup (address, strcspn (address, "/%"));
  struct in6_addr a;

  return inet_pton (AF_INET6, host, &a) == 1 && a.s6_addr[0] == 0xfe && (a.s6_addr[1] & 0xc0) == 0x80;
}

/* The default address source: @user_data is getifaddrs(3)'s list. */
static GStrv
host_interface_addresses (const char *ifname, gpointer user_data)
{
  g_autoptr(GStrvBuilder) found = g_strv_builder_new ();

  for (const struct ifaddrs *ifa = user_data; ifa != NULL; ifa = ifa->ifa_next)
    {
      int family = ifa->ifa_addr != NULL ? ifa->ifa_addr->sa_family : AF_UNSPEC;
      gsize offset = family == AF_INET ? G_STRUCT_OFFSET (struct sockaddr_in, sin_addr)
                                       : G_STRUCT_OFFSET (struct sockaddr_in6, sin6_addr);
      const guint8 *mask = ifa->ifa_netmask != NULL ? (const guint8 *) ifa->ifa_netmask + offset : NULL;
      char text[INET6_ADDRSTRLEN];
      g_autofree char *address = NULL;
      guint prefix = 0;

      if ((family != AF_INET && family != AF_INET6) || !g_str_equal (ifa->ifa_name, ifname) ||
          inet_ntop (family, (const guint8 *) ifa->ifa_addr + offset, text, sizeof text) == NULL)
        continue;
      for (guint b = 0; mask != NULL && b < (family == AF_INET ? 4u : 16u); b++)
        prefix += (guint) __builtin_popcount (mask[b]);
      address = g_strdup_printf ("%s/%u", text, prefix);
      g_strv_builder_add (found, address);
    }
  return g_strv_builder_end (found);
}

gboolean
hd_usage_scan_net (HdUsageScan *s, const HdHostUsageSources *src, GError **error)
{
  g_autoptr(GHashTable) routed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(HdIfaddrs) host = NULL;
  g_autoptr(GPtrArray) names = NULL;
  GStrv (*addresses_of) (const char *, gpointer) = src->interface_addresses;
  gpointer data = src->user_data;

  if (!read_routes (src->ipv4_routes ? src->ipv4_routes : "/proc/net/route", FALSE, routed, error) ||
      !read_routes (src->ipv6_routes ? src->ipv6_routes : "/proc/net/ipv6_route", TRUE, routed, error))
    return FALSE;
  /* without addresses every interface would look free: refuse instead */
  if (addresses_of == NULL && getifaddrs (&host) < 0)
    return hd_usage_fail (error, HD_ERROR_FAILED, _("cannot list the network addresses: %s"), g_strerror (errno));
  if (addresses_of == NULL)
    {
      addresses_of = host_interface_addresses;
      data = host;
    }
  names = hd_sysfs_list_dir ("/sys/class/net", NULL);
  for (guint i = 0; names != NULL && i < names->len; i++)
    {
      const char *ifname = g_ptr_array_index (names, i);
      g_autofree char *dir = g_build_filename ("/sys/class/net", ifname, NULL);
      g_autofree char *dev = hd_usage_canonical (dir);
      g_autofree char *master = NULL;
      g_auto(GStrv) addresses = NULL;
      g_autoptr(GString) listed = g_string_new (NULL);

      /* bridges, bonds, tunnels, lo: no hardware to take away */
      if (dev == NULL || g_str_has_prefix (dev, "/sys/devices/virtual/"))
        continue;
      addresses = addresses_of (ifname, data);
      for (guint a = 0; addresses != NULL && addresses[a] != NULL; a++)
        if (!is_link_local (addresses[a]))
          g_string_append_printf (listed, "%s%s", listed->len > 0 ? ", " : "", addresses[a]);
      if (listed->len > 0)
        hd_usage_add (s, HD_HOST_USE_NET_ADDRESS, dev,
                      g_strdup_printf (_("network interface %s has addresses %s"), ifname, listed->str));
      if (g_hash_table_contains (routed, ifname))
        hd_usage_add (s, HD_HOST_USE_NET_ROUTE, dev,
                      g_strdup_printf (_("network interface %s carries routes"), ifname));
      if ((master = hd_sysfs_read_link_basename (dir, "master")) != NULL)
        hd_usage_add (s, HD_HOST_USE_NET_MASTER, dev,
                      g_strdup_printf (_("network interface %s is enslaved to %s"), ifname, master));
    }
  return TRUE;
}
