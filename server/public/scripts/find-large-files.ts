// TAT_FindLargeFiles, as stored: the template before parameter substitution. Each parameter is read
// from a quoted here-document, so the shell never parses the substituted text (the server refuses
// values with line breaks), then checked again with the rule in ../commands.ts.
// A template literal: `\${` and `\\` stand for ${ and \ (test/server/public-commands.test.ts
// runs every script).

export const script = `#!/bin/bash
# TAT_FindLargeFiles: what fills a filesystem: the largest files under a directory and its largest
# subdirectories, without crossing into other filesystems. Read-only.
# Exit 0: listed; 2: a bad parameter.
IFS= read -r dir <<'TAT_PARAM'
{{directory}}
TAT_PARAM
IFS= read -r min_mb <<'TAT_PARAM'
{{minSizeMB}}
TAT_PARAM
IFS= read -r count <<'TAT_PARAM'
{{count}}
TAT_PARAM

fail() { echo "ERROR: $*" >&2; exit 2; }
[[ $dir =~ ^/[A-Za-z0-9._/+@-]*$ ]] || fail "directory must be an absolute path of letters, digits and . _ / + @ -, got '$dir'"
[ -d "$dir" ] || fail "$dir is not a directory"
[[ $min_mb =~ ^[0-9]{1,7}$ ]] || fail "minSizeMB must be a whole number, got '$min_mb'"
[[ $count =~ ^[1-9][0-9]{0,2}$ ]] || fail "count must be a whole number from 1 to 999, got '$count'"
min_mb=$((10#$min_mb))

echo "== Largest files under $dir of more than $min_mb MiB (top $count) =="
found=$(find "$dir" -xdev -type f -size +"$((min_mb * 1024))k" -printf '%s\\t%TY-%Tm-%Td %TH:%TM\\t%p\\n' 2>/dev/null |
  sort -t "$(printf '\\t')" -k1,1nr | head -n "$count")
if [ -n "$found" ]; then
  awk -F '\\t' '{ printf "%10.1f MiB  %s  %s\\n", $1 / 1048576, $2, $3 }' <<<"$found"
else
  echo "(none)"
fi

echo
echo "== Largest directories directly under $dir (top $count) =="
du -x -k -d 1 "$dir" 2>/dev/null | sort -k1,1nr | head -n "$((count + 1))" |
  awk -F '\\t' '{ printf "%10.1f MiB  %s\\n", $1 / 1024, $2 }'
echo
echo "OK: listed"
`;
