/* <hostdev> XML against libvirt 9.0's rules.  Every case runs through
 * hostdevd's parser and, where virsh is installed, through libvirt's own:
 * `virsh -c test:///default define` parses in-process with the test driver
 * (no daemon), so its verdict, its message and its `dumpxml` are the
 * reference.  The test driver parses as --config does (inactive), which
 * keeps only 'ua-' aliases and gives interfaces a <target dev>. */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "nodedev/error.h"
#include "xml/hostdev-xml.h"
#include "xml/xml-reader.h"

#define DOMAIN_HEAD "<domain type='test'>\n" \
                    "  <name>hd-test</name>\n" \
                    "  <uuid>6f1e0c3a-58a4-4a56-9f6e-2a1d0c7b9e10</uuid>\n" \
                    "  <memory>1024</memory>\n" \
                    "  <os><type>hvm</type></os>\n" \
                    "  <devices>\n"
#define DOMAIN_TAIL "  </devices>\n</domain>\n"

static char *
wrap (const char *devices)
{
  return g_strconcat (DOMAIN_HEAD, devices, "\n" DOMAIN_TAIL, NULL);
}

/* ---- libvirt as the oracle --------------------------------------------- */

static char *oracle_dir;   /* NULL: no usable virsh */

static gboolean
oracle_available (void)
{
  static int state = -1;

  if (state < 0)
    {
      g_autofree char *virsh = g_find_program_in_path ("virsh");
      const char *argv[] = { "virsh", "-q", "-c", "test:///default", "version", NULL };
      g_autofree char *out = NULL;
      int status = -1;

      /* Only libvirt 9.0 (Debian 12) is the reference: the texts change. */
      state = 0;
      if (virsh != NULL &&
          g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                        NULL, NULL, &out, NULL, &status, NULL) &&
          g_spawn_check_wait_status (status, NULL) &&
          strstr (out, "Using library: libvirt 9.0.") != NULL)
        {
          oracle_dir = g_dir_make_tmp ("hostdev-xml-XXXXXX", NULL);
          state = oracle_dir != NULL;
        }
    }
  return state == 1;
}

typedef struct {
  gboolean defined;
  char *xml;       /* dumpxml */
  char *devices;   /* dumpxml's <devices> content, <target> lines dropped */
  char *error;     /* virsh's last "error: " line that is not the dumpxml one */
} Oracle;

static void
oracle_clear (Oracle *o)
{
  g_free (o->xml);
  g_free (o->devices);
  g_free (o->error);
}

/* `virsh define` of @domain_xml, then dumpxml of @name. */
static void
oracle_run_named (const char *domain_xml, const char *name, Oracle *o)
{
  g_autofree char *path = g_build_filename (oracle_dir, "domain.xml", NULL);
  g_autofree char *cmd = g_strdup_printf ("define %s; dumpxml %s", path, name);
  const char *argv[] = { "virsh", "-q", "-c", "test:///default", cmd, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  const char *start, *end;
  int status;

  memset (o, 0, sizeof *o);
  g_assert_true (g_file_set_contents (path, domain_xml, -1, NULL));
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               &out, &err, &status, &error));
  g_unlink (path);

  if ((start = strstr (out, "  <devices>\n")) != NULL &&
      (end = strstr (start, "  </devices>\n")) != NULL)
    {
      g_auto(GStrv) lines = NULL;
      g_autoptr(GString) devices = g_string_new (NULL);
      g_autofree char *inner = NULL;

      start += strlen ("  <devices>\n");
      inner = g_strndup (start, (gsize) (end - start));
      lines = g_strsplit (inner, "\n", -1);
      for (guint i = 0; lines[i] != NULL; i++)
        {
          const char *text = lines[i] + strspn (lines[i], " ");

          if (lines[i][0] != '\0' && !g_str_has_prefix (text, "<target dev="))
            g_string_append_printf (devices, "%s\n", lines[i]);
        }
      o->defined = TRUE;
      o->xml = g_strdup (out);
      o->devices = g_string_free (g_steal_pointer (&devices), FALSE);
    }
  else
    {
      /* "error: Failed to define domain from …" then "error: <message>"
       * (which may span lines), then dumpxml's "error: failed to get domain". */
      const char *msg = strstr (err, "\nerror: ");
      const char *stop;

      g_assert_nonnull (msg);
      msg += strlen ("\nerror: ");
      stop = strstr (msg, "\nerror: failed to get domain");
      o->error = stop != NULL ? g_strndup (msg, (gsize) (stop - msg)) : g_strchomp (g_strdup (msg));
    }
}

static void
oracle_run (const char *domain_xml, Oracle *o)
{
  oracle_run_named (domain_xml, "hd-test", o);
}

static void
test_oracle (void)
{
  if (!oracle_available ())
    g_test_skip ("virsh of libvirt 9.0 (libvirt-clients) with the test driver is not available: "
                 "libvirt's own verdicts are not compared");
}

/* ---- the cases ------------------------------------------------------------ */

/* libvirt's error classes, as virsh prefixes them. */
#define XML "XML error: "
#define CONF "unsupported configuration: "
#define INTERNAL "internal error: "
#define NONE ""

typedef struct {
  const char *name;
  const char *devices;     /* inside <devices> */
  const char *expect;      /* accepted: the formatted PCI hostdevs (indent 4) */
  const char *error;       /* refused: libvirt's text */
  const char *klass;       /* refused: libvirt's class, as virsh prints it */
  gboolean domain_only;    /* not a single PCI device, or a domain-wide check */
  gboolean live_only;      /* libvirt's inactive parse (the oracle) differs: aliases */
  gboolean lossy;          /* libvirt's formatting drops something parsed */
} Case;

#define SRC(attrs) "<hostdev mode='subsystem' type='pci'><source><address " attrs "/></source></hostdev>"
#define OUT(d, b, s, f) \
  "    <hostdev mode='subsystem' type='pci' managed='no'>\n" \
  "      <source>\n" \
  "        <address domain='" d "' bus='" b "' slot='" s "' function='" f "'/>\n" \
  "      </source>\n" \
  "    </hostdev>\n"

static const Case accepted[] = {
  { "canonical", SRC ("domain='0x0000' bus='0x01' slot='0x00' function='0x0'"),
    OUT ("0x0000", "0x01", "0x00", "0x0") },
  { "decimal", SRC ("domain='0' bus='6' slot='31' function='7'"), OUT ("0x0000", "0x06", "0x1f", "0x7") },
  { "octal", SRC ("bus='010' slot='017'"), OUT ("0x0000", "0x08", "0x0f", "0x0") },
  { "upper-case-0X", SRC ("bus='0XFF' slot='0x1F'"), OUT ("0x0000", "0xff", "0x1f", "0x0") },
  { "no-domain", SRC ("bus='0x02' slot='0x07' function='0x1'"), OUT ("0x0000", "0x02", "0x07", "0x1") },
  { "only-bus", SRC ("bus='0x03'"), OUT ("0x0000", "0x03", "0x00", "0x0") },
  { "blank-and-plus", SRC ("bus=' 2' slot='+0x1f' function=' +07'"), OUT ("0x0000", "0x02", "0x1f", "0x7") },
  { "domain-unchecked", SRC ("domain='0x10000' bus='1'"), OUT ("0x10000", "0x01", "0x00", "0x0") },
  { "domain-max", SRC ("domain='4294967295' bus='1'"), OUT ("0xffffffff", "0x01", "0x00", "0x0") },
  /* domain, bus and slot 0: libvirt does not check the address at all. */
  { "empty-unchecked", SRC ("function='9'"), OUT ("0x0000", "0x00", "0x00", "0x9") },
  { "no-address", "<hostdev mode='subsystem' type='pci'><source/></hostdev>",
    OUT ("0x0000", "0x00", "0x00", "0x0") },
  { "ignored-attributes", SRC ("type='pci' bus='1' multifunction='on' foo='bar'"),
    OUT ("0x0000", "0x01", "0x00", "0x0") },
  { "no-mode", "<hostdev type='pci' managed='yes'><source><address bus='1'/></source></hostdev>",
    "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
    "      <source>\n"
    "        <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n"
    "      </source>\n"
    "    </hostdev>\n" },
  /* libvirt ignores its own error for an invalid managed=. */
  { "managed-invalid", "<hostdev mode='subsystem' type='pci' managed='maybe'><source><address bus='1'/></source></hostdev>",
    OUT ("0x0000", "0x01", "0x00", "0x0") },
  { "everything",
    "<hostdev mode='subsystem' type='pci' managed='yes'>\n"
    "  <rom file='/usr/share/rom,1.bin' enabled='yes' bar='off'/>\n"
    "  <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0' multifunction='on'/>\n"
    "  <acpi index='3'/>\n"
    "  <alias name='ua-gpu'/>\n"
    "  <boot order='2' loadparm='ab. 1'/>\n"
    "  <source writeFiltering='no'><address domain='0x0000' bus='0x06' slot='0x02' function='0x1'/></source>\n"
    "  <driver name='vfio'/>\n"
    "</hostdev>",
    "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
    "      <driver name='vfio'/>\n"
    "      <source writeFiltering='no'>\n"
    "        <address domain='0x0000' bus='0x06' slot='0x02' function='0x1'/>\n"
    "      </source>\n"
    "      <boot order='2' loadparm='AB. 1'/>\n"
    "      <alias name='ua-gpu'/>\n"
    "      <rom enabled='yes' bar='off' file='/usr/share/rom,1.bin'/>\n"
    "      <acpi index='3'/>\n"
    "      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0' multifunction='on'/>\n"
    "    </hostdev>\n" },
  { "drivers",
    "<hostdev mode='subsystem' type='pci'><driver name='kvm'/><source><address bus='1'/></source></hostdev>"
    "<hostdev mode='subsystem' type='pci'><driver name='xen'/><source writeFiltering='yes'><address bus='2'/></source></hostdev>",
    "    <hostdev mode='subsystem' type='pci' managed='no'>\n"
    "      <driver name='kvm'/>\n"
    "      <source>\n"
    "        <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n"
    "      </source>\n"
    "    </hostdev>\n"
    "    <hostdev mode='subsystem' type='pci' managed='no'>\n"
    "      <driver name='xen'/>\n"
    "      <source writeFiltering='yes'>\n"
    "        <address domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>\n"
    "      </source>\n"
    "    </hostdev>\n", NULL, NULL, TRUE },
  { "rom-disabled-guest-unassigned",
    "<hostdev mode='subsystem' type='pci'><source><address bus='1'/></source>"
    "<rom enabled='no'/><address type='unassigned'/></hostdev>",
    "    <hostdev mode='subsystem' type='pci' managed='no'>\n"
    "      <source>\n"
    "        <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n"
    "      </source>\n"
    "      <rom enabled='no'/>\n"
    "      <address type='unassigned'/>\n"
    "    </hostdev>\n" },
  { "rom-empty-file",
    "<hostdev mode='subsystem' type='pci'><source><address bus='1'/></source><rom file=''/></hostdev>",
    "    <hostdev mode='subsystem' type='pci' managed='no'>\n"
    "      <source>\n"
    "        <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n"
    "      </source>\n"
    "      <rom file=''/>\n"
    "    </hostdev>\n" },
  /* An "empty" guest address is printed without its attributes. */
  { "guest-empty",
    "<hostdev mode='subsystem' type='pci'><source><address bus='1'/></source>"
    "<address type='pci' function='3' multifunction='off'/></hostdev>",
    "    <hostdev mode='subsystem' type='pci' managed='no'>\n"
    "      <source>\n"
    "        <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n"
    "      </source>\n"
    "      <address type='pci' multifunction='off'/>\n"
    "    </hostdev>\n", NULL, NULL, FALSE, FALSE, TRUE },
  { "acpi-without-index",
    "<hostdev mode='subsystem' type='pci'><source><address bus='1'/></source><acpi/></hostdev>",
    OUT ("0x0000", "0x01", "0x00", "0x0") },
  { "alias-live", "<hostdev mode='subsystem' type='pci'><source><address bus='1'/></source>"
    "<alias name='hostdev0'/></hostdev>",
    "    <hostdev mode='subsystem' type='pci' managed='no'>\n"
    "      <source>\n"
    "        <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n"
    "      </source>\n"
    "      <alias name='hostdev0'/>\n"
    "    </hostdev>\n", NULL, NULL, FALSE, TRUE },
  { "alias-escaped", "<hostdev mode='subsystem' type='pci'><source><address bus='1'/></source>"
    "<alias name=\"a'&lt;b\"/></hostdev>",
    "    <hostdev mode='subsystem' type='pci' managed='no'>\n"
    "      <source>\n"
    "        <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n"
    "      </source>\n"
    "      <alias name='a&apos;&lt;b'/>\n"
    "    </hostdev>\n", NULL, NULL, FALSE, TRUE },
  { "interface",
    "<interface type='hostdev' managed='yes'>\n"
    "  <mac address='52:54:00:6D:90:2'/>\n"
    "  <driver name='vfio'/>\n"
    "  <source><address type='pci' domain='0x0000' bus='0x02' slot='0x07' function='0x1'/></source>\n"
    "  <boot order='1'/>\n"
    "  <alias name='ua-net'/>\n"
    "  <rom enabled='no'/>\n"
    "  <address type='pci' bus='0' slot='5'/>\n"
    "</interface>",
    "    <interface type='hostdev' managed='yes'>\n"
    "      <mac address='52:54:00:6d:90:02'/>\n"
    "      <driver name='vfio'/>\n"
    "      <source>\n"
    "        <address type='pci' domain='0x0000' bus='0x02' slot='0x07' function='0x1'/>\n"
    "      </source>\n"
    "      <boot order='1'/>\n"
    "      <alias name='ua-net'/>\n"
    "      <rom enabled='no'/>\n"
    "      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>\n"
    "    </interface>\n" },
  { "interface-plain",
    "<interface type='hostdev'><mac address='52:54:00:00:00:01'/>"
    "<source><address type='pci' bus='0x03'/></source></interface>",
    "    <interface type='hostdev'>\n"
    "      <mac address='52:54:00:00:00:01'/>\n"
    "      <source>\n"
    "        <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>\n"
    "      </source>\n"
    "    </interface>\n" },
};

#define PCI_DEV(inner) "<hostdev mode='subsystem' type='pci'>" inner "</hostdev>"
#define PCI_SRC(inner) PCI_DEV ("<source><address bus='1'/></source>" inner)

static const Case refused[] = {
  /* the address: virPCIDeviceAddressParseXML */
  { "bus-too-big", SRC ("bus='0x100'"), NULL, "Invalid PCI address bus='0x100', must be <= 0xFF", XML },
  { "bus-256", SRC ("bus='256'"), NULL, "Invalid PCI address bus='0x100', must be <= 0xFF", XML },
  { "slot-too-big", SRC ("bus='1' slot='0x20'"), NULL, "Invalid PCI address slot='0x20', must be <= 0x1F", XML },
  { "function-too-big", SRC ("bus='1' function='8'"), NULL, "Invalid PCI address function=0x8, must be <= 7", XML },
  { "function-checked-with-domain", SRC ("domain='1' function='9'"), NULL,
    "Invalid PCI address function=0x9, must be <= 7", XML },
  { "bare-hex", SRC ("bus='1' slot='1f'"), NULL,
    "Invalid value for attribute 'slot' in element 'address': '1f'. Expected non-negative integer value", XML },
  { "negative", SRC ("bus='-1'"), NULL,
    "Invalid value for attribute 'bus' in element 'address': '-1'. Expected non-negative integer value", XML },
  { "minus-zero", SRC ("domain='-0'"), NULL,
    "Invalid value for attribute 'domain' in element 'address': '-0'. Expected non-negative integer value", XML },
  { "bad-octal", SRC ("bus='1' function='08'"), NULL,
    "Invalid value for attribute 'function' in element 'address': '08'. Expected non-negative integer value", XML },
  { "hex-prefix-only", SRC ("bus='0x'"), NULL,
    "Invalid value for attribute 'bus' in element 'address': '0x'. Expected non-negative integer value", XML },
  { "empty-value", SRC ("bus=''"), NULL,
    "Invalid value for attribute 'bus' in element 'address': ''. Expected non-negative integer value", XML },
  { "trailing-blank", SRC ("bus='1 '"), NULL,
    "Invalid value for attribute 'bus' in element 'address': '1 '. Expected non-negative integer value", XML },
  { "too-wide", SRC ("domain='4294967296'"), NULL,
    "Invalid value for attribute 'domain' in element 'address': '4294967296'. Expected non-negative integer value", XML },
  { "multifunction-invalid", SRC ("bus='1' multifunction='yes'"), NULL,
    "Invalid value for attribute 'multifunction' in element 'address': 'yes'.", XML },
  /* the element: virDomainHostdevDefParseXML(Subsys) */
  { "mode-unknown", "<hostdev mode='x' type='pci'><source/></hostdev>", NULL, "unknown hostdev mode 'x'", CONF },
  { "mode-empty", "<hostdev mode='' type='pci'><source/></hostdev>", NULL, "unknown hostdev mode ''", CONF },
  { "type-missing", "<hostdev mode='subsystem'><source/></hostdev>", NULL, "missing source address type", XML },
  { "type-unknown", "<hostdev mode='subsystem' type='PCI'><source/></hostdev>", NULL,
    "unknown host device source address type 'PCI'", CONF },
  { "source-missing", PCI_DEV ("<address type='pci' bus='0' slot='5'/>"), NULL,
    "Missing <source> element in hostdev device", XML },
  { "startup-policy", PCI_DEV ("<source startupPolicy='optional'><address bus='1'/></source>"), NULL,
    "Setting startupPolicy is only allowed for USB devices", CONF },
  { "sgio", "<hostdev mode='subsystem' type='pci' sgio='filtered'><source/></hostdev>", NULL,
    "sgio is only supported for scsi host device", XML },
  { "sgio-invalid", "<hostdev mode='subsystem' type='pci' sgio='default'><source/></hostdev>", NULL,
    "Invalid value for attribute 'sgio' in element 'hostdev': 'default'.", XML },
  { "rawio", "<hostdev mode='subsystem' type='pci' rawio='no'><source/></hostdev>", NULL,
    "rawio is only supported for scsi host device", XML },
  { "model", "<hostdev mode='subsystem' type='pci' model='vfio-pci'><source/></hostdev>", NULL,
    "'model' attribute in <hostdev> is only supported when type='pci'", XML },
  { "write-filtering-invalid", PCI_DEV ("<source writeFiltering='on'/>"), NULL,
    "Invalid value for attribute 'writeFiltering' in element 'source': 'on'.", XML },
  { "driver-unknown", PCI_SRC ("<driver name='vfio-pci'/>"), NULL,
    "Invalid value for attribute 'name' in element 'driver': 'vfio-pci'.", XML },
  { "driver-default", PCI_SRC ("<driver name='default'/>"), NULL,
    "Invalid value for attribute 'name' in element 'driver': 'default'.", XML },
  /* the device info: virDomainDeviceInfoParseXML */
  { "boot-no-order", PCI_SRC ("<boot/>"), NULL, "Missing required attribute 'order' in element 'boot'", XML },
  { "boot-zero", PCI_SRC ("<boot order='0'/>"), NULL,
    "Invalid value for attribute 'order' in element 'boot': Zero is not permitted", XML },
  { "boot-hex", PCI_SRC ("<boot order='0x1'/>"), NULL,
    "Invalid value for attribute 'order' in element 'boot': '0x1'. Expected non-negative integer value", XML },
  { "loadparm-long", PCI_SRC ("<boot order='1' loadparm='abcdefghi'/>"), NULL,
    "loadparm value 'ABCDEFGHI' must be between 1 and 8 characters", INTERNAL },
  { "loadparm-empty", PCI_SRC ("<boot order='1' loadparm=''/>"), NULL,
    "loadparm value '' must be between 1 and 8 characters", INTERNAL },
  { "loadparm-chars", PCI_SRC ("<boot order='1' loadparm='a_b'/>"), NULL,
    "invalid loadparm value 'A_B', expecting chars in set of [a-zA-Z0-9.] and blank spaces", INTERNAL },
  { "rom-disabled-bar", PCI_SRC ("<rom enabled='no' bar='on'/>"), NULL,
    "ROM tuning is not supported when ROM is disabled", CONF },
  { "rom-disabled-file", PCI_SRC ("<rom enabled='no' file=''/>"), NULL,
    "ROM tuning is not supported when ROM is disabled", CONF },
  { "rom-bar-invalid", PCI_SRC ("<rom bar='yes'/>"), NULL,
    "Invalid value for attribute 'bar' in element 'rom': 'yes'.", XML },
  { "rom-enabled-invalid", PCI_SRC ("<rom enabled='on'/>"), NULL,
    "Invalid value for attribute 'enabled' in element 'rom': 'on'.", XML },
  { "acpi-zero", PCI_SRC ("<acpi index='0'/>"), NULL,
    "Invalid value for attribute 'index' in element 'acpi': Zero is not permitted", XML },
  { "address-no-type", PCI_SRC ("<address bus='0' slot='5'/>"), NULL, "No type specified for device address", INTERNAL },
  { "address-unknown-type", PCI_SRC ("<address type='pcie'/>"), NULL, "unknown address type 'pcie'", CONF },
  { "address-none", PCI_SRC ("<address type='none'/>"), NULL, "unknown address type 'none'", CONF },
  { "address-virtio-s390", PCI_SRC ("<address type='virtio-s390'/>"), NULL,
    "virtio-s390 bus doesn't have an address", XML },
  { "guest-bus-too-big", PCI_SRC ("<address type='pci' bus='0x100'/>"), NULL,
    "Invalid PCI address bus='0x100', must be <= 0xFF", XML },
  /* validation: virDomainHostdevDefValidate */
  { "address-drive", PCI_SRC ("<address type='drive' controller='0' bus='0' target='0' unit='0'/>"), NULL,
    "PCI host devices must use 'pci' or 'unassigned' address type", INTERNAL },
  { "address-virtio-mmio", PCI_SRC ("<address type='virtio-mmio'/>"), NULL,
    "PCI host devices must use 'pci' or 'unassigned' address type", INTERNAL },
  /* interfaces: virDomainNetDefParseXML */
  { "interface-no-type", "<interface type='hostdev'><source><address bus='1'/></source></interface>", NULL,
    "missing source address type", XML },
  { "interface-no-source", "<interface type='hostdev'/>", NULL, "missing source address type", XML },
  { "interface-bad-mac", "<interface type='hostdev'><mac address='52:54:00:00:00'/>"
    "<source><address type='pci' bus='1'/></source></interface>", NULL,
    "unable to parse mac address '52:54:00:00:00'", XML },
  { "interface-multicast-mac", "<interface type='hostdev'><mac address='01:54:00:00:00:01'/>"
    "<source><address type='pci' bus='1'/></source></interface>", NULL,
    "expected unicast mac address, found multicast '01:54:00:00:00:01'", XML },
  { "interface-bad-address", "<interface type='hostdev'><source><address type='pci' slot='32' bus='1'/></source></interface>",
    NULL, "Invalid PCI address slot='0x20', must be <= 0x1F", XML },
  { "interface-guest-address", "<interface type='hostdev'><source><address type='pci' bus='1'/></source>"
    "<address type='ccw'/></interface>", NULL,
    "PCI host devices must use 'pci' or 'unassigned' address type", INTERNAL },
  /* the checks every hostdev goes through, PCI or not */
  { "usb-model", "<hostdev mode='subsystem' type='usb' model='x'><source/></hostdev>", NULL,
    "'model' attribute in <hostdev> is only supported when type='usb'", XML, TRUE },
  { "mdev-no-source", "<hostdev mode='subsystem' type='mdev' model='vfio-pci'/>", NULL,
    "Missing <source> element in hostdev device", XML, TRUE },
  /* domain-wide */
  { "duplicate", SRC ("bus='1'") SRC ("domain='0' bus='0x01' slot='0' function='0'"), NULL,
    "Hostdev already exists in the domain configuration", XML, TRUE },
  { "duplicate-interface", SRC ("bus='1'")
    "<interface type='hostdev'><source><address type='pci' bus='1'/></source></interface>", NULL,
    "Hostdev already exists in the domain configuration", XML, TRUE },
  { "boot-order-twice", PCI_DEV ("<source><address bus='1'/></source><boot order='1'/>")
    "<interface type='hostdev'><source><address type='pci' bus='2'/></source><boot order='1'/></interface>", NULL,
    "boot order '1' used for more than one device", CONF, TRUE },
  { "alias-twice", PCI_DEV ("<source><address bus='1'/></source><alias name='ua-a'/>")
    PCI_DEV ("<source><address bus='2'/></source><alias name='ua-a'/>"), NULL,
    "non unique alias detected: ua-a", CONF, TRUE },
  /* libvirt's order: a parse error anywhere comes before any validation */
  { "parse-before-validate", PCI_SRC ("<address type='drive'/>") SRC ("bus='0x100'"), NULL,
    "Invalid PCI address bus='0x100', must be <= 0xFF", XML, TRUE },
};

/* libvirt's class as hostdevd's code: its "internal errors" of a
 * document are faults of the document too. */
static int
code_of_class (const char *klass)
{
  return g_str_equal (klass, CONF) ? HD_ERROR_CONFIG_UNSUPPORTED : HD_ERROR_XML;
}

static void
check_domain_error (const Case *c, const char *domain_xml)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  g_autoptr(GPtrArray) hostdevs = hd_hostdev_parse_domain (domain_xml, &name, NULL, &error);

  g_assert_null (hostdevs);
  g_assert_error (error, HD_ERROR, code_of_class (c->klass));
  g_assert_cmpstr (error->message, ==, c->error);
  g_assert_null (name);
}

static void
test_refused (gconstpointer data)
{
  const Case *c = data;
  g_autofree char *domain_xml = wrap (c->devices);

  check_domain_error (c, domain_xml);
  if (!c->domain_only)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HdHostdev) h = hd_hostdev_parse (c->devices, &error);

      g_assert_null (h);
      g_assert_error (error, HD_ERROR, code_of_class (c->klass));
      g_assert_cmpstr (error->message, ==, c->error);
    }

  if (oracle_available ())
    {
      Oracle o;
      g_autofree char *expected = g_strconcat (c->klass, c->error, NULL);

      oracle_run (domain_xml, &o);
      g_assert_false (o.defined);
      g_assert_cmpstr (o.error, ==, expected);
      oracle_clear (&o);
    }
}

static char *
format_all (GPtrArray *hostdevs)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < hostdevs->len; i++)
    {
      g_autofree char *one = hd_hostdev_format (g_ptr_array_index (hostdevs, i), HD_HOSTDEV_INDENT_DEVICES);
      g_string_append (s, one);
    }
  return g_string_free (s, FALSE);
}

static guint
count_lines (const char *s)
{
  guint n = 0;

  for (; *s; s++)
    n += *s == '\n';
  return n;
}

static void
test_accepted (gconstpointer data)
{
  const Case *c = data;
  g_autofree char *domain_xml = wrap (c->devices);
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *uuid = NULL;
  g_autoptr(GPtrArray) hostdevs = hd_hostdev_parse_domain (domain_xml, &name, &uuid, &error);
  g_autofree char *formatted = NULL;
  g_autofree char *again_xml = NULL;
  g_autoptr(GPtrArray) again = NULL;
  g_autofree char *formatted_again = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (name, ==, "hd-test");
  g_assert_cmpstr (uuid, ==, "6f1e0c3a-58a4-4a56-9f6e-2a1d0c7b9e10");
  formatted = format_all (hostdevs);
  g_assert_cmpstr (formatted, ==, c->expect);

  /* parse → format → parse gives the same devices, and the same text. */
  again_xml = wrap (formatted);
  again = hd_hostdev_parse_domain (again_xml, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (again->len, ==, hostdevs->len);
  for (guint i = 0; i < hostdevs->len && !c->lossy; i++)
    g_assert_true (hd_hostdev_equal (g_ptr_array_index (hostdevs, i), g_ptr_array_index (again, i)));
  formatted_again = format_all (again);
  g_assert_cmpstr (formatted_again, ==, formatted);

  if (!c->domain_only)
    {
      g_autoptr(HdHostdev) h = hd_hostdev_parse (c->devices, &error);
      g_autofree char *standalone = NULL;
      g_autoptr(HdHostdev) h2 = NULL;

      g_assert_no_error (error);
      g_assert_cmpuint (hostdevs->len, ==, 1);
      g_assert_true (hd_hostdev_equal (h, g_ptr_array_index (hostdevs, 0)));
      /* At indent 0, the same lines less four spaces; and it parses back. */
      standalone = hd_hostdev_format (h, 0);
      h2 = hd_hostdev_parse (standalone, &error);
      g_assert_no_error (error);
      g_assert_true (c->lossy || hd_hostdev_equal (h, h2));
      g_assert_cmpuint (strlen (standalone), ==,
                        strlen (formatted) - 4 * (gsize) count_lines (formatted));
    }

  if (oracle_available () && !c->live_only)
    {
      Oracle o;

      oracle_run (domain_xml, &o);
      g_assert_cmpstr (o.error, ==, NULL);
      g_assert_cmpstr (o.devices, ==, c->expect);
      oracle_clear (&o);
    }
}

/* ---- documents ------------------------------------------------------------- */

static void
test_parser_errors (void)
{
  const struct {
    const char *xml;
    const char *error;
  } cases[] = {
    { "<domain type='test'>\n  <name>x</name>\n  <devices>\n    <hostdev mode='subsystem' type='pci'>\n  </devices>\n</domain>\n",
      "(domain_definition):5: Opening and ending tag mismatch: hostdev line 4 and devices\n"
      "  </devices>\n"
      "------------^" },
    { "<domain type='test'><name>x</name><devices><hostdev mode='subsystem' type='pci' managed='yes' managed='no'/></devices></domain>",
      "(domain_definition):1: Attribute managed redefined\n"
      "<domain type='test'><name>x</name><devices><hostdev mode='subsystem' type='pci' managed='yes' managed='no'/></devices></domain>\n"
      "----------------------------------------------------------------------------------------------------------^" },
    { "<domain type='test'>&foo;</domain>",
      "(domain_definition):1: Entity 'foo' not defined\n"
      "<domain type='test'>&foo;</domain>\n"
      "-------------------------^" },
    { "<foo/>", "expecting root element of 'domain', not 'foo'" },
    { "<domain type='test'><uuid>xyz</uuid><name>a</name></domain>", "malformed uuid element" },
    { "<domain type='test'><uuid>6f1e0c3a58a44a569f6e2a1d0c7b9e1</uuid><name>a</name></domain>", "malformed uuid element" },
    { "<domain type='test'><name></name></domain>", "missing name information" },
    { "<domain type='test'><name xmlns='urn:x'>a</name></domain>", "missing name information" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) hostdevs = hd_hostdev_parse_domain (cases[i].xml, NULL, NULL, &error);

      g_assert_null (hostdevs);
      g_assert_error (error, HD_ERROR, HD_ERROR_XML);
      g_assert_cmpstr (error->message, ==, cases[i].error);

      if (oracle_available ())
        {
          Oracle o;

          oracle_run (cases[i].xml, &o);
          g_assert_false (o.defined);
          /* virsh prefixes the classes other than XML_DETAIL and NO_NAME. */
          g_assert_true (g_str_has_suffix (o.error, cases[i].error));
          oracle_clear (&o);
        }
    }
}

static void
test_single_errors (void)
{
  const struct {
    const char *xml;
    const char *error;
  } cases[] = {
    { "<hostdev mode='subsystem' type='pci'>\n<source>\n</hostdev>",
      "(device_definition):3: Opening and ending tag mismatch: source line 2 and hostdev\n"
      "</hostdev>\n"
      "----------^" },
    { "", "(device_definition):1: Document is empty\n\n^" },
    { "<disk/>", "expecting a <hostdev> or <interface> element, not <disk>" },
    { "<hostdev mode='subsystem' type='usb'><source/></hostdev>", "not a PCI host device: type='usb'" },
    { "<hostdev mode='capabilities' type='storage'/>", "not a PCI host device: mode='capabilities'" },
    { "<interface type='network'/>", "not a PCI host device: interface type='network'" },
    { "<interface/>", "not a PCI host device: interface type='user'" },
    { "<interface type='hostdev'><source><vendor id='0x1234'/><product id='0x1'/></source></interface>",
      "not a PCI host device: interface type='hostdev' with type='usb'" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HdHostdev) h = hd_hostdev_parse (cases[i].xml, &error);

      g_assert_null (h);
      g_assert_error (error, HD_ERROR, HD_ERROR_XML);
      g_assert_cmpstr (error->message, ==, cases[i].error);
    }
}

/* What a hostile document may try; nothing of it reaches stderr. */
static void
test_hostile (void)
{
  g_autoptr(GString) big = g_string_new ("<domain><name>x</name><description>");
  g_autoptr(GString) deep = g_string_new ("<domain><name>x</name>");
  const struct {
    const char *xml;
    const char *error;
  } cases[] = {
    { "<!DOCTYPE domain [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>]>"
      "<domain><name>&b;</name></domain>", "XML entity declarations are not accepted" },
    { "<!DOCTYPE domain [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]><domain><name>&xxe;</name></domain>",
      "XML entity declarations are not accepted" },
    { "<!DOCTYPE domain [<!ENTITY % p SYSTEM 'http://127.0.0.1:1/x.dtd'> %p;]><domain><name>a</name></domain>",
      "XML entity declarations are not accepted" },
    /* The external DTD is not fetched; with one declared, an undefined
     * entity is not fatal to libxml2, and it stays empty (libvirt: same). */
    { "<!DOCTYPE domain SYSTEM 'http://127.0.0.1:1/x.dtd'><domain><name>&x;</name></domain>",
      "missing name information" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) hostdevs = hd_hostdev_parse_domain (cases[i].xml, NULL, NULL, &error);

      g_assert_null (hostdevs);
      g_assert_error (error, HD_ERROR, HD_ERROR_XML);
      g_assert_cmpstr (error->message, ==, cases[i].error);
    }

  /* A harmless DOCTYPE is fine, as in libvirt. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) hostdevs =
      hd_hostdev_parse_domain ("<!DOCTYPE domain><domain><name>a</name></domain>", NULL, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (hostdevs->len, ==, 0);
  }

  /* The size limit, checked before parsing. */
  while (big->len <= HD_XML_READ_MAX)
    g_string_append (big, "0123456789abcdef");
  g_string_append (big, "</description></domain>");
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) hostdevs = hd_hostdev_parse_domain (big->str, NULL, NULL, &error);
    g_autofree char *expected =
      g_strdup_printf ("XML document is too large: %" G_GSIZE_FORMAT " bytes, the limit is 1048576", big->len);

    g_assert_null (hostdevs);
    g_assert_cmpstr (error->message, ==, expected);
  }

  /* Nesting stops at libxml2's limit (256) well within 1 MiB. */
  for (int i = 0; i < 10000; i++)
    g_string_append (deep, "<a>");
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) hostdevs = hd_hostdev_parse_domain (deep->str, NULL, NULL, &error);

    g_assert_null (hostdevs);
    g_assert_error (error, HD_ERROR, HD_ERROR_XML);
    g_assert_nonnull (strstr (error->message, "Excessive depth in document: 256"));
  }
}

static void
test_quiet (void)
{
  if (g_test_subprocess ())
    {
      const char *bad[] = {
        "<domain><name>x</name",
        "<domain>&foo;</domain>",
        "<!DOCTYPE d [<!ENTITY a 'x'>]><domain/>",
        "<domain xmlns:q='urn:q'><q:x/><r:y/><name>a</name></domain>",
        "\xff\xfe<domain/>",
      };

      for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
        {
          g_autoptr(GPtrArray) hostdevs = hd_hostdev_parse_domain (bad[i], NULL, NULL, NULL);
          g_autoptr(HdHostdev) h = hd_hostdev_parse (bad[i], NULL);

          /* Only the namespace errors are not fatal (to libvirt either). */
          g_assert_true (hostdevs == NULL || (strstr (bad[i], "r:y") != NULL && hostdevs->len == 0));
          g_assert_null (h);
        }
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("");
  g_test_trap_assert_stdout ("");
}

/* A realistic domain: every kind of hostdev, PCI ones from both elements. */
static void
test_domain (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "data", "hostdev", "domain-q35.xml", NULL);
  g_autofree char *xml = NULL;
  g_autofree char *name = NULL;
  g_autofree char *uuid = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) hostdevs = NULL;
  HdHostdev *h;

  g_assert_true (g_file_get_contents (path, &xml, NULL, NULL));
  hostdevs = hd_hostdev_parse_domain (xml, &name, &uuid, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (name, ==, "win11-gpu");
  /* libvirt's liberal UUID syntax, printed its way */
  g_assert_cmpstr (uuid, ==, "d1b0e9c4-27a3-4c0e-9a55-7f3a2b1c0d4e");
  g_assert_cmpuint (hostdevs->len, ==, 4);

  /* interfaces first, as in libvirt's def->hostdevs */
  h = g_ptr_array_index (hostdevs, 0);
  g_assert_true (h->from_interface);
  g_assert_cmpstr (h->mac, ==, "52:54:00:6d:90:02");
  g_assert_cmpuint (h->source.bus, ==, 4);
  g_assert_cmpuint (h->source.slot, ==, 0x10);
  g_assert_cmpuint (h->source.function, ==, 2);
  g_assert_true (h->managed);

  h = g_ptr_array_index (hostdevs, 1);
  g_assert_false (h->from_interface);
  g_assert_cmpuint (h->source.bus, ==, 1);
  g_assert_cmpuint (h->source.function, ==, 0);
  g_assert_cmpstr (h->driver, ==, "vfio");
  g_assert_cmpstr (h->alias, ==, "hostdev0");
  g_assert_cmpint (h->rom_bar, ==, 0);
  g_assert_cmpuint (h->boot_order, ==, 0);
  g_assert_cmpint (h->guest_address_type, ==, HD_HOSTDEV_GUEST_ADDRESS_PCI);
  g_assert_cmpuint (h->guest_address.bus, ==, 5);
  g_assert_cmpint (h->guest_multifunction, ==, 1);

  h = g_ptr_array_index (hostdevs, 2);
  g_assert_cmpuint (h->source.function, ==, 1);
  g_assert_cmpuint (h->guest_address.function, ==, 1);

  h = g_ptr_array_index (hostdevs, 3);
  g_assert_cmpuint (h->source.domain, ==, 1);
  g_assert_cmpuint (h->boot_order, ==, 1);
  g_assert_false (h->managed);

  /* No <uuid>: NULL (libvirt would make one up). */
  {
    g_autofree char *n2 = NULL;
    g_autofree char *u2 = NULL;
    g_autoptr(GPtrArray) none = hd_hostdev_parse_domain ("<domain><name> a </name><devices/></domain>", &n2, &u2, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (none->len, ==, 0);
    g_assert_cmpstr (n2, ==, " a ");
    g_assert_null (u2);
  }

  if (oracle_available ())
    {
      Oracle o;
      g_autofree char *test_xml = NULL;
      g_autoptr(GString) s = g_string_new (xml);

      /* the test driver wants its own domain type */
      g_string_replace (s, "<domain type='kvm'>", "<domain type='test'>", 1);
      test_xml = g_strdup (s->str);
      oracle_run_named (test_xml, "win11-gpu", &o);
      g_assert_cmpstr (o.error, ==, NULL);
      g_assert_true (o.defined);
      /* libvirt's own output has the same PCI hostdevs (less the aliases,
       * which the inactive parse drops). */
      {
        g_autoptr(GPtrArray) theirs = hd_hostdev_parse_domain (o.xml, NULL, NULL, &error);

        g_assert_no_error (error);
        g_assert_cmpuint (theirs->len, ==, hostdevs->len);
        for (guint i = 0; i < hostdevs->len; i++)
          {
            g_autoptr(HdHostdev) mine = hd_hostdev_copy (g_ptr_array_index (hostdevs, i));

            g_clear_pointer (&mine->alias, g_free);
            g_assert_true (hd_hostdev_equal (mine, g_ptr_array_index (theirs, i)));
          }
      }
      oracle_clear (&o);
    }
}

/* ---- generators ------------------------------------------------------------ */

static void
test_xml_for_address (void)
{
  HdPciAddress a = { 0, 0xff, 0x17, 6 };   /* pci_0000_ff_17_6 */
  HdPciAddress b = { 0x10, 1, 0, 0 };
  g_autofree char *x1 = hd_hostdev_xml_for_address (&a, TRUE, NULL);
  g_autofree char *x2 = hd_hostdev_xml_for_address (&b, FALSE, "xen");
  g_autoptr(GError) error = NULL;
  g_autoptr(HdHostdev) h = NULL;

  g_assert_cmpstr (x1, ==,
                   "<hostdev mode='subsystem' type='pci' managed='yes'>\n"
                   "  <driver name='vfio'/>\n"
                   "  <source>\n"
                   "    <address domain='0x0000' bus='0xff' slot='0x17' function='0x6'/>\n"
                   "  </source>\n"
                   "</hostdev>\n");
  g_assert_cmpstr (x2, ==,
                   "<hostdev mode='subsystem' type='pci' managed='no'>\n"
                   "  <driver name='xen'/>\n"
                   "  <source>\n"
                   "    <address domain='0x0010' bus='0x01' slot='0x00' function='0x0'/>\n"
                   "  </source>\n"
                   "</hostdev>\n");
  h = hd_hostdev_parse (x1, &error);
  g_assert_no_error (error);
  g_assert_true (hd_pci_address_equal (&h->source, &a));
  g_assert_true (h->managed);
  g_assert_cmpstr (h->driver, ==, "vfio");
}

static HdHostdev *
hostdev_at (guint domain, guint bus, guint slot, guint function)
{
  HdPciAddress a = { domain, bus, slot, function };

  return hd_hostdev_new (&a);
}

static void
test_xl (void)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) hd_hostdev_free);
  g_autofree char *line = NULL;
  HdHostdev *h;

  /* libvirt's tests/xlconfigdata/test-fullvirt-pci: managed, ROM, boot and
   * guest address have no xl counterpart in libvirt. */
  h = hostdev_at (0, 1, 0x1a, 1);
  h->managed = TRUE;
  h->boot_order = 1;
  h->rom_bar = 0;
  g_ptr_array_add (list, h);
  h = hostdev_at (0, 2, 0, 0);
  h->write_filtering = 0;
  g_ptr_array_add (list, h);
  h = hostdev_at (0x1234, 0xab, 0x1f, 7);
  h->write_filtering = 1;
  g_ptr_array_add (list, h);

  {
    g_autofree char *e0 = hd_hostdev_to_xl (g_ptr_array_index (list, 0));
    g_autofree char *e1 = hd_hostdev_to_xl (g_ptr_array_index (list, 1));
    g_autofree char *e2 = hd_hostdev_to_xl (g_ptr_array_index (list, 2));

    g_assert_cmpstr (e0, ==, "0000:01:1a.1");
    g_assert_cmpstr (e1, ==, "0000:02:00.0,permissive=1");
    g_assert_cmpstr (e2, ==, "1234:ab:1f.7,permissive=0");
  }
  line = hd_hostdevs_to_xl_pci (list);
  g_assert_cmpstr (line, ==, "pci = [ \"0000:01:1a.1\", \"0000:02:00.0,permissive=1\", \"1234:ab:1f.7,permissive=0\" ]");
  g_ptr_array_set_size (list, 0);
  g_assert_null (hd_hostdevs_to_xl_pci (list));
}

static void
test_qemu (void)
{
  const struct {
    const char *xml;
    const char *arg;
  } cases[] = {
    /* libvirt's tests/qemuxml2argvdata: pci-rom, hostdev-vfio,
     * net-hostdev-bootorder (with the ids libvirt assigns) */
    { "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
      "<address domain='0x0000' bus='0x06' slot='0x12' function='0x5'/></source>"
      "<alias name='hostdev0'/><rom bar='off'/></hostdev>",
      "vfio-pci,host=0000:06:12.5,id=hostdev0,rombar=0" },
    { "<hostdev mode='subsystem' type='pci' managed='yes'><source>"
      "<address domain='0x0000' bus='0x06' slot='0x12' function='0x6'/></source>"
      "<alias name='hostdev1'/><rom bar='on' file='/etc/fake/bootrom.bin'/></hostdev>",
      "vfio-pci,host=0000:06:12.6,id=hostdev1,rombar=1,romfile=/etc/fake/bootrom.bin" },
    { "<interface type='hostdev' managed='yes'><driver name='vfio'/><source>"
      "<address type='pci' domain='0x0000' bus='0x03' slot='0x07' function='0x1'/></source>"
      "<boot order='1'/><alias name='hostdev0'/></interface>",
      "vfio-pci,host=0000:03:07.1,id=hostdev0,bootindex=1" },
    { "<hostdev mode='subsystem' type='pci'><source><address domain='0x0001' bus='0x01'/></source></hostdev>",
      "vfio-pci,host=0001:01:00.0" },
    /* enabled='no': an empty romfile, whatever else */
    { "<hostdev mode='subsystem' type='pci'><source><address bus='1'/></source><rom enabled='no'/></hostdev>",
      "vfio-pci,host=0000:01:00.0,romfile=" },
    { "<hostdev mode='subsystem' type='pci'><source><address bus='1'/></source><rom file=''/></hostdev>",
      "vfio-pci,host=0000:01:00.0,romfile=" },
    { "<hostdev mode='subsystem' type='pci'><source><address bus='1'/></source>"
      "<alias name='ua-a,b'/><acpi index='7'/><rom enabled='yes' file='/x,y.rom'/></hostdev>",
      "vfio-pci,host=0000:01:00.0,id=ua-a,,b,acpi-index=7,romfile=/x,,y.rom" },
  };
  const struct {
    const char *xml;
    const char *error;
  } errors[] = {
    { "<hostdev mode='subsystem' type='pci'><driver name='kvm'/><source/></hostdev>",
      "host doesn't support legacy PCI passthrough" },
    { "<hostdev mode='subsystem' type='pci'><driver name='xen'/><source/></hostdev>",
      "invalid PCI passthrough type 'xen'" },
    { "<hostdev mode='subsystem' type='pci'><driver name='kvm'/><source writeFiltering='no'/></hostdev>",
      "Write filtering of PCI device configuration space is not supported by qemu" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HdHostdev) h = hd_hostdev_parse (cases[i].xml, &error);
      g_autofree char *arg = NULL;

      g_assert_no_error (error);
      arg = hd_hostdev_to_qemu_arg (h, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (arg, ==, cases[i].arg);
    }
  for (guint i = 0; i < G_N_ELEMENTS (errors); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(HdHostdev) h = hd_hostdev_parse (errors[i].xml, &error);
      g_autofree char *arg = NULL;

      g_assert_no_error (error);
      arg = hd_hostdev_to_qemu_arg (h, &error);
      g_assert_null (arg);
      g_assert_error (error, HD_ERROR, HD_ERROR_ARGUMENT_UNSUPPORTED);
      g_assert_cmpstr (error->message, ==, errors[i].error);
    }
}

static void
test_copy (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HdHostdev) h =
    hd_hostdev_parse ("<interface type='hostdev'><mac address='52:54:00:00:00:01'/>"
                      "<source><address type='pci' bus='3'/></source><boot order='2' loadparm='x'/>"
                      "<alias name='ua-x'/><rom file='/r'/></interface>", &error);
  g_autoptr(HdHostdev) c = NULL;

  g_assert_no_error (error);
  c = hd_hostdev_copy (h);
  g_assert_true (hd_hostdev_equal (h, c));
  g_free (c->rom_file);
  c->rom_file = NULL;
  g_assert_false (hd_hostdev_equal (h, c));
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hostdev-xml/oracle", test_oracle);
  for (guint i = 0; i < G_N_ELEMENTS (accepted); i++)
    {
      g_autofree char *path = g_strdup_printf ("/hostdev-xml/accepted/%s", accepted[i].name);
      g_test_add_data_func (path, &accepted[i], test_accepted);
    }
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *path = g_strdup_printf ("/hostdev-xml/refused/%s", refused[i].name);
      g_test_add_data_func (path, &refused[i], test_refused);
    }
  g_test_add_func ("/hostdev-xml/parser-errors", test_parser_errors);
  g_test_add_func ("/hostdev-xml/single-errors", test_single_errors);
  g_test_add_func ("/hostdev-xml/hostile", test_hostile);
  g_test_add_func ("/hostdev-xml/quiet", test_quiet);
  g_test_add_func ("/hostdev-xml/domain", test_domain);
  g_test_add_func ("/hostdev-xml/xml-for-address", test_xml_for_address);
  g_test_add_func ("/hostdev-xml/xl", test_xl);
  g_test_add_func ("/hostdev-xml/qemu", test_qemu);
  g_test_add_func ("/hostdev-xml/copy", test_copy);
  ret = g_test_run ();
  if (oracle_dir != NULL)
    g_rmdir (oracle_dir);
  g_free (oracle_dir);
  return ret;
}
