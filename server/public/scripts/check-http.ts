// TAT_CheckHttp, as stored: the template before parameter substitution. Each parameter is read
// from a quoted here-document, so the shell never parses the substituted text (the server refuses
// values with line breaks), then checked again with the rule in ../commands.ts.
// A template literal: `\${` and `\\` stand for ${ and \ (test/server/public-commands.test.ts
// runs every script).

export const script = `#!/bin/bash
# TAT_CheckHttp: requests a URL from this machine and checks the HTTP status (redirects are not
# followed, TLS certificates are verified). Exit 0: an expected status; 1: another status or no
# answer; 2: a bad parameter.
IFS= read -r url <<'TAT_PARAM'
{{url}}
TAT_PARAM
IFS= read -r expect <<'TAT_PARAM'
{{expectStatus}}
TAT_PARAM
IFS= read -r seconds <<'TAT_PARAM'
{{timeout}}
TAT_PARAM

fail() { echo "ERROR: $*" >&2; exit 2; }
url_re='^https?://[][A-Za-z0-9._~:/?#@!$&()*+,;=%-]+$'
[[ $url =~ $url_re ]] || fail "url must be an http:// or https:// URL without spaces or quotes, got '$url'"
[[ $expect =~ ^[1-5][0-9x]{2}(,[1-5][0-9x]{2})*$ ]] || fail "expectStatus must be status codes like 200 or 200,301 or 2xx, got '$expect'"
[[ $seconds =~ ^[1-9][0-9]{0,2}$ ]] || fail "timeout must be a whole number of seconds from 1 to 999, got '$seconds'"

echo "GET $url"
if command -v curl >/dev/null 2>&1; then
  out=$(curl -sS --globoff -o /dev/null --max-time "$seconds" -w '\\n%{http_code} %{time_total}' -- "$url" 2>&1)
  status=$?
  read -r code took <<<"$(tail -n 1 <<<"$out")"
  if [ "$status" -ne 0 ]; then
    echo "FAILED: $(grep -m 1 '^curl:' <<<"$out" || echo "curl exited with $status")" >&2
    exit 1
  fi
  echo "HTTP $code in $took s"
elif command -v wget >/dev/null 2>&1; then
  result=$(wget -S -q -O /dev/null --max-redirect=0 -T "$seconds" -t 1 -- "$url" 2>&1)
  code=$(awk '$1 ~ /^HTTP\\// { c = $2 } END { print c }' <<<"$result")
  [ -n "$code" ] || { echo "FAILED: no HTTP answer from $url" >&2; exit 1; }
  echo "HTTP $code"
else
  fail "neither curl nor wget is installed on this machine"
fi

IFS=, read -r -a expected <<<"$expect"
for want in "\${expected[@]}"; do
  # shellcheck disable=SC2053 # 2xx is a glob: 2??
  if [[ $code == \${want//x/?} ]]; then
    echo "OK: status $code is expected ($expect)"
    exit 0
  fi
done
echo "FAILED: status $code, expected $expect" >&2
exit 1
`;
