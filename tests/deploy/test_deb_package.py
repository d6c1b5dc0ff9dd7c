#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_deb_package: CPack builds kiln's .deb from this build; it holds the
binary, the systemd unit, the default config (a conffile), the man page and
the docs, and depends on the libraries the binary links. dpkg installs it
on this machine: `kiln --version` runs from /usr/bin, the man page renders,
the default config passes `kiln run --check-config`, `systemd-analyze
verify` accepts the installed unit, the postinst made the `kiln` user.
`dpkg -r` removes everything but the conffile, `dpkg -P` that too and the
spool directory. The user the test created is removed again."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from kilntest import check, done, skip, require_root  # noqa: E402

require_root()
BUILD = os.environ["KILN_BUILD_DIR"]
for tool in ("cpack", "dpkg", "dpkg-deb", "dpkg-shlibdeps"):
    if not shutil.which(tool):
        skip("%s not installed (build-essential and cmake provide them)" % tool)


def sh(*cmd, **kw):
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=120, **kw)


def installed():
    r = sh("dpkg-query", "-W", "-f=${Status}", "kiln")
    return r.returncode == 0 and "installed" in r.stdout and "not-installed" not in r.stdout


if installed():
    skip("a kiln package is already installed on this machine; not replacing it")
had_user = sh("getent", "passwd", "kiln").returncode == 0

out = tempfile.mkdtemp(prefix="kiln-deb-")
r = sh("cpack", "-G", "DEB", "-B", out, "--config", os.path.join(BUILD, "CPackConfig.cmake"))
debs = [f for f in os.listdir(out) if f.endswith(".deb")]
check(r.returncode == 0 and len(debs) == 1, "cpack builds one .deb (%s)" %
      (debs or r.stdout[-300:] + r.stderr[-300:]))
if not debs:
    done()
deb = os.path.join(out, debs[0])
print("%s: %d bytes" % (deb, os.path.getsize(deb)))
files = sh("dpkg-deb", "-c", deb).stdout
for path in ("./usr/bin/kiln", "./usr/lib/systemd/system/kiln.service", "./etc/kiln/kiln.conf",
             "./usr/share/man/man1/kiln.1.gz", "./usr/share/doc/kiln/install.md",
             "./usr/share/doc/kiln/config.md", "./usr/share/doc/kiln/examples/kiln-alerts.yml"):
    check(path in files, "package holds %s" % path)
depends = sh("dpkg-deb", "-f", deb, "Depends").stdout.strip()
print("Depends: %s" % depends)
for lib in ("libbpf1", "libdw1", "libelf1", "libcurl3-gnutls", "libprotobuf-c1", "zlib1g",
            "adduser"):
    check(lib in depends, "depends on %s" % lib)
check(sh("dpkg-deb", "--ctrl-tarfile", deb).returncode == 0 and
      "/etc/kiln/kiln.conf" in sh("sh", "-c", "dpkg-deb -e '%s' '%s/ctl' && cat '%s/ctl/conffiles'"
                                  % (deb, out, out)).stdout,
      "/etc/kiln/kiln.conf is a conffile")

try:
    r = sh("dpkg", "-i", deb)
    check(r.returncode == 0, "dpkg -i installs it (%s)" % (r.stdout + r.stderr).strip()[-300:])
    v = sh("/usr/bin/kiln", "--version")
    check(v.returncode == 0 and v.stdout.strip() == "kiln 0.1.0",
          "/usr/bin/kiln --version: %r" % v.stdout.strip())
    if shutil.which("man"):
        m = sh("man", "-l", "/usr/share/man/man1/kiln.1.gz", env=dict(os.environ, MANPAGER="cat",
                                                                      COLUMNS="80"))
        check(m.returncode == 0 and "kiln run" in m.stdout and "--upload-interval" in m.stdout,
              "man page renders with kiln run's options")
    else:
        print("man not installed: the man page is checked in the package only")
    c = sh("/usr/bin/kiln", "run", "--check-config",
           env={k: v for k, v in os.environ.items() if not k.startswith("KILN")})
    check(c.returncode == 0 and "/etc/kiln/kiln.conf" in c.stdout,
          "the default /etc/kiln/kiln.conf passes --check-config (%s)" %
          (c.stdout + c.stderr).strip().splitlines()[:2])
    check(sh("getent", "passwd", "kiln").returncode == 0, "postinst made the kiln user")
    if shutil.which("systemd-analyze"):
        a = sh("systemd-analyze", "verify", "/usr/lib/systemd/system/kiln.service")
        check(a.returncode == 0, "systemd-analyze verify accepts the installed unit (%s)" %
              (a.stdout + a.stderr).strip()[-300:])
        s = sh("systemd-analyze", "security", "--offline=yes",
               "/usr/lib/systemd/system/kiln.service")
        score = [l for l in s.stdout.splitlines() if "Overall exposure" in l]
        print("systemd-analyze security: %s" % score)
        num = re.search(r"level for kiln\.service: ([0-9.]+)", score[0]) if score else None
        check(num and float(num.group(1)) <= 5.0,
              "exposure score at most 5.0 (%s)" % score)
    else:
        print("systemd-analyze not installed: the installed unit is not verified here")
    # what the service would spool into, so that purge has something to remove
    os.makedirs("/var/lib/kiln/spool", exist_ok=True)

    r = sh("dpkg", "-r", "kiln")
    check(r.returncode == 0, "dpkg -r removes it (%s)" % r.stderr.strip()[-200:])
    check(not os.path.exists("/usr/bin/kiln") and
          not os.path.exists("/usr/share/man/man1/kiln.1.gz") and
          not os.path.exists("/usr/lib/systemd/system/kiln.service"),
          "binary, man page and unit are gone")
    check(os.path.exists("/etc/kiln/kiln.conf"), "the conffile stays until purge")
    r = sh("dpkg", "-P", "kiln")
    check(r.returncode == 0, "dpkg -P purges it (%s)" % r.stderr.strip()[-200:])
    check(not os.path.exists("/etc/kiln") and not os.path.exists("/var/lib/kiln"),
          "purge removed /etc/kiln and /var/lib/kiln")
    check(not installed() and sh("dpkg-query", "-W", "kiln").returncode != 0,
          "dpkg no longer knows kiln")
finally:
    if installed():
        sh("dpkg", "-P", "kiln")
    if not had_user and sh("getent", "passwd", "kiln").returncode == 0:
        sh("userdel", "kiln")
        sh("groupdel", "kiln")
    shutil.rmtree(out, ignore_errors=True)
done()
