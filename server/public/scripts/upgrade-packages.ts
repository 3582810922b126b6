// TAT_UpgradePackages, as stored: the template before parameter substitution. Each parameter is read
// from a quoted here-document, so the shell never parses the substituted text (the server refuses
// values with line breaks), then checked again with the rule in ../commands.ts.
// A template literal: `\${` and `\\` stand for ${ and \ (test/server/public-commands.test.ts
// runs every script).

export const script = `#!/bin/bash
# TAT_UpgradePackages: upgrades every package, or the named ones, with apt-get or dnf/yum; with
# dryRun=true only lists what would be upgraded. Tells whether the machine needs a reboot.
# Exit 0: done; 1: the package manager failed; 2: a bad parameter.
IFS= read -r packages <<'TAT_PARAM'
{{packages}}
TAT_PARAM
IFS= read -r manager <<'TAT_PARAM'
{{packageManager}}
TAT_PARAM
IFS= read -r dry_run <<'TAT_PARAM'
{{dryRun}}
TAT_PARAM

fail() { echo "ERROR: $*" >&2; exit 2; }
read -r -a names <<<"$packages"
for name in "\${names[@]}"; do
  [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9.+_:~=-]*$ ]] || fail "'$name' is not a package name (letters, digits and . + _ : ~ = -)"
done
case "$dry_run" in true | false) ;; *) fail "dryRun must be true or false, got '$dry_run'" ;; esac
case "$manager" in
  auto) for pm in apt-get dnf yum ''; do [ -n "$pm" ] && command -v "$pm" >/dev/null 2>&1 && break; done ;;
  apt) pm=apt-get ;;
  dnf | yum) pm=$manager ;;
  *) fail "packageManager must be auto, apt, dnf or yum, got '$manager'" ;;
esac
[ -n "$pm" ] || fail "no supported package manager (apt-get, dnf, yum) on this machine"
command -v "$pm" >/dev/null 2>&1 || fail "$pm is not installed on this machine"

what="every upgradable package"
[ "\${#names[@]}" -gt 0 ] && what="\${names[*]}"
if [ "$dry_run" = true ]; then echo "== Upgrades available with $pm ($what; dry run: no package changes) =="
else echo "== Upgrading with $pm: $what =="; fi

if [ "$pm" = apt-get ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q || echo "WARNING: apt-get update failed; using the cached package lists"
  opts=(-y -q -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  if [ "\${#names[@]}" -gt 0 ]; then cmd=(apt-get install --only-upgrade "\${opts[@]}" "\${names[@]}")
  else cmd=(apt-get upgrade "\${opts[@]}"); fi
  if [ "$dry_run" = true ]; then
    # A simulation prints one "Inst" line per package it would upgrade.
    out=$("\${cmd[@]}" --simulate)
    status=$?
    echo "$out"
    [ "$status" -eq 0 ] && echo "$(grep -c '^Inst' <<<"$out") package(s) would be upgraded"
  else
    "\${cmd[@]}"
    status=$?
  fi
elif [ "$dry_run" = true ]; then
  # check-update: exit 100 when upgrades are available, 0 when none.
  "$pm" -q check-update "\${names[@]}"
  status=$?
  [ "$status" -eq 100 ] && status=0
else
  "$pm" upgrade -y "\${names[@]}"
  status=$?
fi
if [ "$status" -ne 0 ]; then
  echo "ERROR: $pm failed with exit code $status" >&2
  exit 1
fi

echo
reboot=no
if [ -f /var/run/reboot-required ]; then reboot=yes
elif command -v needs-restarting >/dev/null 2>&1 && ! needs-restarting -r >/dev/null 2>&1; then reboot=yes; fi
echo "reboot required: $reboot"
if [ "$dry_run" = true ]; then echo "OK: dry run with $pm, no package changed"
else echo "OK: upgrade with $pm done"; fi
`;
