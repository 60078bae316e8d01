#!/usr/bin/env bash
# make package STAGE=prod: a CloudFormation template and deployment.zip in out/, offline, no credentials.
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
# Chalice reuses a cached dependency zip (.chalice/deployments) and then prints nothing: check
# the package itself for every requirement, so a stale cache cannot hide a missing one either.
"$PY" - "$OUT/deployment.zip" requirements.txt <<'EOF'
import re, sys, zipfile
names = {n.split("/")[0].lower() for n in zipfile.ZipFile(sys.argv[1]).namelist()}
have = {re.sub(r"-[^-]+\.dist-info$", "", n).replace("-", "_") for n in names if n.endswith(".dist-info")}
wanted = []
for line in open(sys.argv[2]):
    line = line.split("#")[0].strip()
    if line and not line.startswith("-"):
        wanted.append(re.split(r"[<>=!~\[; ]", line)[0])
missing = [w for w in wanted if re.sub(r"[-.]", "_", w.lower()) not in have]
if missing:
    sys.exit(f"package: deployment.zip lacks {missing}: no wheel for the Lambda runtime?")
EOF

# -I: informational checks too (DeletionPolicy on stateful resources, explicit queue retention).
if ! "$VENV_BIN/cfn-lint" --include-checks I -- "$OUT/sam.json"; then
    echo "package: cfn-lint found problems in $OUT/sam.json" >&2
    exit 1
fi

zip_bytes=$(stat -c %s "$OUT/deployment.zip")
unzipped_bytes=$("$PY" -c 'import sys, zipfile; print(sum(i.file_size for i in zipfile.ZipFile(sys.argv[1]).infolist()))' "$OUT/deployment.zip")
echo "package: stage $STAGE -> $OUT/sam.json, $OUT/deployment.zip"
echo "package: deployment package $((zip_bytes / 1024 / 1024)) MiB zipped ($zip_bytes bytes), $((unzipped_bytes / 1024 / 1024)) MiB unzipped (Lambda limit: 250 MiB unzipped)"
echo "package: cfn-lint clean; took $(( $(date +%s) - start )) s"
