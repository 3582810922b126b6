// TAT_RestartService, as stored: the template before parameter substitution. Each parameter is read
// from a quoted here-document, so the shell never parses the substituted text (the server refuses
// values with line breaks), then checked again with the rule in ../commands.ts.
// A template literal: `\${` and `\\` stand for ${ and \ (test/server/public-commands.test.ts
// runs every script).

export const script = `#!/bin/bash
# TAT_RestartService: restarts a systemd service, waits until it is active, shows its status.
# Exit 0: active after the restart; 1: the restart failed or the service did not come up;
# 2: a bad parameter or no systemd.
IFS= read -r service <<'TAT_PARAM'
{{service}}
TAT_PARAM
IFS= read -r wait_seconds <<'TAT_PARAM'
{{waitSeconds}}
TAT_PARAM

fail() { echo "ERROR: $*" >&2; exit 2; }
[[ $service =~ ^[A-Za-z0-9][A-Za-z0-9:_.@\\\\-]*$ ]] || fail "'$service' is not a systemd unit name"
if ! [[ $wait_seconds =~ ^[0-9]{1,3}$ ]] || [ "$((10#$wait_seconds))" -gt 300 ]; then
  fail "waitSeconds must be a whole number from 0 to 300, got '$wait_seconds'"
fi
command -v systemctl >/dev/null 2>&1 || fail "systemctl not found: this machine does not run systemd"

status() { systemctl status --no-pager --full --lines=20 "$service"; }
echo "== Restarting $service =="
if ! systemctl restart "$service"; then
  echo "ERROR: systemctl restart $service failed" >&2
  status
  exit 1
fi
state=$(systemctl is-active "$service")
waited=0
while [ "$state" != active ] && [ "$waited" -lt "$((10#$wait_seconds))" ]; do
  sleep 1
  waited=$((waited + 1))
  state=$(systemctl is-active "$service")
done
echo
echo "== Status =="
status
echo
if [ "$state" != active ]; then
  echo "ERROR: $service is $state after the restart" >&2
  exit 1
fi
echo "OK: $service is active"
`;
