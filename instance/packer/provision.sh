#!/usr/bin/env bash
# Packer shell provisioner for the runner AMI (Amazon Linux 2023), run as root.
# Inputs: GITLAB_RUNNER_VERSION (empty = newest), PREPULL_IMAGES (space-separated, may be empty).
set -euo pipefail

dnf -y upgrade --refresh
# AL2023 ships the AWS CLI v2 and the SSM agent; installing them again is a no-op that keeps the
# AMI right if the base image ever drops them.
dnf -y install docker awscli-2 amazon-ssm-agent
systemctl enable docker amazon-ssm-agent

# GitLab's package repository. Its installer detects AL2023 as amzn/2023, which the repository does
# not serve (gitlab-org/gitlab-runner#39284); the el/8 packages are the documented workaround and
# gitlab-runner is a static Go binary.
curl -fsSL "https://packages.gitlab.com/install/repositories/runner/gitlab-runner/script.rpm.sh" -o /tmp/gitlab-runner-repo.sh
os=el dist=8 bash /tmp/gitlab-runner-repo.sh
rm -f /tmp/gitlab-runner-repo.sh
if [[ -n ${GITLAB_RUNNER_VERSION:-} ]]; then
  dnf -y install "gitlab-runner-${GITLAB_RUNNER_VERSION}"
else
  dnf -y install gitlab-runner
fi
usermod -aG docker gitlab-runner

# Installed, not registered, not started at boot: user-data registers the runner first, then
# enables and starts the service. A runner polling before that would have no token.
systemctl disable --now gitlab-runner
rm -f /etc/gitlab-runner/config.toml

if [[ -n ${PREPULL_IMAGES:-} ]]; then
  systemctl start docker
  read -r -a images <<<"$PREPULL_IMAGES"
  for image in "${images[@]}"; do
    docker pull "$image"
  done
fi

# Nothing of the build instance in the image: cloud-init starts fresh on every instance.
dnf clean all
cloud-init clean --logs
