#!/usr/bin/env bash
# make package STAGE=prod: a CloudFormation template and its zips in out/, offline, no credentials.
#   1. build the merge template (infra/build_template.py: key schema, routes and timeouts from the code)
#   2. chalice package --merge-template (it may pip-download manylinux wheels for the Lambda runtime)
#   3. refuse a package missing a dependency (Chalice only warns, and keeps going)
#   4. cfn-lint, informational checks included: no errors, no warnings
#   5. print the size of what gets uploaded
# Usage: scripts/package.sh STAGE [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

STAGE="${1:?usage: scripts/package.sh STAGE [OUT_DIR]}"
OUT="${2:-out}"
VENV_BIN=".venv/bin"
PY="$VENV_BIN/python"

# chalice package needs a region name to render ARNs, never credentials: make sure none are used.
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN

start=$(date +%s)
rm -rf "$OUT"
mkdir -p "$OUT"
MERGE="$OUT/merge-template.json"
"$PY" -m infra.build_template --stage "$STAGE" --out "$MERGE"

LOG="$OUT/chalice-package.log"
if ! "$VENV_BIN/chalice" package --stage "$STAGE" --merge-template "$MERGE" "$OUT" >"$LOG" 2>&1; then
    cat "$LOG" >&2
    echo "package: chalice package failed" >&2
    exit 1
fi
if grep -qi -e "could not install" -e "missing dependencies" "$LOG"; then
    cat "$LOG" >&2
    echo "package: Chalice left a dependency out (no wheel for the Lambda runtime?): pin a version with a manylinux2014 wheel" >&2
    exit 1
fi

# Chalice reuses a cached dependency zip (.chalice/deployments) and then prints nothing: check the
# package itself for every requirement, so that a stale cache cannot hide a missing one either.
# With automatic_layer the dependencies are in the layer, under python/lib/python3.X/site-packages.
"$PY" - requirements.txt "$OUT"/deployment.zip "$OUT"/layer-deployment.zip <<'PYEOF'
import os, re, sys, zipfile

def norm(name):
    return re.sub(r"[-_.]+", "_", name).lower()

have = set()
for path in sys.argv[2:]:
    if os.path.exists(path):
        for name in zipfile.ZipFile(path).namelist():
            top = re.sub(r"^python/lib/python[0-9.]+/site-packages/", "", name).split("/")[0]
            if top.endswith(".dist-info"):
                have.add(norm(re.sub(r"-[^-]+\.dist-info$", "", top)))
wanted = []
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if line and not line.startswith("-"):
        wanted.append(re.split(r"[<>=!~\[; ]", line)[0])
missing = [w for w in wanted if norm(w) not in have]
if missing:
    sys.exit(f"package: the deployment package lacks {missing}: no wheel for the Lambda runtime?")
PYEOF
# Every change of app code or requirements leaves a zip in Chalice's cache: keep the newest few.
ls -t .chalice/deployments/*.zip 2>/dev/null | tail -n +7 | xargs -r rm -f

# --include-checks I: informational checks too (DeletionPolicy on stateful resources, explicit
# queue retention). cfn-lint exits non-zero on any finding, warnings and informational included.
if ! "$VENV_BIN/cfn-lint" --include-checks I -- "$OUT/sam.json"; then
    echo "package: cfn-lint found problems in $OUT/sam.json" >&2
    exit 1
fi

echo "package: stage $STAGE -> $OUT/sam.json, cfn-lint clean"
"$PY" - "$OUT"/deployment.zip "$OUT"/layer-deployment.zip <<'PYEOF'
import os, sys, zipfile

total_zipped = total_unzipped = 0
for path in sys.argv[1:]:
    if os.path.exists(path):
        zipped = os.path.getsize(path)
        unzipped = sum(i.file_size for i in zipfile.ZipFile(path).infolist())
        total_zipped += zipped
        total_unzipped += unzipped
        print(f"package: {path}: {zipped / 2**20:.1f} MiB zipped, {unzipped / 2**20:.1f} MiB unzipped")
print(f"package: deployment package {total_zipped / 2**20:.1f} MiB zipped, {total_unzipped / 2**20:.1f} MiB "
      "unzipped (Lambda's limit: 250 MiB unzipped, function and layers together)")
if total_unzipped > 250 * 2**20:
    sys.exit("package: too big for Lambda")
PYEOF
echo "package: took $(( $(date +%s) - start )) s"
