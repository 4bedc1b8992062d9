"""Regenerate the PCI device table in plugins/module_utils/_nvidia_compat.py from pci.ids.

    python3 scripts/gen-nvidia-pci-table.py /path/to/pci.ids

pci.ids is the PCI ID Repository's list (https://pci-ids.ucw.cz), packaged by Debian as
``pci.ids``; ``apt-get download pci.ids`` in a Debian container fetches it. Only display
controllers of the chips listed in CHIPS (the compatibility rules) are kept: the HD-audio, USB,
UCSI and NVSwitch functions and the "Reserved Dev ID" placeholders are dropped. The table is
written between the BEGIN/END GENERATED markers; everything else in the file is hand-written.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.path.join(HERE, "..", "plugins", "module_utils", "_nvidia_compat.py")
BEGIN = "# BEGIN GENERATED PCI TABLE"
END = "# END GENERATED PCI TABLE"
NOT_A_GPU = re.compile(r"audio|usb|ucsi|nvswitch|bridge|pcie host|reserved dev id", re.I)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: %s /path/to/pci.ids" % sys.argv[0])
    sys.path.insert(0, os.path.dirname(TARGET))
    import _nvidia_compat  # pylint: disable=import-outside-toplevel,import-error

    chips = sorted(_nvidia_compat.CHIPS, key=len, reverse=True)
    version = "unknown"
    rows = []
    in_nvidia = False
    with open(sys.argv[1], encoding="utf-8", errors="replace") as handle:
        for line in handle:
            line = line.rstrip("\n")
            match = re.match(r"^#\s+Version:\s+(\S+)", line)
            if match:
                version = match.group(1)
            if re.match(r"^[0-9a-f]{4}\s", line):
                in_nvidia = line.startswith("10de ")
                continue
            match = re.match(r"^\t([0-9a-f]{4})\s+(.*)$", line)
            if not (in_nvidia and match):
                continue
            device, text = int(match.group(1), 16), match.group(2).strip()
            if NOT_A_GPU.search(text):
                continue
            chip = next((c for c in chips if text.startswith(c)), None)
            if chip is None:
                continue
            name = re.search(r"\[(.*)\]", text)
            rows.append((device, chip, name.group(1) if name else ""))
    body = [BEGIN,
            "# Source: pci.ids version %s (the PCI ID Repository, https://pci-ids.ucw.cz; Debian" % version,
            "# package pci.ids). Regenerate with scripts/gen-nvidia-pci-table.py; do not edit by hand.",
            "# device id: (chip, product name as pci.ids spells it)",
            "PCI_IDS_VERSION = %r" % version,
            "DEVICES = {"]
    for device, chip, name in rows:
        body.append("    0x%04x: (%r, %r)," % (device, chip, name))
    body.append("}")
    body.append(END)
    with open(TARGET, encoding="utf-8") as handle:
        text = handle.read()
    start, stop = text.index(BEGIN), text.index(END) + len(END)
    with open(TARGET, "w", encoding="utf-8") as handle:
        handle.write(text[:start] + "\n".join(body) + text[stop:])
    print("wrote %d devices from pci.ids %s" % (len(rows), version))


if __name__ == "__main__":
    main()
