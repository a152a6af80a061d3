/* SPDX-License-Identifier: BSD-2-Clause */
/* test_scope.c - host, service and from: grant matching. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "agentid.h"

static void
test_host_fqdn_and_short(void **state)
{
	(void)state;
	assert_true(agentid_scope_match_host("build-*", "build-7.example.com"));
	assert_true(agentid_scope_match_host("build-*.example.com", "build-7.example.com"));
	assert_true(agentid_scope_match_host("build-7", "build-7"));
	assert_false(agentid_scope_match_host("build-*", "web1.example.com"));
	assert_false(agentid_scope_match_host("example.com", "build-7.example.com"));
}

static void
test_host_case_insensitive(void **state)
{
	(void)state;
	assert_true(agentid_scope_match_host("BUILD-*", "build-7.Example.COM"));
	assert_true(agentid_scope_match_host("web?.EXAMPLE.com", "WEB1.example.com"));
}

static void
test_host_glob_forms(void **state)
{
	(void)state;
	assert_true(agentid_scope_match_host("*", "anything.example.com"));
	assert_true(agentid_scope_match_host("web[0-9]", "web5.example.com"));
	assert_false(agentid_scope_match_host("web[0-9]", "weba.example.com"));
	assert_false(agentid_scope_match_host("", "web1"));
	assert_false(agentid_scope_match_host("web1", NULL));
	assert_false(agentid_scope_match_host("web1", ".example.com"));
}

static void
test_service(void **state)
{
	(void)state;
	assert_true(agentid_scope_match_service("sshd", "sshd"));
	assert_true(agentid_scope_match_service("ssh*", "sshd"));
	assert_true(agentid_scope_match_service("*", "sudo"));
	assert_false(agentid_scope_match_service("sshd", "sudo"));
	assert_false(agentid_scope_match_service("SSHD", "sshd"));
	assert_false(agentid_scope_match_service("sshd", NULL));
}

static void
test_from_ipv4_cidr(void **state)
{
	(void)state;
	assert_true(agentid_scope_match_from("10.0.0.0/8", "10.1.2.3"));
	assert_false(agentid_scope_match_from("10.0.0.0/8", "11.1.2.3"));
	assert_true(agentid_scope_match_from("192.168.1.0/25", "192.168.1.127"));
	assert_false(agentid_scope_match_from("192.168.1.0/25", "192.168.1.128"));
	assert_true(agentid_scope_match_from("192.168.1.7", "192.168.1.7"));
	assert_false(agentid_scope_match_from("192.168.1.7", "192.168.1.8"));
	assert_true(agentid_scope_match_from("0.0.0.0/0", "203.0.113.9"));
}

static void
test_from_ipv6_cidr(void **state)
{
	(void)state;
	assert_true(agentid_scope_match_from("2001:db8::/32", "2001:db8:1::5"));
	assert_false(agentid_scope_match_from("2001:db8::/32", "2001:db9::5"));
	assert_true(agentid_scope_match_from("fd00:1:2:3::/64", "fd00:1:2:3:ffff::1"));
	assert_false(agentid_scope_match_from("fd00:1:2:3::/64", "fd00:1:2:4::1"));
	assert_true(agentid_scope_match_from("::1", "::1"));
	assert_true(agentid_scope_match_from("2001:db8::/33", "2001:db8:7fff::1"));
	assert_false(agentid_scope_match_from("2001:db8::/33", "2001:db8:8000::1"));
	/* families never cross, except IPv4-mapped IPv6 peers */
	assert_false(agentid_scope_match_from("2001:db8::/32", "10.0.0.1"));
	assert_true(agentid_scope_match_from("10.0.0.0/8", "::ffff:10.9.8.7"));
	assert_false(agentid_scope_match_from("10.0.0.0/8", "::ffff:11.9.8.7"));
}

static void
test_from_bad_cidr_is_glob(void **state)
{
	(void)state;
	/* not a valid CIDR: treated as a glob, which matches no address */
	assert_false(agentid_scope_match_from("10.0.0.0/33", "10.0.0.1"));
	assert_false(agentid_scope_match_from("10.0.0.0/x", "10.0.0.1"));
	assert_false(agentid_scope_match_from("10.0.0.0/", "10.0.0.1"));
	/* an rhost with a prefix is not an address */
	assert_false(agentid_scope_match_from("10.0.0.0/8", "10.0.0.1/32"));
}

static void
test_from_hostname_glob(void **state)
{
	(void)state;
	assert_true(agentid_scope_match_from("*.ci.example.com", "runner3.ci.example.com"));
	assert_true(agentid_scope_match_from("*.CI.example.com", "runner3.ci.Example.com"));
	assert_false(agentid_scope_match_from("*.ci.example.com", "evil.example.com"));
	assert_true(agentid_scope_match_from("10.0.*", "10.0.3.4"));
}

static void
test_from_empty_rhost(void **state)
{
	(void)state;
	assert_false(agentid_scope_match_from("*", ""));
	assert_false(agentid_scope_match_from("*", NULL));
	assert_false(agentid_scope_match_from("0.0.0.0/0", ""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_fqdn_and_short),
		cmocka_unit_test(test_host_case_insensitive),
		cmocka_unit_test(test_host_glob_forms),
		cmocka_unit_test(test_service),
		cmocka_unit_test(test_from_ipv4_cidr),
		cmocka_unit_test(test_from_ipv6_cidr),
		cmocka_unit_test(test_from_bad_cidr_is_glob),
		cmocka_unit_test(test_from_hostname_glob),
		cmocka_unit_test(test_from_empty_rhost),
	};

	return cmocka_run_group_tests_name("scope", tests, NULL, NULL);
}
