#!/usr/bin/env bash
# Runs the ceph/s3-tests core subset (see docs/s3.md) against `shoal s3 serve`.
#
# Usage: bench/s3-tests.sh /path/to/s3-tests-checkout [extra pytest args...]
#
# Fetches nothing: clone https://github.com/ceph/s3-tests yourself, outside
# this repository, and install its Debian dependencies:
#   apt-get install -y python3-boto3 python3-pytest python3-munch python3-gevent python3-isodate \
#     python3-requests python3-tz python3-httplib2 python3-lxml python3-yaml python3-dateutil
# Env: PORT (default 9123), PYTHON (default /usr/bin/python3), S3TESTS_K / S3TESTS_M to
# override the selector, KEEP=1 to keep the server's data directory.
# SUITE=select runs s3tests/functional/test_s3select.py (S3 Select, all tests marked
# s3select) instead of the core subset of test_s3.py; see docs/s3-select.md.
set -euo pipefail

S3TESTS=${1:?usage: bench/s3-tests.sh /path/to/s3-tests [pytest args...]}
shift
HERE=$(cd "$(dirname "$0")/.." && pwd)
PORT=${PORT:-9123}
PYTHON=${PYTHON:-/usr/bin/python3}
WORK=$(mktemp -d /tmp/shoal-s3-tests.XXXXXX)

MAIN_AK=0555b35654ad1656d804; MAIN_SK='h7GhxuBLTrlhVUyxSPUKUV8r/2EI4ngqJxD7iBdBYLhwluN30JaT3Q=='
ALT_AK=NOPQRSTUVWXYZABCDEFG; ALT_SK=nopqrstuvwxyzabcdefghijklmnabcdefghijklm
TEN_AK=HIJKLMNOPQRSTUVWXYZA; TEN_SK=opqrstuvwxyzabcdefghijklmnopqrstuvwxyzab
IAM_AK=ABCDEFGHIJKLMNOPQRST; IAM_SK=abcdefghijklmnopqrstuvwxyzabcdefghijklmn
ALT_ID=56789abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234
TEN_ID='testx$9876543210abcdef0123456789abcdef0123456789abcdef0123456789abcdef'
IAM_ID=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

cat > "$WORK/users.json" <<JSON
{"users": [
 {"accessKey": "$MAIN_AK", "secretKey": "$MAIN_SK", "id": "testid", "displayName": "M. Tester", "email": "tester@ceph.com"},
 {"accessKey": "$ALT_AK", "secretKey": "$ALT_SK", "id": "$ALT_ID", "displayName": "john.doe", "email": "john.doe@example.com"},
 {"accessKey": "$TEN_AK", "secretKey": "$TEN_SK", "id": "$TEN_ID", "displayName": "testx\$tenanteduser", "email": "tenanteduser@example.com"},
 {"accessKey": "$IAM_AK", "secretKey": "$IAM_SK", "id": "$IAM_ID", "displayName": "youruseridhere", "email": "s3@example.com"}
]}
JSON

cat > "$WORK/s3tests.conf" <<CONF
[DEFAULT]
host = 127.0.0.1
port = $PORT
is_secure = False
ssl_verify = False

[fixtures]
bucket prefix = shoal-{random}-
iam name prefix = s3-tests-
iam path prefix = /s3-tests/

[s3 main]
display_name = M. Tester
user_id = testid
email = tester@ceph.com
api_name = default
access_key = $MAIN_AK
secret_key = $MAIN_SK

[s3 alt]
display_name = john.doe
email = john.doe@example.com
user_id = $ALT_ID
access_key = $ALT_AK
secret_key = $ALT_SK

[s3 tenant]
display_name = testx\$tenanteduser
user_id = $TEN_ID
access_key = $TEN_AK
secret_key = $TEN_SK
email = tenanteduser@example.com
tenant = testx

[iam]
email = s3@example.com
user_id = $IAM_ID
access_key = $IAM_AK
secret_key = $IAM_SK
display_name = youruseridhere

[iam root]
access_key = AAAAAAAAAAAAAAAAAAaa
secret_key = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
user_id = RGW11111111111111111
email = account1@ceph.com

[iam alt root]
access_key = BBBBBBBBBBBBBBBBBBbb
secret_key = bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
user_id = RGW22222222222222222
email = account2@ceph.com
CONF

cat > "$WORK/serve.mjs" <<JS
import { run } from "$HERE/src/cli/s3.ts";
process.exitCode = await run(["serve", "--root", "$WORK/data", "--port", "$PORT", "--config", "$WORK/users.json", "--quiet"]);
JS
(cd "$HERE" && node --import tsx "$WORK/serve.mjs") > "$WORK/server.log" 2>&1 &
SERVER=$!
cleanup() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  grep -q "listening on" "$WORK/server.log" 2>/dev/null && break
  sleep 0.1
done
grep "listening on" "$WORK/server.log" || { cat "$WORK/server.log"; exit 1; }

SUITE=${SUITE:-core}
if [ "$SUITE" = select ]; then
  cd "$S3TESTS"
  S3TEST_CONF="$WORK/s3tests.conf" "$PYTHON" -m pytest -p no:cacheprovider -q -rfE \
    s3tests/functional/test_s3select.py -m "${S3TESTS_M:-s3select}" ${S3TESTS_K:+-k "$S3TESTS_K"} "$@"
  exit $?
fi
K=${S3TESTS_K:-"(bucket_list or bucket_listv2 or bucket_create or bucket_delete or list_buckets or buckets_ or bucket_notexist or bucketv2_notexist or bucket_head or head_bucket or bucket_recreate or object_write or object_read or object_head or head_object or object_delete or delete_object or multi_object or put_object or get_object or object_raw or multipart or ranged or bucket_policy or bucketv2_policy or bucket_acl or object_acl or access_bucket or presigned or anon or post_object) and not (lock or sse or encrypt or logging or lifecycle or cors or checksum or tenant or versioning or versioned or tags or tagging or iam or copy)"}
M=${S3TESTS_M:-"not fails_on_aws"}
cd "$S3TESTS"
S3TEST_CONF="$WORK/s3tests.conf" "$PYTHON" -m pytest -p no:cacheprovider -q -rfE \
  s3tests/functional/test_s3.py -k "$K" -m "$M" "$@"
