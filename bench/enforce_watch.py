#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# bench/enforce_watch.py - the timing half of bench/enforce.sh: writes the
# directory changes through one long-running ldapmodify (no process start in
# the figure) and watches sessions' processes vanish.
#
#   enforce_watch.py revoke SESSIONS OUT      one revocation at a time: for
#       each session (lines "user pid pid ..."), T0, `agentStatus: revoked`
#       on its agent, then the time until every listed process is gone
#       (missing or a zombie); OUT gets "user ms" lines
#   enforce_watch.py expire SESSIONS OUT      lines "user not_after_epoch
#       pid ...": waits for all; OUT gets "user ms-after-not_after"
#   enforce_watch.py load RATE SECS PIDS OUT USER...  RATE agentNotAfter
#       changes per second over SECS seconds, round robin over USER...;
#       OUT gets "pid cpu_s" for each of PIDS (utime+stime from
#       /proc/PID/stat over the run) and "changes N", "seconds S"
#
# Environment: LDAP_URI, LDAP_ROOTDN, LDAP_PWFILE, LDAP_BASE (the agents
# are uid=USER,ou=agents,BASE). Prints nothing on success; exit 1 when the
# LDAP writer dies.
import os
import subprocess
import sys
import time

TIMEOUT_S = 30.0
POLL_S = 0.001


def ldapmodify():
    return subprocess.Popen(
        ["ldapmodify", "-x", "-c", "-H", os.environ["LDAP_URI"],
         "-D", os.environ["LDAP_ROOTDN"], "-y", os.environ["LDAP_PWFILE"]],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)


def modify(lm, user, attr, value):
    dn = "uid=%s,ou=agents,%s" % (user, os.environ["LDAP_BASE"])
    lm.stdin.write("dn: %s\nchangetype: modify\nreplace: %s\n%s: %s\n\n"
                   % (dn, attr, attr, value))
    lm.stdin.flush()
    if lm.poll() is not None:
        sys.exit("enforce_watch: ldapmodify exited")


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return False
    state = st[st.rfind(")") + 2:].split(" ", 1)[0]
    return state not in ("Z", "X")


def cpu_s(pid):
    """utime + stime of pid in seconds, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return None
    fields = st[st.rfind(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_sessions(path):
    with open(path) as f:
        return [ln.split() for ln in f if ln.strip()]


def revoke(sessions, out):
    lm = ldapmodify()
    with open(out, "w") as o:
        for s in sessions:
            user, pids = s[0], [int(p) for p in s[1:]]
            t0 = time.monotonic()
            modify(lm, user, "agentStatus", "revoked")
            while any(alive(p) for p in pids):
                if time.monotonic() - t0 > TIMEOUT_S:
                    break
                time.sleep(POLL_S)
            ms = (time.monotonic() - t0) * 1000
            left = sum(1 for p in pids if alive(p))
            o.write("%s %.1f%s\n" % (user, ms,
                                     " left=%d" % left if left else ""))
            o.flush()
    lm.stdin.close()
    lm.wait()


def expire(sessions, out):
    pending = {s[0]: (int(s[1]), [int(p) for p in s[2:]]) for s in sessions}
    last = max(v[0] for v in pending.values())
    res = {}
    while pending and time.time() < last + TIMEOUT_S:
        for user in list(pending):
            na, pids = pending[user]
            if not any(alive(p) for p in pids):
                res[user] = (time.time() - na) * 1000
                del pending[user]
        time.sleep(POLL_S)
    with open(out, "w") as o:
        for user, ms in res.items():
            o.write("%s %.1f\n" % (user, ms))
        for user in pending:
            o.write("%s timeout\n" % user)


def load(rate, secs, pids, out, users):
    lm = ldapmodify()
    c0 = {p: cpu_s(p) for p in pids}
    t0 = time.monotonic()
    n = 0
    base = int(time.time()) + 30 * 86400
    while True:
        t = time.monotonic() - t0
        if t >= secs:
            break
        due = int(t * rate) + 1
        while n < due:
            na = time.strftime("%Y%m%d%H%M%SZ", time.gmtime(base + n))
            modify(lm, users[n % len(users)], "agentNotAfter", na)
            n += 1
        time.sleep(max(0.0, (n / rate) - (time.monotonic() - t0)))
    elapsed = time.monotonic() - t0
    c1 = {p: cpu_s(p) for p in pids}
    lm.stdin.close()
    lm.wait()
    with open(out, "w") as o:
        for p in pids:
            if c0[p] is not None and c1[p] is not None:
                o.write("%d %.2f\n" % (p, c1[p] - c0[p]))
        o.write("changes %d\nseconds %.1f\n" % (n, elapsed))


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "revoke":
        revoke(read_sessions(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) >= 4 and sys.argv[1] == "expire":
        expire(read_sessions(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) >= 7 and sys.argv[1] == "load":
        load(float(sys.argv[2]), float(sys.argv[3]),
             [int(p) for p in sys.argv[4].split(",")], sys.argv[5],
             sys.argv[6:])
    else:
        sys.exit(__doc__ if __doc__ else "usage: see bench/enforce_watch.py")


if __name__ == "__main__":
    main()
