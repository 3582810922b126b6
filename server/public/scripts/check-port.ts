// TAT_CheckPort, as stored: the template before parameter substitution. Each parameter is read
// from a quoted here-document, so the shell never parses the substituted text (the server refuses
// values with line breaks), then checked again with the rule in ../commands.ts.
// A template literal: `\${` and `\\` stand for ${ and \ (test/server/public-commands.test.ts
// runs every script).

export const script = `#!/bin/bash
# TAT_CheckPort: whether a TCP port accepts connections from this machine (a service is up, a
# firewall lets it through). Exit 0: connected; 1: refused, unreachable or timed out; 2: a bad
# parameter.
IFS= read -r host <<'TAT_PARAM'
{{host}}
TAT_PARAM
IFS= read -r port <<'TAT_PARAM'
{{port}}
TAT_PARAM
IFS= read -r seconds <<'TAT_PARAM'
{{timeout}}
TAT_PARAM

fail() { echo "ERROR: $*" >&2; exit 2; }
[[ $host =~ ^[A-Za-z0-9:][A-Za-z0-9.:-]*$ ]] || fail "host must be a host name or an IP address, got '$host'"
if ! [[ $port =~ ^[0-9]{1,5}$ ]] || [ "$((10#$port))" -lt 1 ] || [ "$((10#$port))" -gt 65535 ]; then
  fail "port must be a whole number from 1 to 65535, got '$port'"
fi
[[ $seconds =~ ^[1-9][0-9]{0,2}$ ]] || fail "timeout must be a whole number of seconds from 1 to 999, got '$seconds'"
port=$((10#$port))

if ! addresses=$(getent ahosts "$host" | awk '{ print $1 }' | sort -u | paste -sd ' ') || [ -z "$addresses" ]; then
  echo "FAILED: cannot resolve $host" >&2
  exit 1
fi
echo "$host resolves to: $addresses"
start=$(date +%s%N)
# bash opens the connection itself (/dev/tcp); timeout bounds a silent drop by a firewall.
# shellcheck disable=SC2016
if out=$(timeout "$seconds" bash -c 'exec 3<>"/dev/tcp/$1/$2"' check "$host" "$port" 2>&1); then
  echo "OK: $host:$port accepts TCP connections ($(( ($(date +%s%N) - start) / 1000000 )) ms)"
  exit 0
fi
status=$?
if [ "$status" -eq 124 ]; then echo "FAILED: no answer from $host:$port within $seconds s" >&2
else echo "FAILED: cannot connect to $host:$port: \${out##*: }" >&2; fi
exit 1
`;
