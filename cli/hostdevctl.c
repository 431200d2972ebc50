/* hostdevctl: main(), the command table, help texts and option parsing.
 * The commands live in hostdevctl-<concern>.c. */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "hostdevctl.h"
#include "hostdevctl-format.h"

static const HdCtlCommand commands[] = {
  { "list", NULL,
    N_("List the PCI devices and whether each can be detached"),
    N_("Lists every PCI function that hostdevd knows, in address order: its name,\n"
       "address, vendor:product ids, the driver bound now, its IOMMU group (- if it\n"
       "has none), the verdict a detach to vfio-pci would meet, and its product name.\n"
       "The verdicts:\n"
       "  detachable        it can be detached on its own\n"
       "  already-detached  it is on a stub driver already\n"
       "  needs-group       only together with its IOMMU group (detach --group)\n"
       "  in-use-by-host    the host uses it (detach --force)\n"
       "  not-assignable    never (bridges, for one)\n"
       "\n"
       "With --json, prints a JSON array with one object per device.  Its keys are\n"
       "the D-Bus property names of org.hostdevd1.Device (Name, Address, VendorId,\n"
       "...), its values the properties' values (object paths as paths)."),
    N_("hostdevctl list\n"
       "hostdevctl list --json | jq -r '.[] | select(.Verdict == \"detachable\") | .Name'"),
    hd_ctl_cmd_list },
  { "tree", NULL,
    N_("Show the devices as a tree, from computer down"),
    N_("Prints the devices as 'virsh nodedev-list --tree' does (without its\n"
       "trailing blanks), each PCI function followed by the driver bound now in\n"
       "parentheses, and by 'detached' when hostdevd holds it on a stub driver."),
    N_("hostdevctl tree"),
    hd_ctl_cmd_tree },
  { "show", "DEVICE",
    N_("Show a device and why it can or cannot be detached"),
    N_("Prints every property of the device, then asks hostdevd what a detach to\n"
       "vfio-pci would do now, changing nothing: the verdict and its reasons, the\n"
       "devices it would take, the companions that would block it, those that would\n"
       "stay where they are, and what the host uses on the devices it would take.\n"
       "When only the whole IOMMU group can go, it also shows what 'detach --group'\n"
       "would take.\n"
       "\n"
       "With --json, prints the device's properties as one JSON object, with the\n"
       "keys and values of 'list --json'."),
    N_("hostdevctl show pci_0000_01_00_0\n"
       "hostdevctl show 01:00.0"),
    hd_ctl_cmd_show },
  { "dumpxml", "DEVICE",
    N_("Print a device's libvirt node-device XML"),
    N_("Prints the node-device XML of the device, byte for byte what\n"
       "'virsh nodedev-dumpxml' prints for it."),
    N_("hostdevctl dumpxml pci_0000_01_00_0"),
    hd_ctl_cmd_dumpxml },
  { "assignments", NULL,
    N_("Show which virtual machine has which device, and what is wrong with that"),
    N_("Lists every assignment hostdevd knows: the <hostdev>s of libvirt's domains\n"
       "(followed live: a 'virsh define' or 'virsh edit' shows here within a second)\n"
       "and those made through hostdevd's own Assign(): the domain, where it comes\n"
       "from, whether it runs, the device, managed or not, the driver and whether\n"
       "the domain starts automatically.  Then the conflicts (a domain will not\n"
       "start: one device in two running or autostarting domains, one IOMMU group\n"
       "split across domains) and warnings (an unmanaged device still on its host\n"
       "driver while its domain autostarts, a device this host does not have),\n"
       "each with what to do.\n"
       "\n"
       "Exit status 5 when there is a conflict."),
    N_("hostdevctl assignments"),
    hd_ctl_cmd_assignments },
  { "hostdev-xml", "DEVICE",
    N_("Print what a VM's configuration needs to be given a device"),
    N_("Prints the <hostdev mode='subsystem' type='pci'> element for the device,\n"
       "its PCI address already in the hexadecimal form libvirt wants, ready for\n"
       "'virsh edit' (managed='yes' unless --unmanaged: libvirt then detaches the\n"
       "device itself when the VM starts, and gives it back when it stops).  With\n"
       "--format xl, the pci line of an xl.cfg; with --format qemu, the argument of\n"
       "QEMU's -device option."),
    N_("hostdevctl hostdev-xml 01:00.0\n"
       "hostdevctl hostdev-xml pci_0000_01_00_0 --format xl\n"
       "qemu-system-x86_64 ... -device \"$(hostdevctl hostdev-xml 01:00.0 --format qemu)\""),
    hd_ctl_cmd_hostdev_xml },
  { "detach", "DEVICE",
    N_("Give a device to a stub driver for a virtual machine"),
    N_("Unbinds the device from its host driver and binds a stub driver (vfio-pci\n"
       "unless --driver says otherwise), so that a virtual machine can be given it,\n"
       "and prints each device it detached.  hostdevd refuses a device that the host\n"
       "uses (a disk, a network interface with addresses, the boot display, ...)\n"
       "unless --force is given, and one that would leave its IOMMU group half on\n"
       "host drivers unless --group is given; 'hostdevctl show DEVICE' tells which\n"
       "applies.  If a step fails, everything the detach changed is rolled back.\n"
       "\n"
       "When standard input is a terminal, polkit may ask for a password; with\n"
       "--no-ask, or without a terminal, the detach fails instead."),
    N_("hostdevctl detach pci_0000_01_00_0\n"
       "hostdevctl detach 01:00.0 --group\n"
       "hostdevctl detach 0000:03:00.0 --driver kvm"),
    hd_ctl_cmd_detach },
  { "reattach", "DEVICE",
    N_("Give a detached device back to its host driver"),
    N_("Gives the device back to the driver it had before hostdevd detached it\n"
       "(e1000e, nvme, ...).  A device on a host driver already is left alone.\n"
       "\n"
       "When standard input is a terminal, polkit may ask for a password; with\n"
       "--no-ask, or without a terminal, the reattach fails instead."),
    N_("hostdevctl reattach pci_0000_01_00_0"),
    hd_ctl_cmd_reattach },
  { "reset", "DEVICE",
    N_("Reset a device and print the method the kernel used"),
    N_("Resets the device through the kernel and prints the method used (flr, pm,\n"
       "bus, ...).  A bus reset is refused while another function on the bus is\n"
       "bound to a host driver, and a device the host uses is refused unless\n"
       "--force is given.\n"
       "\n"
       "When standard input is a terminal, polkit may ask for a password; with\n"
       "--no-ask, or without a terminal, the reset fails instead."),
    N_("hostdevctl reset pci_0000_01_00_0"),
    hd_ctl_cmd_reset },
  { "monitor", NULL,
    N_("Print device and operation events as they happen"),
    N_("Prints one line per event until interrupted (Ctrl-C): devices added and\n"
       "removed, changes of their properties (\"pci_0000_01_00_0: Driver e1000e ->\n"
       "vfio-pci\"), and every detach, reattach and reset that ends, whoever asked\n"
       "for it.  The first line says that the monitor is ready.  Each line is\n"
       "written as soon as it is complete, so the output can be read through a pipe."),
    N_("hostdevctl monitor\n"
       "hostdevctl monitor | grep Driver"),
    hd_ctl_cmd_monitor },
  { "validate", NULL,
    N_("Check that this host is ready for PCI passthrough"),
    N_("Asks hostdevd to read this host's firmware, kernel and policy switches and\n"
       "prints each check with what it found: CPU virtualization (VT-x, AMD-V), the\n"
       "IOMMU's firmware table (DMAR for Intel VT-d, IVRS for AMD-Vi), whether the\n"
       "kernel runs the IOMMU and with which command line, interrupt remapping, the\n"
       "unsafe-interrupt and ACS-override switches, the vfio, vfio-pci,\n"
       "vfio_iommu_type1, pci-stub and xen-pciback modules and /dev/vfio/vfio,\n"
       "SELinux and its virt_use_sysfs boolean, Xen, and the IOMMU groups that hold\n"
       "several devices.  Every warning and failure comes with the exact fix for this\n"
       "machine: the GRUB_CMDLINE_LINUX line to write and the command that rebuilds\n"
       "the boot configuration here, the firmware setting, the module to load.\n"
       "\n"
       "Exit status: 0 ready, 1 ready with warnings, 2 passthrough cannot work\n"
       "(and 8 when hostdevd is not reachable)."),
    N_("hostdevctl validate\n"
       "hostdevctl validate --json | jq -r '.checks[] | select(.status == \"fail\") | .fix'"),
    hd_ctl_cmd_validate },
  { "set-virt-use-sysfs", NULL,
    N_("Turn on SELinux's virt_use_sysfs for pci-stub and pciback"),
    N_("Turns the SELinux boolean virt_use_sysfs on, now and after reboots, as\n"
       "'setsebool -P virt_use_sysfs 1' does.  Domains that use pci-stub (driver kvm)\n"
       "or pciback (driver xen) need it: QEMU itself then uses the device's sysfs\n"
       "files, which SELinux refuses while it is off ('hostdevctl assignments' warns\n"
       "about them).  VFIO never needs it.  With SELinux disabled nothing changes.\n"
       "\n"
       "When standard input is a terminal, polkit may ask for a password; with\n"
       "--no-ask, or without a terminal, it fails instead."),
    N_("hostdevctl set-virt-use-sysfs"),
    hd_ctl_cmd_set_virt_use_sysfs },
};

static const GOptionEntry no_entries[] = { { NULL } };

/* For the tool's --help only: main() parses these by hand, since what
 * follows the command is the command's to parse. */
static const GOptionEntry main_entries[] = {
  { "no-color", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Never colour the output (colour is used only on a terminal, and not when NO_COLOR is set)"), NULL },
  { "help", 'h', 0, G_OPTION_ARG_NONE, NULL, N_("Show this help"), NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version"), NULL },
  { NULL }
};

/* Help lines are kept within this many columns. */
#define HELP_WIDTH 79

/* Appends @text's words from column @column on, wrapped to HELP_WIDTH
 * with continuation lines starting at @column. */
static void
append_wrapped (GString *out, const char *text, guint column)
{
  g_auto(GStrv) words = g_strsplit (text, " ", -1);
  guint at = column;

  for (guint i = 0; words[i] != NULL; i++)
    {
      guint len = hd_text_width (words[i]);

      if (at > column && at + 1 + len > HELP_WIDTH)
        {
          g_string_append_printf (out, "\n%*s", (int) column, "");
          at = column;
        }
      else if (at > column)
        {
          g_string_append_c (out, ' ');
          at++;
        }
      g_string_append (out, words[i]);
      at += len;
    }
  g_string_append_c (out, '\n');
}

/* The options of a --help: "  -h, --help     Show this help". */
static void
append_option_lines (GString *out, const GOptionEntry *entries, guint width)
{
  for (const GOptionEntry *e = entries; e->long_name != NULL; e++)
    {
      g_autofree char *spec = NULL;
      guint len;

      if (e->flags & G_OPTION_FLAG_HIDDEN)
        continue;
      /* "-h, --help", and "    --driver=NAME" so that long names align. */
      if (e->short_name != 0)
        spec = g_strdup_printf ("-%c, --%s%s%s", e->short_name, e->long_name,
                                e->arg_description ? "=" : "",
                                e->arg_description ? _(e->arg_description) : "");
      else
        spec = g_strdup_printf ("    --%s%s%s", e->long_name,
                                e->arg_description ? "=" : "",
                                e->arg_description ? _(e->arg_description) : "");
      len = hd_text_width (spec);
      g_string_append_printf (out, "  %s%*s  ", spec, (int) (width - MIN (len, width)), "");
      append_wrapped (out, _(e->description), 2 + width + 2);
    }
}

static guint
option_width (const GOptionEntry *entries, guint width)
{
  for (const GOptionEntry *e = entries; e->long_name != NULL; e++)
    {
      guint len = 6 + (guint) strlen (e->long_name);

      if (e->arg_description != NULL)
        len += 1 + hd_text_width (_(e->arg_description));
      if (!(e->flags & G_OPTION_FLAG_HIDDEN))
        width = MAX (width, len);
    }
  return width;
}

static void
print_command_help (const HdCtlCommand *cmd, const GOptionEntry *entries, const GOptionEntry *common)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_auto(GStrv) examples = g_strsplit (_(cmd->examples), "\n", -1);
  guint width = option_width (common, option_width (entries, 0));

  g_string_append_printf (out, _("Usage: hostdevctl %s [OPTION…]%s%s\n"), cmd->name,
                          cmd->operands ? " " : "", cmd->operands ? cmd->operands : "");
  g_string_append_printf (out, "\n%s.\n\n%s\n", _(cmd->summary), _(cmd->description));
  if (cmd->operands != NULL)
    g_string_append_printf (out, "\n%s\n",
                            _("DEVICE is a libvirt node-device name (pci_0000_01_00_0) or a PCI address\n"
                              "(0000:01:00.0, or 01:00.0 in PCI domain 0)."));
  g_string_append_printf (out, "\n%s\n", _("Options:"));
  append_option_lines (out, entries, width);
  append_option_lines (out, common, width);
  g_string_append_printf (out, "\n%s\n", _("Examples:"));
  for (guint i = 0; examples[i] != NULL; i++)
    g_string_append_printf (out, "  %s\n", examples[i]);
  fputs (out->str, stdout);
}

static void
print_main_help (FILE *stream)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func (g_free);
  guint width = 0;

  /* "name OPERANDS", the column as wide as the widest */
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_ptr_array_add (specs, g_strjoin (" ", commands[i].name, commands[i].operands, NULL));
      width = MAX (width, hd_text_width (g_ptr_array_index (specs, i)));
    }

  g_string_append_printf (out, "%s\n\n%s\n\n%s\n",
                          _("Usage: hostdevctl [--no-color] COMMAND [OPTION…] [DEVICE]"),
                          _("Manage the assignment of PCI devices to virtual machines, through hostdevd."),
                          _("Commands:"));
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      const char *spec = g_ptr_array_index (specs, i);

      g_string_append_printf (out, "  %s%*s  ", spec, (int) (width - hd_text_width (spec)), "");
      append_wrapped (out, _(commands[i].summary), 2 + width + 2);
    }
  g_string_append_printf (out, "\n%s\n",
                          _("DEVICE is a libvirt node-device name (pci_0000_01_00_0) or a PCI address\n"
                            "(0000:01:00.0, or 01:00.0 in PCI domain 0)."));
  g_string_append_printf (out, "\n%s\n", _("Options:"));
  append_option_lines (out, main_entries, option_width (main_entries, 0));
  g_string_append_printf (out, "\n%s\n%s\n",
                          _("Exit status:"),
                          _("  0  success\n"
                            "  1  the operation failed\n"
                            "  2  usage error or invalid argument\n"
                            "  3  no such device\n"
                            "  4  not authorized\n"
                            "  5  refused: the host or the device's IOMMU group uses it\n"
                            "  6  busy: another operation holds the device\n"
                            "  7  not supported\n"
                            "  8  hostdevd is not running or the system bus is not reachable"));
  g_string_append_printf (out, "\n%s\n%s\n",
                          _("Examples:"),
                          _("  hostdevctl list\n"
                            "  hostdevctl show 01:00.0\n"
                            "  hostdevctl detach 01:00.0 --group"));
  g_string_append_printf (out, "\n%s\n",
                          _("Run 'hostdevctl COMMAND --help' for a command's options and examples."));
  fputs (out->str, stream);
}

static int
usage_error (const char *command, const char *message)
{
  g_printerr ("hostdevctl: %s\n", message);
  if (command != NULL)
    g_printerr (_("Try 'hostdevctl %s --help' for more information.\n"), command);
  else
    g_printerr (_("Try 'hostdevctl --help' for more information.\n"));
  return HD_CTL_EXIT_USAGE;
}

/* Colour only for a person at a terminal: never into a pipe or a file
 * (scripts and golden files), and never against NO_COLOR (no-color.org). */
static gboolean
want_color (const HdCtl *ctl)
{
  const char *no_color = g_getenv ("NO_COLOR");
  const char *term = g_getenv ("TERM");

  if (ctl->no_color || (no_color != NULL && no_color[0] != '\0'))
    return FALSE;
  if (term != NULL && g_str_equal (term, "dumb"))
    return FALSE;
  return isatty (STDOUT_FILENO);
}

int
hd_ctl_parse_options (HdCtl *ctl, const GOptionEntry *entries, int *argc, char ***argv, int n_operands)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  gboolean help = FALSE;
  const GOptionEntry common[] = {
    { "no-color", 0, 0, G_OPTION_ARG_NONE, &ctl->no_color, N_("Never colour the output"), NULL },
    { "help", 'h', 0, G_OPTION_ARG_NONE, &help, N_("Show this help"), NULL },
    { NULL }
  };

  if (entries == NULL)
    entries = no_entries;
  /* Our own --help: GOption's would list "Help Options" and "Application
   * Options", and could not show the description and examples as a
   * paragraph each. */
  g_option_context_set_help_enabled (context, FALSE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, common, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, argc, argv, &error))
    return usage_error (ctl->command->name, error->message);
  if (help)
    {
      print_command_help (ctl->command, entries, common);
      return HD_CTL_EXIT_OK;
    }
  for (int i = 1; i < *argc; i++)
    if ((*argv)[i][0] == '-' && (*argv)[i][1] != '\0')
      {
        g_autofree char *message = g_strdup_printf (_("Unknown option %s"), (*argv)[i]);
        return usage_error (ctl->command->name, message);
      }
  if (*argc - 1 < n_operands)
    {
      g_autofree char *message = g_strdup_printf (_("'%s' needs a %s"), ctl->command->name,
                                                  ctl->command->operands);
      return usage_error (ctl->command->name, message);
    }
  if (*argc - 1 > n_operands)
    {
      g_autofree char *message = g_strdup_printf (_("Unexpected argument '%s'"), (*argv)[n_operands + 1]);
      return usage_error (ctl->command->name, message);
    }
  ctl->color = want_color (ctl);
  return -1;
}

static const HdCtlCommand *
find_command (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (name, commands[i].name))
      return &commands[i];
  return NULL;
}

/* "hostdevctl help [COMMAND]", as git has it. */
static int
run_help (HdCtl *ctl, int argc, char **argv)
{
  char *help_argv[] = { NULL, (char *) "--help", NULL };

  if (argc < 2)
    {
      print_main_help (stdout);
      return HD_CTL_EXIT_OK;
    }
  ctl->command = find_command (argv[1]);
  if (ctl->command == NULL || argc > 2)
    {
      g_autofree char *message = g_strdup_printf (_("Unknown command '%s'"), argv[1]);
      return usage_error (NULL, message);
    }
  help_argv[0] = argv[1];
  return ctl->command->run (ctl, 2, help_argv);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HdCtl, hd_ctl_clear)

int
main (int argc, char **argv)
{
  g_auto(HdCtl) ctl = { 0 };
  int i;

  setlocale (LC_ALL, "");
  /* HOSTDEVD_LOCALEDIR: the translations of a build tree, before install
   * (the test of the Korean messages uses it). */
  bindtextdomain (GETTEXT_PACKAGE, g_getenv ("HOSTDEVD_LOCALEDIR") != NULL ?
                  g_getenv ("HOSTDEVD_LOCALEDIR") : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("hostdevctl");

  /* Options before the command are the tool's own; the command parses the
   * rest (where --no-color is accepted too). */
  for (i = 1; i < argc && argv[i][0] == '-'; i++)
    {
      if (g_str_equal (argv[i], "--no-color"))
        ctl.no_color = TRUE;
      else if (g_str_equal (argv[i], "--version"))
        {
          g_print ("hostdevctl %s\n", PACKAGE_VERSION);
          return HD_CTL_EXIT_OK;
        }
      else if (g_str_equal (argv[i], "--help") || g_str_equal (argv[i], "-h"))
        {
          print_main_help (stdout);
          return HD_CTL_EXIT_OK;
        }
      else
        {
          g_autofree char *message = g_strdup_printf (_("Unknown option %s"), argv[i]);
          return usage_error (NULL, message);
        }
    }
  if (i == argc)
    {
      print_main_help (stderr);
      return HD_CTL_EXIT_USAGE;
    }
  if (g_str_equal (argv[i], "help"))
    return run_help (&ctl, argc - i, argv + i);

  ctl.command = find_command (argv[i]);
  if (ctl.command == NULL)
    {
      g_autofree char *message = g_strdup_printf (_("Unknown command '%s'"), argv[i]);
      return usage_error (NULL, message);
    }
  return ctl.command->run (&ctl, argc - i, argv + i);
}
