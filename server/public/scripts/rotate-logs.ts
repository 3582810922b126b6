// TAT_RotateLogs, as stored: the template before parameter substitution. Each parameter is read
// from a quoted here-document, so the shell never parses the substituted text (the server refuses
// values with line breaks), then checked again with the rule in ../commands.ts.
// A template literal: `\${` and `\\` stand for ${ and \ (test/server/public-commands.test.ts
// runs every script).

export const script = `#!/bin/bash
# TAT_RotateLogs: rotates the log files of one directory in place: each non-empty file matching the
# pattern is copied to NAME.YYYYMMDD-HHMMSS, truncated (writers keep their open file), and the copy
# gzipped; rotated archives older than keepDays are deleted.
# Exit 0: done; 1: a file could not be rotated or deleted; 2: a bad parameter.
IFS= read -r dir <<'TAT_PARAM'
{{directory}}
TAT_PARAM
IFS= read -r pattern <<'TAT_PARAM'
{{pattern}}
TAT_PARAM
IFS= read -r keep_days <<'TAT_PARAM'
{{keepDays}}
TAT_PARAM
IFS= read -r min_kb <<'TAT_PARAM'
{{minSizeKB}}
TAT_PARAM

fail() { echo "ERROR: $*" >&2; exit 2; }
[[ $dir =~ ^/[A-Za-z0-9._/+@-]*$ ]] || fail "directory must be an absolute path of letters, digits and . _ / + @ -, got '$dir'"
[[ /$dir/ == */../* || /$dir/ == */./* ]] && fail "directory must not contain . or .. components"
dir=\${dir%/}
[ -n "$dir" ] || fail "directory must not be /"
[ -d "$dir" ] || fail "$dir is not a directory"
[[ $pattern =~ ^[A-Za-z0-9._*?-]+$ ]] || fail "pattern must be a file name pattern of letters, digits and . _ - * ?, got '$pattern'"
if ! [[ $keep_days =~ ^[0-9]{1,4}$ ]] || [ "$((10#$keep_days))" -lt 1 ]; then
  fail "keepDays must be a whole number from 1 to 9999, got '$keep_days'"
fi
[[ $min_kb =~ ^[0-9]{1,9}$ ]] || fail "minSizeKB must be a whole number, got '$min_kb'"
command -v gzip >/dev/null 2>&1 || fail "gzip is not installed on this machine"

stamp=$(date +%Y%m%d-%H%M%S)
archive_re='\\.[0-9]{8}-[0-9]{6}(-[0-9]+)?(\\.gz)?$'
rotated=0
deleted=0
errors=0
echo "== Rotating $dir/$pattern (files of at least $min_kb KB) =="
while IFS= read -r -d '' file; do
  name=\${file##*/}
  [[ $name =~ $archive_re ]] && continue
  size_kb=$(( ($(stat -c %s "$file") + 1023) / 1024 ))
  [ "$size_kb" -ge "$((10#$min_kb))" ] || continue
  dest="$file.$stamp"
  n=1
  while [ -e "$dest" ] || [ -e "$dest.gz" ]; do dest="$file.$stamp-$n"; n=$((n + 1)); done
  if cp -p -- "$file" "$dest" && : >"$file" && gzip -f -- "$dest"; then
    echo "rotated $name ($size_kb KB) -> \${dest##*/}.gz"
    rotated=$((rotated + 1))
  else
    echo "ERROR: could not rotate $file" >&2
    errors=$((errors + 1))
  fi
done < <(find "$dir" -maxdepth 1 -type f -name "$pattern" -size +0c -print0 | sort -z)

echo
echo "== Deleting archives older than $((10#$keep_days)) day(s) =="
while IFS= read -r -d '' file; do
  name=\${file##*/}
  [[ $name =~ $archive_re ]] || continue
  if rm -f -- "$file"; then
    echo "deleted $name"
    deleted=$((deleted + 1))
  else
    errors=$((errors + 1))
  fi
done < <(find "$dir" -maxdepth 1 -type f -name "$pattern.*.gz" -mmin +"$((10#$keep_days * 1440))" -print0 | sort -z)

echo
if [ "$errors" -gt 0 ]; then
  echo "ERROR: $rotated rotated, $deleted deleted, $errors failed" >&2
  exit 1
fi
echo "OK: $rotated file(s) rotated, $deleted old archive(s) deleted"
`;
