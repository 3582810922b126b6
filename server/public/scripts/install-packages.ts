// TAT_InstallPackages, as stored: the template before parameter substitution. Each parameter is read
// from a quoted here-document, so the shell never parses the substituted text (the server refuses
// values with line breaks), then checked again with the rule in ../commands.ts.
// A template literal: `\${` and `\\` stand for ${ and \ (test/server/public-commands.test.ts
// runs every script).

export const script = `#!/bin/bash
# TAT_InstallPackages: installs packages with apt-get (Debian, Ubuntu) or dnf/yum (RHEL family).
# Exit 0: installed (or already there); 1: the package manager failed; 2: a bad parameter.
IFS= read -r packages <<'TAT_PARAM'
{{packages}}
TAT_PARAM
IFS= read -r manager <<'TAT_PARAM'
{{packageManager}}
TAT_PARAM

fail() { echo "ERROR: $*" >&2; exit 2; }
read -r -a names <<<"$packages"
[ "\${#names[@]}" -gt 0 ] || fail "packages must name at least one package"
for name in "\${names[@]}"; do
  [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9.+_:~=-]*$ ]] || fail "'$name' is not a package name (letters, digits and . + _ : ~ = -)"
done
case "$manager" in
  auto) for pm in apt-get dnf yum ''; do [ -n "$pm" ] && command -v "$pm" >/dev/null 2>&1 && break; done ;;
  apt) pm=apt-get ;;
  dnf | yum) pm=$manager ;;
  *) fail "packageManager must be auto, apt, dnf or yum, got '$manager'" ;;
esac
[ -n "$pm" ] || fail "no supported package manager (apt-get, dnf, yum) on this machine"
command -v "$pm" >/dev/null 2>&1 || fail "$pm is not installed on this machine"

echo "== Installing with $pm: \${names[*]} =="
if [ "$pm" = apt-get ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q || echo "WARNING: apt-get update failed; installing from the cached package lists"
  apt-get install -y -q -o DPkg::Lock::Timeout=120 \\
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "\${names[@]}"
else
  "$pm" install -y "\${names[@]}"
fi
status=$?
if [ "$status" -ne 0 ]; then
  echo "ERROR: $pm failed with exit code $status" >&2
  exit 1
fi

echo
echo "== Installed =="
for name in "\${names[@]}"; do
  name=\${name%%=*}
  if [ "$pm" = apt-get ]; then
    dpkg-query -W -f='\${Package} \${Version}\\n' "$name" 2>/dev/null || echo "$name (version unknown)"
  else
    rpm -q "$name" 2>/dev/null || echo "$name (version unknown)"
  fi
done
echo "OK: \${#names[@]} package(s) installed with $pm"
`;
