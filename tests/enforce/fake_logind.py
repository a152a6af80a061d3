#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# fake_logind.py ADDRESS LOG READY - a stand-in for systemd-logind on a
# private bus (no systemd runs on the test machines): owns
# org.freedesktop.login1 and implements Manager.TerminateSession(s), which
# appends the session id to LOG. Ids starting with "missing" get logind's
# NoSuchSession error, as a session logind no longer knows would. Touches
# READY once the name is owned.
import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

IFACE = "org.freedesktop.login1.Manager"


class Manager(dbus.service.Object):
    def __init__(self, bus, log):
        super().__init__(bus, "/org/freedesktop/login1")
        self.log = log

    @dbus.service.method(IFACE, in_signature="s", out_signature="")
    def TerminateSession(self, sid):
        with open(self.log, "a") as f:
            f.write(sid + "\n")
        if sid.startswith("missing"):
            raise dbus.exceptions.DBusException(
                "No session '%s' known" % sid,
                name="org.freedesktop.login1.NoSuchSession")


def main():
    address, log, ready = sys.argv[1:4]
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(address)
    name = dbus.service.BusName("org.freedesktop.login1", bus)
    manager = Manager(bus, log)
    open(ready, "w").close()
    GLib.MainLoop().run()
    del name, manager


if __name__ == "__main__":
    main()
