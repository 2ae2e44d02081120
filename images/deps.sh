#!/usr/bin/env bash
# Installs the Debian packages metalbmc needs, only those that are missing.
#   images/deps.sh build   compilers and libraries
#   images/deps.sh demo    build + the clients the demo prints lines for (ipmitool, FreeIPMI, curl)
#   images/deps.sh test    demo + every real client and server the test suite drives
#   images/deps.sh bench   test + valgrind, for tests/bench/ipmi_bench.py --callgrind
set -euo pipefail

build=(build-essential cmake pkg-config libcurl4-openssl-dev libjansson-dev
       libmicrohttpd-dev libssh-dev libyaml-dev libssl-dev)
# the demo prints ipmitool, FreeIPMI and curl lines to try (e2e_demo runs them)
demo=(ipmitool freeipmi-tools curl)
test=(libcmocka-dev python3 python3-pyghmi openipmi
      openssh-server openssh-client chromium clang libclang-rt-14-dev
      libfuzzer-14-dev nodejs npm iproute2 systemd procps openssl)
# tests/bench/ipmi_bench.py --callgrind counts instructions under valgrind
bench=(valgrind)

want=("${build[@]}")
case "${1:-build}" in
  build) ;;
  demo) want+=("${demo[@]}") ;;
  test) want+=("${demo[@]}" "${test[@]}") ;;
  bench) want+=("${demo[@]}" "${test[@]}" "${bench[@]}") ;;
  *) echo "usage: $0 build|demo|test|bench" >&2; exit 2 ;;
esac

# A package whose command another vendor's package already provides counts
# as installed: NodeSource's nodejs bundles npm and conflicts with Debian's.
declare -A provided_by_command=([npm]=npm [nodejs]=node)

missing=()
for p in "${want[@]}"; do
  cmd=${provided_by_command[$p]:-}
  if [ -n "$cmd" ] && command -v "$cmd" >/dev/null 2>&1; then
    continue
  fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=; [ "$(id -u)" -ne 0 ] && sudo=sudo
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have no package lists yet; refresh once, then retry.
$sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 || {
  $sudo apt-get update >/dev/null
  $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
}
