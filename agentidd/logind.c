/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * logind.c - ending a session through systemd-logind: TerminateSession on
 * org.freedesktop.login1.Manager (sd-bus, from libsystemd, linked only into
 * the enforcer). logind kills the session's whole scope (cgroup), which is
 * the one grouping an agent can escape even less than the audit session.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "enforce.h"

#define LOGIND_TIMEOUT_USEC (5 * 1000 * 1000) /* a hung logind never
                                               * holds the enforcer up */

/* Connects to the system bus, or (tests) to AGENTID_TEST_LOGIND_BUS. */
static int
bus_open(sd_bus **out)
{
	const char *addr = secure_getenv("AGENTID_TEST_LOGIND_BUS");
	sd_bus *bus = NULL;
	int r;

	if (addr == NULL || addr[0] == '\0')
		return sd_bus_open_system(out);
	if ((r = sd_bus_new(&bus)) < 0)
		return r;
	if ((r = sd_bus_set_address(bus, addr)) < 0 ||
	    (r = sd_bus_set_bus_client(bus, 1)) < 0 ||
	    (r = sd_bus_start(bus)) < 0) {
		sd_bus_unref(bus);
		return r;
	}
	*out = bus;
	return 0;
}

/* See enforce.h. */
int
logind_terminate(const char *id, struct agentid_error *err)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	sd_bus *bus = NULL;
	int r;

	if ((r = bus_open(&bus)) < 0) {
		agentid_seterr(err, -r, "cannot reach logind's bus: %s",
		    strerror(-r));
		r = -r;
		goto out;
	}
	(void)sd_bus_set_method_call_timeout(bus, LOGIND_TIMEOUT_USEC);
	if ((r = sd_bus_call_method(bus, "org.freedesktop.login1",
	    "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
	    "TerminateSession", &e, &reply, "s", id)) < 0) {
		agentid_seterr(err, -r, "TerminateSession(%s): %s", id,
		    e.message != NULL ? e.message : strerror(-r));
		r = -r;
		goto out;
	}
	r = 0;
out:
	sd_bus_error_free(&e);
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(bus);
	return r;
}
