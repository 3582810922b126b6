// TAT_DiskMemoryReport, as stored: the template before parameter substitution. Each parameter is read
// from a quoted here-document, so the shell never parses the substituted text (the server refuses
// values with line breaks), then checked again with the rule in ../commands.ts.
// A template literal: `\${` and `\\` stand for ${ and \ (test/server/public-commands.test.ts
// runs every script).

export const script = `#!/bin/bash
# TAT_DiskMemoryReport: how full the local filesystems (space and inodes), memory and swap are.
# Exit 0: all below the threshold; 1: something at or above it; 2: a bad parameter.
IFS= read -r threshold <<'TAT_PARAM'
{{threshold}}
TAT_PARAM

fail() { echo "ERROR: $*" >&2; exit 2; }
[[ $threshold =~ ^(100|[1-9][0-9]?)$ ]] || fail "threshold must be a whole number from 1 to 100, got '$threshold'"

# Pseudo filesystems and read-only images are always empty or full: leave them out.
skip=(-x tmpfs -x devtmpfs -x squashfs -x iso9660 -x udf -x efivarfs)
local_df() { timeout 30 df -P -l "\${skip[@]}" "$@" 2>/dev/null; }
over() { awk -v t="$threshold" -v what="$1" 'NR > 1 { p = $5; sub(/%/, "", p); if (p != "-" && p + 0 >= t) printf "WARNING: %s %s at %s%% (%s)\\n", $6, what, p, $1 }'; }

echo "== Filesystems (warning at $threshold% used) =="
local_df -h -T
space=$(local_df | over "space")
inodes=$(local_df -i | over "inodes")

echo
echo "== Memory =="
command -v free >/dev/null 2>&1 && free -h
memory=$(awk -v t="$threshold" '
  /^MemTotal:/ { total = $2 } /^MemAvailable:/ { avail = $2; has = 1 }
  /^MemFree:/ { free = $2 } /^Buffers:/ { buf = $2 } /^Cached:/ { cached = $2 }
  /^SwapTotal:/ { stotal = $2 } /^SwapFree:/ { sfree = $2 }
  END {
    if (!has) avail = free + buf + cached
    used = 100 * (total - avail) / total
    printf "memory: %d%% used (%d MiB of %d MiB, %d MiB available)\\n", used, (total - avail) / 1024, total / 1024, avail / 1024
    if (used >= t) printf "WARNING: memory at %d%%\\n", used
    if (stotal > 0) {
      sused = 100 * (stotal - sfree) / stotal
      printf "swap: %d%% used (%d MiB of %d MiB)\\n", sused, (stotal - sfree) / 1024, stotal / 1024
      if (sused >= t) printf "WARNING: swap at %d%%\\n", sused
    } else print "swap: none"
  }' /proc/meminfo)
grep -v '^WARNING' <<<"$memory"

echo
echo "== Result =="
warnings=$(printf '%s\\n%s\\n%s\\n' "$space" "$inodes" "$memory" | grep '^WARNING')
if [ -n "$warnings" ]; then
  echo "$warnings"
  echo "$(wc -l <<<"$warnings") warning(s): at or above $threshold%"
  exit 1
fi
echo "OK: every filesystem, memory and swap below $threshold%"
`;
