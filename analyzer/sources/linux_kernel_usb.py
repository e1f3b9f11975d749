"""Linux kernel USB lines: ``dmesg`` (seconds since boot), ``dmesg -T``, ``dmesg -H``, and the kernel's
lines in journalctl / syslog output (``Dec 05 10:00:00 host kernel: usb 1-1: …``).

Line shapes and markers are in ``grammar/linux_kernel_usb.lark``; reading, times and meaning are
shared with :mod:`.linux_usbmuxd` (:mod:`._linux_read`, :mod:`._linux_usb`), because a journal holds
both: a file with kernel lines is this source's, and its usbmuxd and libusb lines are read with
usbmuxd's grammar. A device's arrival (``new high-speed USB device number 6``) carries the vendor,
product and serial the kernel prints on the lines after it for the same port, so a connect or a
removal says which iPhone it was and in which mode (:mod:`analyzer.apple_usb`); its UDID carries the
ECID. Relative stamps are kept in ``ts_raw`` with clock ``none``: they are not wall times.
"""

from __future__ import annotations

from ._linux_read import LinuxSource


class LinuxKernelUsb(LinuxSource):
    name = "linux_kernel_usb"
    description = "Linux kernel USB lines: dmesg, dmesg -T/-H, journalctl/syslog kernel lines (with the usbmuxd lines among them)"


SOURCE = LinuxKernelUsb()
