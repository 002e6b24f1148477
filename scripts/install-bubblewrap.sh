#!/bin/sh
# Installs bubblewrap (bwrap), which the solver sandbox needs to confine untrusted code.
# Does nothing when bwrap is already on PATH. Uses apt-get, dnf, yum, zypper, pacman or apk,
# through sudo when not root. Exits non-zero with one line when it cannot.
set -e
command -v bwrap >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ]; then as_root=""; elif command -v sudo >/dev/null 2>&1; then as_root="sudo"; else
  echo "install-bubblewrap: bwrap is missing and this user cannot install packages; ask an administrator to install bubblewrap" >&2
  exit 1
fi
if command -v apt-get >/dev/null 2>&1; then
  $as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq bubblewrap >/dev/null
elif command -v dnf >/dev/null 2>&1; then $as_root dnf install -y -q bubblewrap
elif command -v yum >/dev/null 2>&1; then $as_root yum install -y -q bubblewrap
elif command -v zypper >/dev/null 2>&1; then $as_root zypper --non-interactive install bubblewrap
elif command -v pacman >/dev/null 2>&1; then $as_root pacman -S --noconfirm bubblewrap
elif command -v apk >/dev/null 2>&1; then $as_root apk add bubblewrap
else
  echo "install-bubblewrap: no known package manager here; install bubblewrap (bwrap) by hand" >&2
  exit 1
fi
command -v bwrap >/dev/null 2>&1
