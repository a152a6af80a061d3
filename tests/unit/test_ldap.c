/* SPDX-License-Identifier: BSD-2-Clause */
/* test_ldap.c - the LDAP source's pure parts and its refusals before I/O. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "agentid.h"
#include "agentid_ldap.h"
#include "chain.h"
#include "internal.h"
#include "ldap_internal.h"

/* A config from text; fails the test if it does not parse. */
static struct agentid_config *
conf(const char *text)
{
	struct agentid_config *c = NULL;
	struct agentid_error err = { "" };

	assert_int_equal(agentid_config_new(&c), 0);
	assert_int_equal(agentid_config_parse(c, text, strlen(text), "<test>",
	    &err), 0);
	return c;
}

/* LDAP result codes map to the errno codes the fronts translate. */
static void
test_errno_mapping(void **state)
{
	(void)state;
	assert_int_equal(aidl_errno(LDAP_SUCCESS), 0);
	assert_int_equal(aidl_errno(LDAP_SERVER_DOWN), EHOSTDOWN);
	assert_int_equal(aidl_errno(LDAP_CONNECT_ERROR), EHOSTDOWN);
	assert_int_equal(aidl_errno(LDAP_TIMEOUT), ETIMEDOUT);
	assert_int_equal(aidl_errno(LDAP_INVALID_CREDENTIALS), EACCES);
	assert_int_equal(aidl_errno(LDAP_INSUFFICIENT_ACCESS), EACCES);
	assert_int_equal(aidl_errno(LDAP_NO_SUCH_OBJECT), ENOENT);
	assert_int_equal(aidl_errno(LDAP_FILTER_ERROR), EINVAL);
	assert_true(aidl_unreachable(EHOSTDOWN));
	assert_true(aidl_unreachable(ETIMEDOUT));
	assert_false(aidl_unreachable(EACCES));
	assert_false(aidl_unreachable(0));
}

/* DNs compare after normalisation, ignoring case. */
static void
test_dn_equal(void **state)
{
	(void)state;
	assert_true(agentid_dn_equal("uid=a,ou=x,dc=example,dc=org",
	    "UID=a, ou=x,  dc=example,dc=org"));
	assert_true(agentid_dn_equal("uid=A,ou=x", "uid=a,ou=x"));
	assert_false(agentid_dn_equal("uid=a,ou=x", "uid=b,ou=x"));
	assert_false(agentid_dn_equal("uid=a,ou=x", "uid=a,ou=x,dc=org"));
	assert_false(agentid_dn_equal(NULL, "uid=a"));
	assert_false(agentid_dn_equal("uid=a", NULL));
}

/* A deep copy owns its strings. */
static void
test_record_copy(void **state)
{
	struct agentid_record src, dst;
	char *scope[] = { "host:*", "service:sshd", NULL };
	char *fps[] = { "SHA256:x", NULL };

	(void)state;
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	src.dn = "uid=a,ou=x";
	src.uid = "a";
	src.owner_dn = "uid=h,ou=p";
	src.is_agent = true;
	src.scope = scope;
	src.n_scope = 2;
	src.fingerprints = fps;
	src.n_fingerprints = 1;
	src.has_not_after = true;
	src.not_after = 42;
	src.status = AGENTID_STATUS_REVOKED;
	assert_int_equal(agentid_record_copy(&dst, &src), 0);
	assert_string_equal(dst.dn, src.dn);
	assert_ptr_not_equal(dst.dn, src.dn);
	assert_string_equal(dst.owner_dn, "uid=h,ou=p");
	assert_int_equal(dst.n_scope, 2);
	assert_string_equal(dst.scope[1], "service:sshd");
	assert_null(dst.scope[2]);
	assert_int_equal(dst.n_fingerprints, 1);
	assert_true(dst.is_agent);
	assert_int_equal(dst.not_after, 42);
	assert_int_equal(dst.status, AGENTID_STATUS_REVOKED);
	assert_null(dst.home);
	agentid_record_clear(&dst);
}

/* No uri, no base: EINVAL before any network. */
static void
test_open_needs_uri_and_base(void **state)
{
	struct agentid_config *c;
	struct agentid_ldap *l = NULL;
	struct agentid_error err = { "" };

	(void)state;
	c = conf("base dc=example,dc=org\n");
	assert_int_equal(agentid_ldap_open(c, &l, &err), EINVAL);
	assert_null(l);
	assert_non_null(strstr(err.msg, "no uri"));
	agentid_config_free(c);
	c = conf("uri ldap://127.0.0.1:1\n");
	assert_int_equal(agentid_ldap_open(c, &l, &err), EINVAL);
	assert_non_null(strstr(err.msg, "no base"));
	agentid_config_free(c);
}

/* Every uri refused: EHOSTDOWN, and the message names each one. */
static void
test_open_all_refused(void **state)
{
	struct agentid_config *c;
	struct agentid_ldap *l = NULL;
	struct agentid_error err = { "" };

	(void)state;
	c = conf("uri ldap://127.0.0.1:1 ldap://127.0.0.1:9\n"
	    "base dc=example,dc=org\ntimeout 2\n");
	assert_int_equal(agentid_ldap_open(c, &l, &err), EHOSTDOWN);
	assert_null(l);
	assert_non_null(strstr(err.msg, "ldap://127.0.0.1:1"));
	assert_non_null(strstr(err.msg, "ldap://127.0.0.1:9"));
	agentid_config_free(c);
}

/* A password is never sent over plain ldap://: refused before connecting. */
static void
test_simple_bind_needs_tls(void **state)
{
	struct agentid_config *c;
	struct agentid_ldap *l = NULL;
	struct agentid_error err = { "" };

	(void)state;
	c = conf("uri ldap://127.0.0.1:1\nbase dc=example,dc=org\nssl off\n"
	    "binddn cn=reader,dc=example,dc=org\n"
	    "bindpw_file /nonexistent/agentid-test-pw\n");
	assert_int_equal(agentid_ldap_open(c, &l, &err), EACCES);
	assert_non_null(strstr(err.msg, "neither TLS nor ldapi"));
	agentid_config_free(c);
}

/* decide_user: a bad name is EINVAL and a deny; unreachable is
 * ldap_unavailable. */
static void
test_decide_user_fails_closed(void **state)
{
	struct agentid_config *c;
	struct agentid_chain chain = { NULL, 0 };
	struct agentid_decision d;
	struct agentid_error err = { "" };
	struct agentid_request req;

	(void)state;
	c = conf("uri ldap://127.0.0.1:1\nbase dc=example,dc=org\n");
	memset(&req, 0, sizeof(req));
	req.user = "a/b";
	req.service = "sshd";
	req.host = "web1";
	req.now = 1800000000;
	assert_int_equal(agentid_decide_user(c, &req, &chain, &d, &err), EINVAL);
	assert_false(d.allow);
	req.user = "ok-bot";
	assert_int_equal(agentid_decide_user(c, &req, &chain, &d, &err), EHOSTDOWN);
	assert_false(d.allow);
	assert_int_equal(d.reason, AGENTID_LDAP_UNAVAILABLE);
	assert_int_equal(chain.n, 0);
	agentid_chain_clear(&chain);
	agentid_config_free(c);
}

/* A TLS server context with a throwaway self-signed P-256 certificate. */
static SSL_CTX *
tls_server_ctx(void)
{
	EVP_PKEY *k;
	X509 *x;
	SSL_CTX *ctx;

	assert_non_null(k = EVP_EC_gen("P-256"));
	assert_non_null(x = X509_new());
	assert_int_equal(X509_set_version(x, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	assert_int_equal(X509_set_pubkey(x, k), 1);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"127.0.0.1", -1, -1, 0);
	assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(x)), 1);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	assert_non_null(ctx = SSL_CTX_new(TLS_server_method()));
	assert_int_equal(SSL_CTX_use_certificate(ctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, k), 1);
	X509_free(x);
	EVP_PKEY_free(k);
	return ctx;
}

/*
 * A server that resets the connection after a successful bind (crash,
 * restart, a middlebox) must not kill the process with SIGPIPE: libldap
 * writes with write(2), and sshd or sudo would die. The client runs in a
 * child with SIGPIPE at its default action; it must come back with a deny.
 */
static void
test_reset_after_bind_no_sigpipe(void **state)
{
	static const unsigned char bind_ok[] = { 0x30, 0x0c, 0x02, 0x01, 0x01,
	    0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00 };
	struct sockaddr_in sa;
	socklen_t salen = sizeof(sa);
	struct linger lg = { 1, 0 };
	unsigned char req[4096], resp[sizeof(bind_ok)];
	SSL_CTX *ctx;
	SSL *ssl;
	pid_t pid;
	int ls, fd, status, n;

	(void)state;
	signal(SIGPIPE, SIG_IGN); /* this side only reads after the reset */
	ctx = tls_server_ctx();
	assert_true((ls = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 1), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &salen), 0);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		struct agentid_config *c = NULL;
		struct agentid_chain chain = { NULL, 0 };
		struct agentid_decision d;
		struct agentid_error err = { "" };
		struct agentid_request rq;
		char text[256];
		int r;

		signal(SIGPIPE, SIG_DFL);
		close(ls);
		snprintf(text, sizeof(text), "uri ldaps://127.0.0.1:%u\n"
		    "base dc=example,dc=org\ntls_reqcert never\ntimeout 5\n",
		    (unsigned)ntohs(sa.sin_port));
		if (agentid_config_new(&c) != 0 ||
		    agentid_config_parse(c, text, strlen(text), "<test>", &err) != 0)
			_exit(10);
		memset(&rq, 0, sizeof(rq));
		rq.user = "ok-bot";
		rq.service = "sshd";
		rq.host = "web1";
		rq.now = 1800000000;
		r = agentid_decide_user(c, &rq, &chain, &d, &err);
		_exit(r != 0 && !d.allow ? 0 : 11);
	}
	assert_true((fd = accept(ls, NULL, NULL)) >= 0);
	assert_non_null(ssl = SSL_new(ctx));
	SSL_set_fd(ssl, fd);
	assert_int_equal(SSL_accept(ssl), 1);
	assert_true(SSL_read(ssl, req, sizeof(req)) > 5);  /* the bind */
	memcpy(resp, bind_ok, sizeof(resp));
	resp[4] = req[4];                              /* its message id */
	assert_int_equal(SSL_write(ssl, resp, sizeof(resp)), (int)sizeof(resp));
	n = SSL_read(ssl, req, sizeof(req));           /* the search */
	assert_true(n > 0);
	/* reset, not close: the client's next write gets EPIPE */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	SSL_free(ssl);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("client killed by signal %d", WTERMSIG(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(ls);
	SSL_CTX_free(ctx);
}

/*
 * A server that sends the first bytes of a response and then stalls
 * (stage 0: of the bind's, stage 1: of the search's) must not hold the
 * client past its timeout: libldap reads the rest of a message blocking.
 * The client (timeout 1 s) runs in a child; the bound below only catches a
 * hang, it measures nothing.
 */
static void
test_half_response_no_hang(void **state)
{
	static const unsigned char bind_ok[] = { 0x30, 0x0c, 0x02, 0x01, 0x01,
	    0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00 };
	static const unsigned char half[] = { 0x30, 0x40, 0x02 };
	struct sockaddr_in sa;
	socklen_t salen;
	unsigned char req[4096];
	int stage, ls, fd, status, waited;
	pid_t pid;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	for (stage = 0; stage < 2; stage++) {
		salen = sizeof(sa);
		assert_true((ls = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
		assert_int_equal(listen(ls, 1), 0);
		assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &salen), 0);
		assert_true((pid = fork()) >= 0);
		if (pid == 0) {
			struct agentid_config *c = NULL;
			struct agentid_chain chain = { NULL, 0 };
			struct agentid_decision d;
			struct agentid_error err = { "" };
			struct agentid_request rq;
			char text[256];
			int r;

			close(ls);
			snprintf(text, sizeof(text), "uri ldap://127.0.0.1:%u\n"
			    "base dc=example,dc=org\ntimeout 1\n",
			    (unsigned)ntohs(sa.sin_port));
			if (agentid_config_new(&c) != 0 ||
			    agentid_config_parse(c, text, strlen(text), "<test>",
			    &err) != 0)
				_exit(10);
			memset(&rq, 0, sizeof(rq));
			rq.user = "ok-bot";
			rq.service = "sshd";
			rq.host = "web1";
			rq.now = 1800000000;
			r = agentid_decide_user(c, &rq, &chain, &d, &err);
			_exit(r != 0 && !d.allow && d.reason ==
			    AGENTID_LDAP_UNAVAILABLE ? 0 : 11);
		}
		assert_true((fd = accept(ls, NULL, NULL)) >= 0);
		assert_true(read(fd, req, sizeof(req)) > 0);      /* the bind */
		if (stage == 1) {
			assert_int_equal(write(fd, bind_ok, sizeof(bind_ok)),
			    (ssize_t)sizeof(bind_ok));
			assert_true(read(fd, req, sizeof(req)) > 0);  /* the search */
		}
		assert_int_equal(write(fd, half, sizeof(half)), (ssize_t)sizeof(half));
		for (waited = 0; waited < 30000; waited += 50) {
			if (waitpid(pid, &status, WNOHANG) == pid)
				break;
			usleep(50000);
		}
		if (waited >= 30000) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fail_msg("stage %d: client still waiting after 30 s (timeout "
			    "1 s)", stage);
		}
		close(fd);
		close(ls);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_mapping),
		cmocka_unit_test(test_dn_equal),
		cmocka_unit_test(test_record_copy),
		cmocka_unit_test(test_open_needs_uri_and_base),
		cmocka_unit_test(test_open_all_refused),
		cmocka_unit_test(test_simple_bind_needs_tls),
		cmocka_unit_test(test_decide_user_fails_closed),
		cmocka_unit_test(test_reset_after_bind_no_sigpipe),
		cmocka_unit_test(test_half_response_no_hang),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
