# Writes the template the way `sam build` leaves it in .aws-sam/build/template.yaml: each
# local `CodeUri: .` / `ContentUri: .` points at the resource's build directory (named after
# its logical id, relative to the built template). Used by `make sam-build`.
#   awk -f scripts/sam-built-template.awk template.yaml > .aws-sam/build/template.yaml
BEGIN { in_resources = 0; resource = "" }
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
{ print }
