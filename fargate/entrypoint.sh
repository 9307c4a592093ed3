#!/usr/bin/env bash
# runnerscale: what the runner container of a Fargate pool task runs (the image's entrypoint).
#
# runnerscale starts one task per pending job (RunTask). The task runs one job and ends: this
# script writes a gitlab-runner config.toml for the pool's runner and execs
#
#   gitlab-runner run-single --config <file> --runner runnerscale --max-builds 1 --wait-timeout <s>
#
# which asks GitLab for a job, runs it with the shell executor (Fargate has no Docker daemon) and
# exits; the task stops with it. A task whose job another task took gets nothing within
# --wait-timeout seconds and exits too.
#
# Identity: every task of a pool shares the pool's one GitLab runner (one token); GitLab tells the
# tasks apart by their system id, which run-single reads from `.runner_system_id` next to the file
# given in --config. This script writes it as `s_` + the first 12 characters of the task id (from
# the task metadata endpoint), so runnerscale can ask GitLab which job a task runs
# (GET /runners/:id/jobs?system_id=s_<12>) knowing only the task ARN.
#
# The token never reaches stdout, stderr or a command line: it comes from the environment
# (RUNNER_TOKEN, which ECS fills from the task definition's `secrets`), is written to config.toml
# (mode 0600, directory 0700), and RUNNER_TOKEN is unset before gitlab-runner starts, so the job's
# environment does not carry it.
#
# Inputs (environment variables):
#   CI_SERVER_URL                 required  GitLab URL (the task definition's environment)
#   RUNNER_TOKEN                  required  the pool runner's authentication token (glrt-...; the
#                                           task definition's `secrets`, never plain environment)
#   ECS_CONTAINER_METADATA_URI_V4 required  set by ECS (Fargate platform 1.4.0 and later)
#   RUNNERSCALE_WAIT_TIMEOUT      optional  seconds run-single waits for a job (default 120);
#                                           runnerscale sets it per task from the pool's wait_timeout
#   RUNNERSCALE_JOB               optional  <projectId>/<jobId> the task was started for (logged only)
#   RUNNERSCALE_CONFIG_DIR        optional  where config.toml and .runner_system_id go
#                                           (default $HOME/.runnerscale)
#   RUNNERSCALE_BUILDS_DIR        optional  builds_dir of the shell executor (default $HOME/builds)
#   RUNNERSCALE_METADATA_RETRIES  optional  retries of the metadata request (default 5, 1 s apart)
set -euo pipefail
umask 077

readonly LOG_TAG=runnerscale-entrypoint
readonly RUNNER_NAME=runnerscale

log() { printf '%s: %s\n' "$LOG_TAG" "$*" >&2; }
fail() {
  local code=$1
  shift
  log "error: $*"
  exit "$code"
}

# --- inputs ----------------------------------------------------------------------------------
CI_SERVER_URL=${CI_SERVER_URL:-}
[[ -n $CI_SERVER_URL ]] || fail 2 "CI_SERVER_URL is not set: give the task definition's runner container the environment variable CI_SERVER_URL (e.g. https://gitlab.example.com)"
# It goes into a TOML string: a plain http(s) URL only (in a bracket expression '\' is literal).
url_pattern='^https?://[^[:space:]"\]+$'
[[ $CI_SERVER_URL =~ $url_pattern ]] || fail 2 "CI_SERVER_URL must be an http(s) URL without spaces, quotes or backslashes"

# Checked without ever printing the value.
[[ -n ${RUNNER_TOKEN:-} ]] || fail 2 "RUNNER_TOKEN is not set: reference the pool runner's token secret in the task definition's secrets as RUNNER_TOKEN"
[[ $RUNNER_TOKEN != REPLACE_ME ]] || fail 2 "RUNNER_TOKEN is still the placeholder: put the pool runner's glrt- token into its secret (aws secretsmanager put-secret-value)"
[[ $RUNNER_TOKEN =~ ^[A-Za-z0-9._-]+$ ]] || fail 2 "RUNNER_TOKEN holds characters a runner authentication token does not have (whitespace, quotes, JSON?): the secret must hold the bare token"

WAIT_TIMEOUT=${RUNNERSCALE_WAIT_TIMEOUT:-120}
[[ $WAIT_TIMEOUT =~ ^[1-9][0-9]{0,5}$ ]] || fail 2 "RUNNERSCALE_WAIT_TIMEOUT must be a positive whole number of seconds"
METADATA_RETRIES=${RUNNERSCALE_METADATA_RETRIES:-5}
[[ $METADATA_RETRIES =~ ^[0-9]{1,2}$ ]] || fail 2 "RUNNERSCALE_METADATA_RETRIES must be a whole number below 100"

[[ -n ${HOME:-} || (-n ${RUNNERSCALE_CONFIG_DIR:-} && -n ${RUNNERSCALE_BUILDS_DIR:-}) ]] \
  || fail 2 "HOME is not set: set RUNNERSCALE_CONFIG_DIR and RUNNERSCALE_BUILDS_DIR"
CONFIG_DIR=${RUNNERSCALE_CONFIG_DIR:-$HOME/.runnerscale}
BUILDS_DIR=${RUNNERSCALE_BUILDS_DIR:-$HOME/builds}
for dir in CONFIG_DIR BUILDS_DIR; do
  [[ ${!dir} =~ ^/[A-Za-z0-9._/-]*$ ]] || fail 2 "${dir} must be an absolute path of letters, digits, '.', '_', '-' and '/'"
done
readonly CONFIG_FILE="${CONFIG_DIR}/config.toml"

# --- the task's identity -----------------------------------------------------------------------
METADATA_URI=${ECS_CONTAINER_METADATA_URI_V4:-}
[[ -n $METADATA_URI ]] || fail 3 "ECS_CONTAINER_METADATA_URI_V4 is not set: this image runs as an ECS task on Fargate (platform version 1.4.0 or later)"

metadata_errors=$(mktemp)
if ! task_metadata=$(curl -fsS --max-time 5 --retry "$METADATA_RETRIES" --retry-delay 1 --retry-connrefused \
  "${METADATA_URI}/task" 2>"$metadata_errors"); then
  reason=$(tail -n 1 "$metadata_errors" | cut -c1-200)
  rm -f "$metadata_errors"
  fail 3 "the task metadata endpoint ${METADATA_URI}/task is unreachable: ${reason}"
fi
rm -f "$metadata_errors"

# The metadata JSON has "TaskARN": "arn:aws:ecs:<region>:<account>:task/<cluster>/<task id>"
# (an ARN has no quote, so a pattern is enough; the image need not carry a JSON parser).
arn_pattern='"TaskARN"[[:space:]]*:[[:space:]]*"([^"]*)"'
if [[ $task_metadata =~ $arn_pattern ]]; then
  TASK_ARN=${BASH_REMATCH[1]}
else
  fail 3 "the task metadata from ${METADATA_URI}/task has no TaskARN"
fi
TASK_ID=${TASK_ARN##*/}
[[ $TASK_ARN == arn:*:ecs:*:task/* && $TASK_ID =~ ^[0-9A-Za-z]{12,}$ ]] \
  || fail 3 "unexpected task ARN '${TASK_ARN:0:200}' in the task metadata"
# GitLab accepts system ids matching ^[sr]_[0-9a-zA-Z]{12}$ (gitlab-runner's .runner_system_id).
readonly SYSTEM_ID="s_${TASK_ID:0:12}"

# --- configuration -----------------------------------------------------------------------------
mkdir -p "$CONFIG_DIR" "$BUILDS_DIR"
chmod 700 "$CONFIG_DIR"
printf '%s\n' "$SYSTEM_ID" >"${CONFIG_DIR}/.runner_system_id"
# printf is a bash builtin: the token is in no process's arguments.
printf 'concurrent = 1\n\n[[runners]]\n  name = "%s"\n  url = "%s"\n  token = "%s"\n  executor = "shell"\n  shell = "bash"\n  builds_dir = "%s"\n' \
  "$RUNNER_NAME" "$CI_SERVER_URL" "$RUNNER_TOKEN" "$BUILDS_DIR" >"$CONFIG_FILE"
chmod 600 "$CONFIG_FILE" "${CONFIG_DIR}/.runner_system_id"
unset RUNNER_TOKEN

log "task ${TASK_ARN}: system id ${SYSTEM_ID}, runner for ${CI_SERVER_URL}, started for job ${RUNNERSCALE_JOB:-(not given)}, waiting up to ${WAIT_TIMEOUT}s for a job"
exec gitlab-runner run-single --config "$CONFIG_FILE" --runner "$RUNNER_NAME" --max-builds 1 --wait-timeout "$WAIT_TIMEOUT"
