# Writes the template the way `sam build` leaves it in .aws-sam/build/template.yaml: each
# local `CodeUri: .` / `ContentUri: .` points at the resource's build directory (named after
# its logical id, relative to the built template), and each local `DefinitionUri: <file>` (a
# state machine definition, which is not built) points back at the source file through `src`,
# the source tree as seen from the build directory. Used by `make sam-build`.
#   awk -v src=../.. -f scripts/sam-built-template.awk template.yaml > .aws-sam/build/template.yaml
BEGIN { in_resources = 0; resource = ""; if (src == "") src = "../.." }
/^[^ #]/ { in_resources = ($0 ~ /^Resources:[ \t]*$/); resource = "" }
in_resources && /^  [A-Za-z0-9]+:[ \t]*$/ {
  resource = $1; sub(/:$/, "", resource)
}
in_resources && resource != "" && /^[ \t]+(CodeUri|ContentUri):[ \t]*\.[ \t]*$/ {
  match($0, /^[ \t]+/); indent = substr($0, 1, RLENGTH)
  key = $1
  print indent key " " resource
  next
}
in_resources && resource != "" && /^[ \t]+DefinitionUri:[ \t]*[^ \t{\/][^ \t]*[ \t]*$/ && $2 !~ /^s3:/ {
  match($0, /^[ \t]+/); indent = substr($0, 1, RLENGTH)
  print indent "DefinitionUri: " src "/" $2
  next
}
{ print }
