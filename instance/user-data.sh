#!/usr/bin/env bash
# runnerscale: what an EC2 instance of a runner pool runs at first boot (cloud-init user data).
#
# The lifecycle function creates this instance's GitLab runner when the Auto Scaling launch
# lifecycle hook fires (description = the instance id) and puts the runner's authentication token
# (glrt-...) in the SSM SecureString /runnerscale/<stack>/runners/<instance-id>. This script waits
# for that parameter, registers gitlab-runner with it, starts the service with a graceful stop
# (SIGQUIT: running jobs finish), and completes the launch lifecycle action with CONTINUE. Any
# failure completes it with ABANDON instead, so the group replaces the instance at once rather
# than waiting for the hook's heartbeat timeout.
#
# Warm pools: it also runs on every later boot (runnerscale-boot.service) and reads
# autoscaling/target-lifecycle-state. Warmed:*: no runner (none is made for a warm instance), the
# job image pulled, CONTINUE. InService (cold launch or resume): register as below. gitlab-runner
# is disabled at boot; runnerscale-wipe.service deletes config.toml (the token) after it stops.
# Leaving a Running or Hibernated warm pool is no boot: runnerscale-resume.service waits for InService.
#
# The token never reaches stdout, a log or a command line: register gets it in CI_SERVER_TOKEN
# (what --token reads) and stores it in config.toml (0600). See instance/README.md.
#
# Inputs (environment variables; the launch template renders them above this script):
#   RUNNERSCALE_STACK       required  stack name; the token parameter is /runnerscale/<stack>/runners/<id>
#   RUNNERSCALE_POOL        required  pool name; also the S3 cache path prefix (one cache per pool)
#   GITLAB_URL              required  GitLab instance URL, e.g. https://gitlab.example.com
#   CAPACITY_PER_INSTANCE   required  job slots per instance: config.toml `concurrent` and the runner's `limit`
#   CACHE_BUCKET            optional  S3 bucket for the distributed cache (instance role credentials, no keys)
#   RUNNER_EXECUTOR         optional  gitlab-runner executor (default: docker)
#   DOCKER_IMAGE            optional  default image for jobs without `image:` (default: alpine:3.20)
#   JOB_TIMEOUT_SECONDS     optional  systemd TimeoutStopSec: how long a graceful stop may wait for
#                                     running jobs (default: 3600, GitLab's default job timeout)
#   TOKEN_WAIT_SECONDS      optional  how long to wait for the token parameter (default: 300)
#   VERIFY_WAIT_SECONDS     optional  how long to retry `gitlab-runner verify` (default: 60)
#   AWS_REGION              optional  default: the instance's region from IMDS
#   LAUNCH_HOOK             optional  launch lifecycle hook name (default: runnerscale-launch)
#   RUNNERSCALE_ROOT        optional  prefix for /etc paths (tests only; default: empty)
#
# The group name: tag aws:autoscaling:groupName from IMDS, else `aws ec2 describe-tags`.
set -euo pipefail
umask 077
# first-boot (cloud-init), boot (runnerscale-boot.service), wipe (runnerscale-wipe.service at shutdown),
# resume (runnerscale-resume.service)
MODE=${1:-first-boot}

readonly LOG_TAG=runnerscale-user-data
STEP="reading inputs"
LIFECYCLE_DONE=false
INSTANCE_ID=""
ASG_NAME=""

log() {
  printf '%s: %s\n' "$LOG_TAG" "$*"
  if command -v logger >/dev/null 2>&1; then logger -t "$LOG_TAG" -- "$*" || true; fi
}

# Removes anything token-like from tool output before it is logged: glrt- tokens, and the
# `runner=<short token>` field gitlab-runner adds to its log lines. Output is cut to 200 chars.
scrub() {
  sed -E -e 's/glrt-[A-Za-z0-9_.-]+/glrt-***/g' -e 's/runner=[^ ]+/runner=***/g' | tr '\n' ' ' | cut -c1-200
}

complete_lifecycle_action() {
  local result=$1
  aws autoscaling complete-lifecycle-action \
    --lifecycle-hook-name "$LAUNCH_HOOK" \
    --auto-scaling-group-name "$ASG_NAME" \
    --instance-id "$INSTANCE_ID" \
    --lifecycle-action-result "$result" >/dev/null
}

on_exit() {
  local status=$?
  trap - EXIT
  if [[ $status -ne 0 && $LIFECYCLE_DONE == false ]]; then
    log "failed while ${STEP} (exit ${status}); abandoning the launch so the group replaces ${INSTANCE_ID:-this instance}"
    if [[ -n $INSTANCE_ID && -n $ASG_NAME ]]; then
      complete_lifecycle_action ABANDON || log "could not complete the lifecycle action with ABANDON; the hook's default result applies at its timeout"
    else
      log "instance id or group name unknown; the hook's default result applies at its timeout"
    fi
  fi
  exit "$status"
}
trap on_exit EXIT

RUNNERSCALE_ROOT=${RUNNERSCALE_ROOT:-}
readonly IMDS=http://169.254.169.254
readonly CONFIG_DIR="${RUNNERSCALE_ROOT}/etc/gitlab-runner"
readonly CONFIG_FILE="${CONFIG_DIR}/config.toml"
readonly TEMPLATE_FILE="${CONFIG_DIR}/runnerscale-template.toml"
readonly UNIT_DIR="${RUNNERSCALE_ROOT}/etc/systemd/system"
readonly DROPIN_DIR="${UNIT_DIR}/gitlab-runner.service.d"
readonly BOOT_ENV="${RUNNERSCALE_ROOT}/etc/runnerscale/boot.env"
readonly BOOT_SCRIPT="${RUNNERSCALE_ROOT}/usr/local/sbin/runnerscale-boot"

if [[ $MODE == wipe ]]; then
  # gitlab-runner has stopped (the unit is ordered before it): no runner token stays on the disk
  LIFECYCLE_DONE=true
  rm -f "$CONFIG_FILE"
  exit 0
fi
if [[ $MODE != first-boot && -f $BOOT_ENV ]]; then
  # shellcheck source=/dev/null
  . "$BOOT_ENV"   # the inputs the first boot had, written by it below
fi

# Identity first: with it, even a bad input ends in ABANDON instead of a hook timeout.
LAUNCH_HOOK=${LAUNCH_HOOK:-runnerscale-launch}

# --- instance identity (IMDSv2) ---
STEP="reading instance metadata"
imds_session() {
  imds_token=$(curl -fsS --max-time 2 --retry 5 --retry-connrefused -X PUT \
    -H "X-aws-ec2-metadata-token-ttl-seconds: 600" "${IMDS}/latest/api/token")
}
imds_session
imds() {
  curl -fsS --max-time 2 --retry 3 -H "X-aws-ec2-metadata-token: ${imds_token}" "${IMDS}/latest/meta-data/$1"
}
INSTANCE_ID=$(imds instance-id)
if [[ -z ${AWS_REGION:-} ]]; then AWS_REGION=$(imds placement/region); fi
export AWS_REGION AWS_DEFAULT_REGION="$AWS_REGION"

STEP="finding the Auto Scaling group"
# IMDS answers 404 for the tag when instance tags are not exposed in metadata.
if ! ASG_NAME=$(imds tags/instance/aws:autoscaling:groupName 2>/dev/null) || [[ -z $ASG_NAME ]]; then
  ASG_NAME=$(aws ec2 describe-tags \
    --filters "Name=resource-id,Values=${INSTANCE_ID}" "Name=key,Values=aws:autoscaling:groupName" \
    --query 'Tags[0].Value' --output text)
fi
if [[ -z $ASG_NAME || $ASG_NAME == None ]]; then
  ASG_NAME=""
  log "instance ${INSTANCE_ID} has no aws:autoscaling:groupName tag"
  exit 3
fi
log "instance ${INSTANCE_ID} of group ${ASG_NAME} in ${AWS_REGION}"

STEP="checking inputs"
RUNNERSCALE_STACK=${RUNNERSCALE_STACK:-}
RUNNERSCALE_POOL=${RUNNERSCALE_POOL:-}
GITLAB_URL=${GITLAB_URL:-}
CAPACITY_PER_INSTANCE=${CAPACITY_PER_INSTANCE:-}
for required in RUNNERSCALE_STACK RUNNERSCALE_POOL GITLAB_URL CAPACITY_PER_INSTANCE; do
  if [[ -z ${!required:-} ]]; then
    log "${required} is required"
    exit 2
  fi
done
CACHE_BUCKET=${CACHE_BUCKET:-}
RUNNER_EXECUTOR=${RUNNER_EXECUTOR:-docker}
DOCKER_IMAGE=${DOCKER_IMAGE:-alpine:3.20}
JOB_TIMEOUT_SECONDS=${JOB_TIMEOUT_SECONDS:-3600}
TOKEN_WAIT_SECONDS=${TOKEN_WAIT_SECONDS:-300}
VERIFY_WAIT_SECONDS=${VERIFY_WAIT_SECONDS:-60}

for number in CAPACITY_PER_INSTANCE JOB_TIMEOUT_SECONDS TOKEN_WAIT_SECONDS VERIFY_WAIT_SECONDS; do
  if ! [[ ${!number} =~ ^[1-9][0-9]{0,5}$ ]]; then
    log "${number} must be a positive whole number"
    exit 2
  fi
done
# Names that end up in TOML strings and paths: plain names only.
for name in RUNNERSCALE_STACK RUNNERSCALE_POOL CACHE_BUCKET; do
  if ! [[ ${!name} =~ ^[A-Za-z0-9._-]*$ ]]; then
    log "${name} may hold only letters, digits, '.', '_' and '-'"
    exit 2
  fi
done

# --- configuration that needs no token ---
STEP="writing the gitlab-runner configuration"
mkdir -p "$CONFIG_DIR" "$DROPIN_DIR"
chmod 700 "$CONFIG_DIR"
# `register` keeps the global section of an existing config.toml and appends the runner.
cat >"$CONFIG_FILE" <<EOF
concurrent = ${CAPACITY_PER_INSTANCE}
check_interval = 3
EOF

# Merged by `register --template-config` into the new [[runners]] entry: settings that have no
# flag allowed together with a runner authentication token. No access keys: AuthenticationType
# "iam" signs cache URLs with the instance role.
{
  printf '[[runners]]\n  limit = %s\n' "$CAPACITY_PER_INSTANCE"
  if [[ -n $CACHE_BUCKET ]]; then
    cat <<EOF
  [runners.cache]
    Type = "s3"
    Path = "${RUNNERSCALE_POOL}"
    Shared = true
    [runners.cache.s3]
      ServerAddress = "s3.amazonaws.com"
      BucketName = "${CACHE_BUCKET}"
      BucketLocation = "${AWS_REGION}"
      AuthenticationType = "iam"
EOF
  fi
} >"$TEMPLATE_FILE"

# SIGQUIT is gitlab-runner's graceful shutdown: stop asking for jobs, finish the running ones.
# KillMode=mixed sends it to the main process only; whatever is left at the timeout is killed.
cat >"${DROPIN_DIR}/runnerscale.conf" <<EOF
[Service]
KillSignal=SIGQUIT
KillMode=mixed
TimeoutStopSec=${JOB_TIMEOUT_SECONDS}
EOF

# --- every later boot, and the warm pool ---
if [[ $MODE == first-boot ]]; then
  STEP="installing the boot units"
  mkdir -p "${BOOT_SCRIPT%/*}" "${BOOT_ENV%/*}"
  cp "${BASH_SOURCE[0]}" "$BOOT_SCRIPT"
  chmod 700 "$BOOT_SCRIPT"
  for name in RUNNERSCALE_STACK RUNNERSCALE_POOL GITLAB_URL CAPACITY_PER_INSTANCE CACHE_BUCKET RUNNER_EXECUTOR \
    DOCKER_IMAGE JOB_TIMEOUT_SECONDS TOKEN_WAIT_SECONDS VERIFY_WAIT_SECONDS AWS_REGION LAUNCH_HOOK; do
    printf 'export %s=%q\n' "$name" "${!name}"
  done >"$BOOT_ENV"
  printf '%s\n' "[Unit]" "Description=runnerscale: register this instance's runner when it resumes" \
    "Wants=network-online.target" "After=network-online.target" "[Service]" "Type=oneshot" \
    "ExecStart=${BOOT_SCRIPT} boot" "[Install]" "WantedBy=multi-user.target" >"${UNIT_DIR}/runnerscale-boot.service"
  printf '%s\n' "[Unit]" "Description=runnerscale: remove the runner token once gitlab-runner stopped" \
    "Before=gitlab-runner.service" "[Service]" "Type=oneshot" "RemainAfterExit=yes" "ExecStart=/bin/true" \
    "ExecStop=${BOOT_SCRIPT} wipe" "[Install]" "WantedBy=multi-user.target" >"${UNIT_DIR}/runnerscale-wipe.service"
  printf '%s\n' "[Unit]" "Description=runnerscale: register the runner once out of the warm pool" \
    "After=network-online.target" "[Service]" "ExecStart=${BOOT_SCRIPT} resume" >"${UNIT_DIR}/runnerscale-resume.service"
  systemctl daemon-reload
  # only runnerscale-boot starts gitlab-runner, once the config holds this boot's runner
  systemctl disable gitlab-runner
  systemctl enable runnerscale-boot.service
  systemctl enable --now runnerscale-wipe.service
fi

STEP="reading the target lifecycle state"
# Warmed:Stopped (or :Running, :Hibernated) on the way into the warm pool, InService otherwise.
# Unreadable counts as InService: a warm instance then waits for a token that never comes (none is
# made for a warm instance) and abandons, so it still takes no job.
target=""
[[ $MODE == resume ]] || target=$(imds autoscaling/target-lifecycle-state 2>/dev/null) || target=InService
# resume (warm: unreadable is no InService): poll, a new IMDS session each time (a hibernation outlasts one)
while [[ $MODE == resume && $target != InService ]]; do
  sleep "${RESUME_POLL_SECONDS:-5}"
  target=$(imds_session 2>/dev/null && imds autoscaling/target-lifecycle-state 2>/dev/null) || target=""
done
log "target lifecycle state: ${target}"
if [[ $target == Warmed:* ]]; then
  STEP="preparing for the warm pool"
  systemctl stop gitlab-runner
  if [[ $RUNNER_EXECUTOR == docker* ]] && command -v docker >/dev/null 2>&1; then
    timeout "$TOKEN_WAIT_SECONDS" docker pull "$DOCKER_IMAGE" >/dev/null 2>&1 || log "could not pull ${DOCKER_IMAGE}; jobs pull it when they run"
  fi
  # started before CONTINUE, which lets the group hibernate it; a stopped one boots on resume
  [[ $target == Warmed:Stopped ]] || systemctl start runnerscale-resume.service
  if [[ $MODE == first-boot ]]; then
    complete_lifecycle_action CONTINUE
  else
    # restarted while warm: no launch action may be waiting
    complete_lifecycle_action CONTINUE || log "no launch lifecycle action to complete"
  fi
  LIFECYCLE_DONE=true
  log "prepared for the warm pool, without a runner; launch lifecycle action completed (CONTINUE)"
  exit 0
fi

# --- the runner token ---
STEP="waiting for the runner token"
readonly TOKEN_PARAMETER="/runnerscale/${RUNNERSCALE_STACK}/runners/${INSTANCE_ID}"
# bash's SECONDS counts whole seconds: +1 so the wait is never shorter than asked
deadline=$((SECONDS + TOKEN_WAIT_SECONDS + 1))
delay=1
ssm_errors=$(mktemp)
runner_token=""
while :; do
  if runner_token=$(aws ssm get-parameter --name "$TOKEN_PARAMETER" --with-decryption \
    --query Parameter.Value --output text 2>"$ssm_errors") \
    && [[ -n $runner_token && $runner_token != None ]]; then
    break
  fi
  runner_token=""
  remaining=$((deadline - SECONDS))
  if ((remaining <= 0)); then
    log "no token in ${TOKEN_PARAMETER} after ${TOKEN_WAIT_SECONDS}s: $(scrub <"$ssm_errors")"
    rm -f "$ssm_errors"
    exit 4
  fi
  sleep $((delay < remaining ? delay : remaining))
  delay=$((delay * 2 > 15 ? 15 : delay * 2))
done
rm -f "$ssm_errors"
log "token parameter ${TOKEN_PARAMETER} read"

# --- register and start ---
STEP="registering the runner"
if ! register_output=$(CI_SERVER_TOKEN="$runner_token" gitlab-runner register --non-interactive \
  --config "$CONFIG_FILE" \
  --template-config "$TEMPLATE_FILE" \
  --url "$GITLAB_URL" \
  --executor "$RUNNER_EXECUTOR" \
  --docker-image "$DOCKER_IMAGE" \
  --description "$INSTANCE_ID" 2>&1); then
  log "gitlab-runner register failed: $(scrub <<<"$register_output")"
  exit 5
fi
unset runner_token register_output
# register starts from a default config when none can be read; make sure the slots are ours.
if grep -q '^concurrent = ' "$CONFIG_FILE"; then
  sed -i "s/^concurrent = .*/concurrent = ${CAPACITY_PER_INSTANCE}/" "$CONFIG_FILE"
else
  sed -i "1i concurrent = ${CAPACITY_PER_INSTANCE}" "$CONFIG_FILE"
fi
chmod 600 "$CONFIG_FILE"

STEP="starting gitlab-runner"
systemctl daemon-reload
systemctl restart gitlab-runner

STEP="verifying the runner with GitLab"
verified=false
deadline=$((SECONDS + VERIFY_WAIT_SECONDS + 1))
delay=1
while :; do
  # "is valid" (Runner 15+) or "is alive" (older); "is not valid"/"is removed" on failure.
  if verify_output=$(gitlab-runner verify --config "$CONFIG_FILE" 2>&1) \
    && grep -Eq 'is (valid|alive)' <<<"$verify_output" \
    && ! grep -Eq 'is (not valid|removed)' <<<"$verify_output"; then
    verified=true
    break
  fi
  remaining=$((deadline - SECONDS))
  ((remaining > 0)) || break
  sleep $((delay < remaining ? delay : remaining))
  delay=$((delay * 2 > 15 ? 15 : delay * 2))
done
if [[ $verified != true ]]; then
  log "gitlab-runner verify did not succeed: $(scrub <<<"${verify_output:-}")"
  exit 6
fi

STEP="completing the launch lifecycle action"
if [[ $MODE == first-boot ]]; then
  complete_lifecycle_action CONTINUE
elif ! complete_lifecycle_action CONTINUE; then
  # rebooted while in service: the runner runs again, and no launch action waits
  log "no launch lifecycle action to complete"
fi
LIFECYCLE_DONE=true
log "runner ${INSTANCE_ID} registered and running; launch lifecycle action completed (CONTINUE)"
