#!/usr/bin/env bash
# Installs the Debian packages the test suite and benchmarks use as peers and
# real clients: pandas/Dask (reference answers), the AWS CLI and boto3 (S3
# server), chromium (dashboard), iproute2/openssh (multi-host tests).
# Needs root (or sudo). Safe to run twice.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  python3 python3-pandas python3-dask python3-distributed python3-yaml \
  awscli python3-boto3 bzip2 curl chromium iproute2 openssh-server openssh-client procps \
  openmpi-bin python3-mpi4py python3-numpy libopenblas0-pthread \
  slurm-wlm munge
