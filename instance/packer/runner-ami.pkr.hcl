# The AMI of a runnerscale EC2 runner pool: Amazon Linux 2023 with Docker, gitlab-runner (installed,
# not registered, not started at boot: instance/user-data.sh registers and starts it), the SSM agent
# and the AWS CLI (both part of the AL2023 AMI; the provisioner makes sure), and optionally
# pre-pulled job images so the first jobs on a fresh instance skip the pull.
#
#   packer init instance/packer/
#   packer build -var region=eu-west-1 -var architecture=arm64 instance/packer/
packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.3.0"
    }
  }
}

variable "region" {
  type        = string
  description = "AWS region to build the AMI in."
  default     = "eu-west-1"
}

variable "architecture" {
  type        = string
  description = "x86_64 or arm64 (Graviton)."
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "The architecture must be x86_64 or arm64."
  }
}

variable "instance_type" {
  type        = string
  description = "Build instance type; empty picks t3.small (x86_64) or t4g.small (arm64)."
  default     = ""
}

variable "prepull_images" {
  type        = list(string)
  description = "Docker images pulled into the AMI (the pool's default image first)."
  default     = ["alpine:3.20"]
}

variable "gitlab_runner_version" {
  type        = string
  description = "gitlab-runner package version, e.g. 18.1.3; empty installs the newest."
  default     = ""
}

variable "ami_name_prefix" {
  type    = string
  default = "runnerscale-runner"
}

locals {
  instance_type = var.instance_type != "" ? var.instance_type : (var.architecture == "arm64" ? "t4g.small" : "t3.small")
  build_time    = formatdate("YYYYMMDD-hhmmss", timestamp())
}

source "amazon-ebs" "runner" {
  region        = var.region
  instance_type = local.instance_type
  ssh_username  = "ec2-user"
  ami_name      = "${var.ami_name_prefix}-${var.architecture}-${local.build_time}"

  source_ami_filter {
    filters = {
      name                = "al2023-ami-2023.*-kernel-*-${var.architecture}"
      architecture        = var.architecture
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = ["amazon"]
    most_recent = true
  }

  # Instances from this AMI default to IMDSv2 only; with a hop limit of 1 (set in the launch
  # template) job containers cannot reach the instance role's credentials.
  imds_support = "v2.0"
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  tags = {
    Name                 = "${var.ami_name_prefix}-${var.architecture}"
    "runnerscale:role"   = "runner-ami"
    "runnerscale:source" = "{{ .SourceAMIName }}"
  }
}

build {
  sources = ["source.amazon-ebs.runner"]

  provisioner "shell" {
    script          = "${path.root}/provision.sh"
    execute_command = "sudo -E bash '{{ .Path }}'"
    environment_vars = [
      "GITLAB_RUNNER_VERSION=${var.gitlab_runner_version}",
      "PREPULL_IMAGES=${join(" ", var.prepull_images)}",
    ]
  }
}
