#!/usr/bin/env bash
# Keeps template.yaml's copy of instance/user-data.sh (the example launch template's UserData)
# identical to the script. CloudFormation cannot read a file into UserData, and `sam build`
# leaves the template's properties alone, so the script is copied into the template between
#   # BEGIN instance/user-data.sh ...
#   # END instance/user-data.sh
# as one YAML literal block (`- |`) at the marker's indentation.
#
#   scripts/sync-user-data.sh           rewrite the block from the script
#   scripts/sync-user-data.sh --check   exit 1 when the block differs from the script
#
#   [SCRIPT (instance/user-data.sh)] [TEMPLATE (template.yaml)] may follow the mode.
set -euo pipefail

mode=sync
if [ "${1:-}" = "--check" ]; then mode=check; shift; fi
script="${1:-instance/user-data.sh}"
template="${2:-template.yaml}"

die() { echo "sync-user-data: $*" >&2; exit 1; }
[ -f "$script" ] || die "$script not found"
[ -f "$template" ] || die "$template not found"

# EC2 accepts at most 16 KB of user data before base64; the export lines above the script take
# under 1 KB, so the script itself must stay below 15 KB.
size=$(wc -c <"$script" | tr -d ' ')
[ "$size" -le 15360 ] || die "$script is $size bytes: with the export lines it would exceed EC2's 16 KB user data limit"
# A YAML literal block keeps every character except a tab used as indentation and a CR.
if LC_ALL=C grep -q $'\r' "$script"; then die "$script has CR line endings, which a YAML literal block would not keep"; fi

rendered="$(mktemp)"
trap 'rm -f "$rendered"' EXIT
awk -v script="$script" '
  /^ *# BEGIN instance\/user-data\.sh/ {
    if (inside || done) { print "sync-user-data: more than one BEGIN marker" > "/dev/stderr"; exit 2 }
    print
    match($0, /^ */); indent = substr($0, 1, RLENGTH)
    print indent "- |"
    while ((getline line < script) > 0) print (line == "" ? "" : indent "  " line)
    close(script)
    inside = 1
    next
  }
  /^ *# END instance\/user-data\.sh/ {
    if (!inside) { print "sync-user-data: END marker without BEGIN" > "/dev/stderr"; exit 2 }
    inside = 0; done = 1
  }
  !inside { print }
  END {
    if (inside) { print "sync-user-data: BEGIN marker without END" > "/dev/stderr"; exit 2 }
    if (!done) { print "sync-user-data: no BEGIN/END instance/user-data.sh markers" > "/dev/stderr"; exit 2 }
  }' "$template" >"$rendered" || die "cannot render $template (markers?)"

if cmp -s "$rendered" "$template"; then
  echo "sync-user-data: $template carries the current $script"
  exit 0
fi
if [ "$mode" = check ]; then
  diff -u "$template" "$rendered" | head -40 >&2 || true
  die "$template's copy of $script is out of date: run \`make sync-user-data\`"
fi
cat "$rendered" >"$template"
echo "sync-user-data: updated the copy of $script in $template"
