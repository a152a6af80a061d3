# SPDX-License-Identifier: BSD-2-Clause
# packaging: what "make install" puts outside $(bindir) and $(libdir) (the
# sample configuration, systemd units, logrotate snippet, man pages), the
# Debian and RPM packaging, and their tests. Owner: pkg (issue #7).
# The schema is installed by mk/ldap.mk into $(pkgdatadir)/schema.

# ---- man pages -------------------------------------------------------------
# agentid.8 (ldap part), pam_agent.8 (pam part), libnss_agent.8 (packaging),
# agentid.conf.5 (docs: every key of /etc/agentid.conf, its default, and the
# permission rules).
dist_man_MANS += man/agentid.8 man/agentidd.8 man/pam_agent.8 man/libnss_agent.8 \
	man/agentid.conf.5

# ---- licence (BSD-2-Clause; debian/copyright and the spec's License: say so) --
EXTRA_DIST += LICENSE

# ---- systemd units (written by the nss part) -------------------------------
dist_systemdsystemunit_DATA = packaging/systemd/agentid-sync.service \
	packaging/systemd/agentid-sync.timer packaging/systemd/agentidd.service \
	packaging/systemd/agentid-enforcer.service

# ---- logrotate (written by the audit part) ---------------------------------
# Installed as $(sysconfdir)/logrotate.d/agentid by the hook below.
logrotatedir = $(sysconfdir)/logrotate.d
EXTRA_DIST += packaging/logrotate/agentid

# ---- configuration, state and log directories --------------------------------
# agentid.conf: mode 0600, never overwrites an existing one; "make uninstall"
# removes it only when it is still the unmodified sample.
EXTRA_DIST += packaging/agentid.conf
install-data-hook: pkg-install-data-hook
uninstall-hook: pkg-uninstall-hook
.PHONY: pkg-install-data-hook pkg-uninstall-hook

pkg-install-data-hook:
	$(MKDIR_P) '$(DESTDIR)$(sysconfdir)'
	@if test -e '$(DESTDIR)$(sysconfdir)/agentid.conf'; then \
	  echo "keeping the existing $(DESTDIR)$(sysconfdir)/agentid.conf"; \
	else \
	  echo " $(INSTALL) -m 0600 packaging/agentid.conf '$(DESTDIR)$(sysconfdir)/agentid.conf'"; \
	  $(INSTALL) -m 0600 '$(srcdir)/packaging/agentid.conf' \
	    '$(DESTDIR)$(sysconfdir)/agentid.conf' || exit 1; \
	fi
	$(MKDIR_P) '$(DESTDIR)$(logrotatedir)'
	$(INSTALL_DATA) '$(srcdir)/packaging/logrotate/agentid' \
	  '$(DESTDIR)$(logrotatedir)/agentid'
	$(MKDIR_P) '$(DESTDIR)$(localstatedir)/lib/agentid'
	@if test ! -d '$(DESTDIR)$(localstatedir)/log/agentid'; then \
	  echo " $(INSTALL) -d -m 0700 '$(DESTDIR)$(localstatedir)/log/agentid'"; \
	  $(INSTALL) -d -m 0700 '$(DESTDIR)$(localstatedir)/log/agentid' || exit 1; \
	fi

pkg-uninstall-hook:
	@f='$(DESTDIR)$(sysconfdir)/agentid.conf'; \
	if test -f "$$f" && cmp -s "$$f" '$(srcdir)/packaging/agentid.conf'; then \
	  echo " rm -f '$$f'"; rm -f "$$f"; \
	elif test -e "$$f"; then \
	  echo "keeping the modified $$f"; \
	fi
	rm -f '$(DESTDIR)$(logrotatedir)/agentid'
	-rmdir '$(DESTDIR)$(logrotatedir)' '$(DESTDIR)$(localstatedir)/lib/agentid' \
	  '$(DESTDIR)$(localstatedir)/log/agentid' 2>/dev/null

# ---- distribution packaging (shipped in the tarball) ---------------------------
EXTRA_DIST += \
	packaging/debian/changelog \
	packaging/debian/control \
	packaging/debian/copyright \
	packaging/debian/rules \
	packaging/debian/source/format \
	packaging/debian/not-installed \
	packaging/debian/agentid.dirs \
	packaging/debian/agentid.install \
	packaging/debian/agentid.lintian-overrides \
	packaging/debian/agentid.postinst \
	packaging/debian/agentid.postrm \
	packaging/debian/libagentid0.install \
	packaging/debian/libnss-agent.install \
	packaging/debian/libnss-agent.lintian-overrides \
	packaging/debian/libpam-agent.install \
	packaging/debian/libpam-agent.postinst \
	packaging/debian/libpam-agent.prerm \
	packaging/debian/pam-configs/agentid \
	packaging/rpm/agentid.spec \
	scripts/build-packages \
	docs/packaging.md \
	tests/packaging/check-packages.sh

# ---- tests -------------------------------------------------------------------
# The sample configuration lists every key with its default (make check).
# tests/packaging/check-packages.sh builds, installs and purges the packages:
# scripts/test runs it as root after make check; it is not part of make check.
TESTS += tests/packaging/test_sample_conf.sh
dist_check_SCRIPTS += tests/packaging/test_sample_conf.sh
# agentid.conf(5) documents every key of common/config.c and renders cleanly.
TESTS += tests/packaging/test_man_conf.sh
dist_check_SCRIPTS += tests/packaging/test_man_conf.sh
if HAVE_CMOCKA
check_PROGRAMS += tests/packaging/test_sample_conf
TESTS += tests/packaging/test_sample_conf
tests_packaging_test_sample_conf_SOURCES = tests/packaging/test_sample_conf.c
tests_packaging_test_sample_conf_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_packaging_test_sample_conf_LDADD = libagentid-core.la $(CMOCKA_LIBS)
endif
