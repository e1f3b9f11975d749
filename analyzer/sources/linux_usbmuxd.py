"""usbmuxd on Linux: its foreground output (``usbmuxd -f -v``: ``[13:38:54.026][3] …``), its lines under
syslog / journalctl (``… usbmuxd[1234]: [3] …``), and the libusb debug lines it prints with ``-v``
(``[88.990129] [0000cff5] libusb: debug [reap_for_handle] urb type=3 status=-71 transferred=0``).

Line shapes and markers are in ``grammar/linux_usbmuxd.lark``; reading, times and meaning are shared
with :mod:`.linux_kernel_usb` (:mod:`._linux_read`, :mod:`._linux_usb`). A file with kernel lines in
it belongs to that source, which reads the usbmuxd lines the same way. ``Connected to v2.0 device``
is a connect carrying the UDID (and through it the ECID), ``Removed device`` and ``RX aborted due to
disconnect`` are removals, libusb URB statuses other than a cancel are ``usb_io_error`` with the
negative errno (-71 EPROTO, -32 EPIPE, -110 ETIMEDOUT …). The foreground clock has no date, libusb's
counts seconds since it started: both are kept in ``ts_raw`` with clock ``none``.
"""

from __future__ import annotations

from ._linux_read import LinuxSource


class LinuxUsbmuxd(LinuxSource):
    name = "linux_usbmuxd"
    description = "usbmuxd on Linux: foreground output, syslog/journal lines, libusb debug lines"


SOURCE = LinuxUsbmuxd()
