#!/usr/bin/env bash
# Copies install.sh into the GitLab component (templates/exlogare/template.yml), where it runs
# inline as a heredoc (`sh -s <<'EXLOGARE_INSTALL_SH'`) so that a job needs no downloader to
# fetch the installer itself. `--check` only says whether the copy is current (exit 1 if not).
#
#   ci/sync-installer.sh [--check]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python3 - "$root/install.sh" "$root/templates/exlogare/template.yml" "${1:-}" <<'PY'
import re, sys
installer, template, mode = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(template).read()
m = re.search(r"(<<'EXLOGARE_INSTALL_SH'\n)(.*?)(^( *)EXLOGARE_INSTALL_SH\n)", text, re.S | re.M)
if not m:
    sys.exit(f"sync-installer: no <<'EXLOGARE_INSTALL_SH' heredoc in {template}")
indent = m.group(4)
body = "".join(indent + line if line.strip() else "\n" for line in open(installer).read().splitlines(True))
new = text[: m.start(2)] + body + text[m.end(2):]
if mode == "--check":
    if new != text:
        sys.exit(f"sync-installer: the installer in {template} differs from install.sh: run ci/sync-installer.sh")
    print("sync-installer: the component's installer is install.sh")
else:
    open(template, "w").write(new)
    print(f"sync-installer: copied install.sh into {template}")
PY
