// TAT_CollectDiagnostics, as stored: the template before parameter substitution. Each parameter is read
// from a quoted here-document, so the shell never parses the substituted text (the server refuses
// values with line breaks), then checked again with the rule in ../commands.ts.
// A template literal: `\${` and `\\` stand for ${ and \ (test/server/public-commands.test.ts
// runs every script).

export const script = `#!/bin/bash
# TAT_CollectDiagnostics: a read-only snapshot for troubleshooting: system, load, memory, disks,
# top processes, listening sockets, failed systemd units, kernel messages and journal errors.
# Exit 0: collected (sections that cannot be read say so); 2: a bad parameter.
IFS= read -r lines <<'TAT_PARAM'
{{lines}}
TAT_PARAM
IFS= read -r top <<'TAT_PARAM'
{{top}}
TAT_PARAM

fail() { echo "ERROR: $*" >&2; exit 2; }
[[ $lines =~ ^[0-9]{1,3}$ ]] || fail "lines must be a whole number from 0 to 999, got '$lines'"
[[ $top =~ ^[0-9]{1,3}$ ]] || fail "top must be a whole number from 0 to 999, got '$top'"
lines=$((10#$lines))
top=$((10#$top))
have() { command -v "$1" >/dev/null 2>&1; }
section() { printf '\\n== %s ==\\n' "$1"; }

section "System"
echo "hostname: $(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)"
echo "kernel: $(uname -srmv)"
# shellcheck source=/dev/null
if [ -r /etc/os-release ]; then echo "os: $(. /etc/os-release && echo "$PRETTY_NAME")"; fi
echo "time: $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
echo "uptime: $(uptime)"

section "CPU and load"
echo "cpus: $(nproc 2>/dev/null || grep -c ^processor /proc/cpuinfo)"
echo "load average (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg)"

section "Memory"
if have free; then free -h; else grep -E '^(MemTotal|MemAvailable|SwapTotal|SwapFree):' /proc/meminfo; fi

section "Disks"
timeout 30 df -h -P -l -T -x tmpfs -x devtmpfs -x squashfs 2>&1

section "Top $top processes by CPU"
ps -eo pid,user,pcpu,pmem,rss,etime,comm --sort=-pcpu | head -n "$((top + 1))"

section "Top $top processes by memory"
ps -eo pid,user,pcpu,pmem,rss,etime,comm --sort=-rss | head -n "$((top + 1))"

section "Listening sockets"
if have ss; then ss -tuln
elif have netstat; then netstat -tuln
else echo "(neither ss nor netstat is installed)"; fi

section "Failed systemd units"
if have systemctl; then systemctl list-units --failed --no-legend --no-pager --plain 2>&1 || echo "(systemctl failed)"
else echo "(systemd is not running on this machine)"; fi

section "Kernel messages (last $lines)"
if ! out=$(dmesg -T 2>&1 || dmesg 2>&1); then echo "(dmesg is not readable: $out)"
else tail -n "$lines" <<<"$out"; fi

section "Journal errors (last $lines)"
if have journalctl; then timeout 30 journalctl -p err -n "$lines" --no-pager -q 2>&1 || echo "(journalctl failed)"
else echo "(no systemd journal on this machine)"; fi

echo
echo "OK: diagnostics collected"
`;
