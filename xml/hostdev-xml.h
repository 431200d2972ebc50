/* PCI host devices in libvirt's domain XML, by libvirt 9.0's rules:
 *
 *   <hostdev mode='subsystem' type='pci' managed='yes'>
 *     <driver name='vfio'/>
 *     <source writeFiltering='no'>
 *       <address domain='0x0000' bus='0x06' slot='0x02' function='0x0'/>
 *     </source>
 *     <boot order='1'/>
 *     <alias name='ua-gpu'/>
 *     <rom bar='on' file='/path/rom.bin'/>
 *     <acpi index='3'/>
 *     <address type='pci' domain='0x0000' bus='0x07' slot='0x00' function='0x0'/>
 *   </hostdev>
 *
 * and <interface type='hostdev'>, which libvirt also treats as a hostdev.
 *
 * Parsing follows virDomainHostdevDefParseXML, virPCIDeviceAddressParseXML,
 * virDomainDeviceInfoParseXML and the hostdev validation, with libvirt's
 * error texts; every error is HD_ERROR_INVALID_ARGUMENT (libvirt classes
 * them XML_ERROR, CONFIG_UNSUPPORTED or INTERNAL_ERROR).  What libvirt
 * accepts, this accepts (checked against libvirt's own parser by
 * tests/unit/test-hostdev-xml.c), quirks included:
 * - numbers are strtoul base 0: '0x1f' hex, '31' decimal, '010' octal;
 *   leading blanks and '+' pass, '-' never does; a missing attribute is 0;
 * - an address whose domain, bus and slot are all 0 is not range-checked
 *   (so <source/> without an address means 0000:00:00.0), and the domain
 *   is never range-checked;
 * - an invalid managed= value counts as 'no' (libvirt ignores that error).
 * Not kept (accepted and dropped): <teaming>, <zpci> (s390), <origstates>,
 * <master>, and for interfaces everything that is not the PCI device
 * (<vlan>, <virtualport>, <model>, …).  Aliases are kept as written, as
 * for live XML (libvirt's inactive parse keeps only 'ua-' ones).
 *
 * Documents are read with xml-reader.h (no network, no entities, 1 MiB). */
#pragma once

#include <glib.h>

#include "nodedev/pci-address.h"

G_BEGIN_DECLS

typedef enum {
  HD_HOSTDEV_GUEST_ADDRESS_NONE,
  HD_HOSTDEV_GUEST_ADDRESS_PCI,        /* <address type='pci' …/> */
  HD_HOSTDEV_GUEST_ADDRESS_UNASSIGNED, /* <address type='unassigned'/> */
} HdHostdevGuestAddressType;

/* Tristates are -1 (absent), 0 (no/off), 1 (yes/on). */
typedef struct {
  HdPciAddress source;
  gboolean managed;
  char *driver;           /* NULL (libvirt's default), "vfio", "kvm" or "xen" */
  int write_filtering;    /* <source writeFiltering='yes|no'> (Xen) */
  guint boot_order;       /* 0: no <boot> */
  char *boot_loadparm;    /* upper case, as libvirt stores it; or NULL */
  char *alias;
  int rom_enabled;        /* <rom enabled='yes|no'> */
  int rom_bar;            /* <rom bar='on|off'> */
  char *rom_file;         /* may be "" (QEMU: no ROM) */
  guint acpi_index;       /* 0: no <acpi> */
  HdHostdevGuestAddressType guest_address_type;
  HdPciAddress guest_address;  /* all zero: printed without attributes, as libvirt does */
  int guest_multifunction;     /* <address … multifunction='on|off'> */
  gboolean from_interface;     /* came from <interface type='hostdev'> */
  char *mac;                   /* the interface's <mac address>, "52:54:00:…"; NULL otherwise */
} HdHostdev;

/* A hostdev for @source, everything else unset (managed 'no', no driver). */
HdHostdev *hd_hostdev_new (const HdPciAddress *source);
HdHostdev *hd_hostdev_copy (const HdHostdev *h);
void hd_hostdev_free (HdHostdev *h);
gboolean hd_hostdev_equal (const HdHostdev *a, const HdHostdev *b);

/* One device, as for `virsh attach-device`: the root element is <hostdev>
 * (mode='subsystem' type='pci') or <interface type='hostdev'> with a PCI
 * source.  Anything else is an error. */
HdHostdev *hd_hostdev_parse (const char *xml, GError **error);

/* Every PCI hostdev of a <domain>: the <interface type='hostdev'> ones
 * first, then the <hostdev> ones, each in document order (libvirt's
 * def->hostdevs order).  Other hostdevs (usb, scsi, scsi_host, mdev,
 * mode='capabilities') and interfaces are skipped after the checks all
 * types share (mode, type).  Also checked across the PCI ones, as libvirt
 * does domain-wide: the same source twice, a boot order or a 'ua-' alias
 * used twice.  @name: the <name> (required); @uuid: the <uuid> in
 * libvirt's spelling, NULL when the XML has none (libvirt would generate
 * one).  Returns an array of HdHostdev* (freeing them), or NULL. */
GPtrArray *hd_hostdev_parse_domain (const char *xml, char **name, char **uuid,
                                    GError **error);

/* libvirt's formatting (virDomainHostdevDefFormat, or virDomainNetDefFormat
 * for from_interface: <mac> only when known, libvirt would have generated
 * one; nothing of the interface but the PCI device), every line indented
 * by @indent spaces:
 * HD_HOSTDEV_INDENT_DEVICES as `virsh dumpxml` shows it inside <devices>,
 * 0 for a file of its own (`virsh attach-device`).  Ends with a newline. */
#define HD_HOSTDEV_INDENT_DEVICES 4
char *hd_hostdev_format (const HdHostdev *h, guint indent);

/* The <hostdev> element for a node device's PCI address (the guides'
 * decimal-to-hex step), at indent 0: managed as given, <driver
 * name='@driver'/>, "vfio" when @driver is NULL. */
char *hd_hostdev_xml_for_address (const HdPciAddress *a, gboolean managed,
                                  const char *driver);

/* Xen: one entry of xl.cfg's pci list as libvirt's xenFormatPCI writes it,
 * "DDDD:BB:SS.F", with ",permissive=1" for writeFiltering='no' and
 * ",permissive=0" for 'yes'.  Nothing else has an xl counterpart in
 * libvirt (managed, ROM, boot order and the guest address are dropped). */
char *hd_hostdev_to_xl (const HdHostdev *h);

/* The whole line: pci = [ "0000:01:00.0", "0000:02:00.0,permissive=1" ].
 * NULL when @hostdevs is empty. */
char *hd_hostdevs_to_xl_pci (GPtrArray *hostdevs);

/* QEMU: the argument of -device for the hostdev, as libvirt 9.0 builds it
 * (qemuBuildPCIHostdevDevProps, in key=value form with ',' doubled inside
 * values): "vfio-pci,host=DDDD:BB:SS.F[,id=ALIAS][,bootindex=N]
 * [,acpi-index=N][,rombar=0|1][,romfile=FILE]".  The guest bus/addr are
 * left out: they name the machine's PCI controllers, which depend on the
 * whole domain.  Fails with libvirt's texts for what QEMU cannot do
 * (driver 'kvm' or 'xen', writeFiltering). */
char *hd_hostdev_to_qemu_arg (const HdHostdev *h, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HdHostdev, hd_hostdev_free)

G_END_DECLS
