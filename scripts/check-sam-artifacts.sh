#!/usr/bin/env bash
# Verifies SAM build output: each function's handler, and every class and member its code
# (and the io.runnerscale layer code it reaches) uses, must resolve against ONLY that
# function's artifact + the layer's java/lib/*.jar, as on Lambda. Also fails when a function
# artifact carries jars or layer classes. See scripts/SamArtifactCheck.java for the checks.
#
#   scripts/check-sam-artifacts.sh [BUILD_DIR (.aws-sam/build)] [TEMPLATE (template.yaml)]
#
# Functions, handlers, layers and the Java version come from the template (resources of type
# AWS::Serverless::Function / AWS::Serverless::LayerVersion, Globals Runtime). Needs a JDK
# >= 21 to run the checker: $JAVA_HOME, `java` on PATH, or any JDK under /usr/lib/jvm.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build_dir="${1:-.aws-sam/build}"
template="${2:-template.yaml}"

die() { echo "check-sam-artifacts: $*" >&2; exit 1; }

[ -f "$template" ] || die "template $template not found"
[ -d "$build_dir" ] || die "build directory $build_dir not found: run \`sam build\` or \`make sam-build\` first"

# ---------------------------------------------------------------- a JDK >= 21
java_feature() { # prints the feature version of the JDK at $1, or nothing
  local v=""
  if [ -f "$1/release" ]; then
    v="$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$1/release")"
  elif [ -x "$1/bin/java" ]; then
    v="$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p')"
  fi
  v="${v#1.}"
  echo "${v%%[.+-]*}"
}
find_jdk() {
  local cand f
  for cand in "${JAVA_HOME:-}" \
              "$(command -v java >/dev/null 2>&1 && dirname "$(dirname "$(readlink -f "$(command -v java)")")")" \
              /usr/lib/jvm/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -n "$cand" ] && [ -x "$cand/bin/java" ] || continue
    f="$(java_feature "$cand")"
    if [ -n "$f" ] && [ "$f" -ge 21 ] 2>/dev/null; then echo "$cand"; return 0; fi
  done
  return 1
}
jdk="$(find_jdk)" || die "no JDK >= 21 found (set JAVA_HOME, or install one under /usr/lib/jvm)"

# ---------------------------------------------------------------- what the template declares
# Plain-YAML scan (no parser needed): two-space resource keys under Resources:, their Type and
# Handler; the Runtime from Globals or the resource. Intrinsic handlers are not supported.
decl=()
while IFS= read -r line; do decl+=("$line"); done < <(awk '
  /^[^ #]/ { section = $1; res = "" }
  section == "Globals:" && /^    Runtime:/ { runtime = $2 }
  section == "Resources:" && /^  [A-Za-z0-9]+:[ \t]*$/ { res = $1; sub(/:$/, "", res) }
  section == "Resources:" && res != "" && /^    Type:/ { type[res] = $2; order[++n] = res }
  section == "Resources:" && res != "" && /^      Handler:/ { handler[res] = $2 }
  section == "Resources:" && res != "" && /^      Runtime:/ { rt[res] = $2 }
  END {
    for (i = 1; i <= n; i++) {
      r = order[i]
      if (type[r] == "AWS::Serverless::LayerVersion") print "layer " r
      if (type[r] == "AWS::Serverless::Function") print "function " r " " handler[r] " " (r in rt ? rt[r] : runtime)
    }
  }' "$template")  # (no mapfile: macOS ships bash 3.2)

args=()
java_version=""
for line in "${decl[@]}"; do
  read -r kind id handler runtime <<<"$line"
  case "$kind" in
    layer) args+=(--layer "$id") ;;
    function)
      [ -n "$handler" ] || die "no Handler found for $id in $template"
      v="${runtime#java}"; v="${v%%.*}"
      [[ "$v" =~ ^[0-9]+$ ]] || die "$id: runtime '$runtime' is not a Java runtime"
      if [ -z "$java_version" ] || [ "$v" -lt "$java_version" ]; then java_version="$v"; fi
      args+=(--function "$id=$handler") ;;
  esac
done
[ -n "$java_version" ] || die "no AWS::Serverless::Function found in $template"

echo "check-sam-artifacts: $build_dir against $template (runtime java$java_version, checker JDK $jdk)"
exec "$jdk/bin/java" "$here/SamArtifactCheck.java" --build-dir "$build_dir" --java "$java_version" "${args[@]}"
