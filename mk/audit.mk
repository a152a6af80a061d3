# audit: the tamper-evident audit trail (issue #5). Owner: audit.
libagentid_core_la_SOURCES += \
	include/agentid_audit.h \
	common/audit_internal.h \
	common/audit_hash.c \
	common/audit_format.c \
	common/audit_scan.c \
	common/audit_append.c \
	common/audit_verify.c

# Helper that appends records like pam_agent does (tests and bench).
check_PROGRAMS += tests/audit/audit_writer
tests_audit_audit_writer_SOURCES = tests/audit/audit_writer.c
tests_audit_audit_writer_LDADD = libagentid-core.la
