#!/usr/bin/env bash
# Installs whatever a fresh Debian machine is missing, then builds.
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(etcd-server etcd-client containerd runc containernetworking-plugins iptables busybox-static docker-registry iproute2 conntrack)
missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to install Debian packages: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages: install when node_modules is missing or older than the lock.
if [ ! -d node_modules ] || [ package.json -nt node_modules/.package-lock.json ] \
   || { [ -f package-lock.json ] && [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  echo "setup: installing npm packages"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi

# Build: compile when any source is newer than the last build.
stamp=dist/.built
if [ ! -f "$stamp" ] || [ -n "$(find src scripts package.json tsconfig.json -newer "$stamp" -print -quit)" ]; then
  echo "setup: building"
  npx tsc -p tsconfig.json
  # tsc copies no data files: the CRI proto travels beside the compiled client.
  cp src/kubelet/cri/api.proto dist/src/kubelet/cri/api.proto
  node --import tsx scripts/gen-openapi.ts
  touch "$stamp"
fi
