#!/usr/bin/env bash
# Sets up the integration testbed on a Debian machine, as root: installs
# openssh-server and sudo (and the services fabfiles/' recipes configure:
# nginx, uWSGI, PHP-FPM, Postfix, PostgreSQL, logrotate), generates host
# and user keys and a known_hosts
# file, creates the test users, and starts a real OpenSSH sshd on a loopback
# port. Every 127.x.y.z address reaches it, so tests use 127.0.0.2, 127.0.0.3,
# … as many hosts. Logins are accepted only from loopback addresses.
#
#   tests/testbed.sh up     set up (idempotent) and print the env file path
#   tests/testbed.sh down   stop sshd and remove users and files
set -euo pipefail

DIR=${GOFAB_TESTBED_DIR:-/var/lib/gofab-testbed}
PORT=${GOFAB_TESTBED_PORT:-2222}
SUDO_USER=gofabtest      # sudo with a password
NP_USER=gofabnp          # sudo NOPASSWD
# sudo asks for the login password, so one password serves both.
PASSWORD=gofab-test-pw

die() { echo "testbed: $*" >&2; exit 1; }

# apt_install installs packages without asking, waiting for dpkg's lock.
# A dpkg run interrupted before (the machine is shared) makes every
# install fail until it is finished: finish it first.
apt_install() {
  local tries=600  # dpkg has no lock wait of its own: up to 10 minutes
  while [ -n "$(ls -A /var/lib/dpkg/updates 2>/dev/null)" ]; do
    echo "testbed: dpkg was left interrupted: dpkg --configure -a" >&2
    DEBIAN_FRONTEND=noninteractive dpkg --force-confold --configure -a >/dev/null && break
    tries=$((tries - 1)); [ "$tries" -gt 0 ] || die "dpkg --configure -a kept failing"
    sleep 1
  done
  apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >/dev/null
}

install_packages() {
  local missing=()
  [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  command -v sudo >/dev/null || missing+=(sudo)
  command -v ssh-keygen >/dev/null || missing+=(openssh-client)
  command -v lsb_release >/dev/null || missing+=(lsb-release)
  command -v gcc >/dev/null || missing+=(gcc libc6-dev)   # go test -race needs cgo
  command -v chromium >/dev/null || missing+=(chromium)     # renders --report pages in tests
  command -v git >/dev/null || missing+=(git)               # recipe-module tests serve real repositories
  command -v zsh >/dev/null || missing+=(zsh)               # completion tests drive each shell
  command -v fish >/dev/null || missing+=(fish)
  command -v ansible-inventory >/dev/null || missing+=(ansible-core)  # the oracle for inventories (TestAnsibleCorpus)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "testbed: installing ${missing[*]}" >&2
    apt_install "${missing[@]}"
  fi
}

# The services the recipes in fabfiles/ configure (their tests curl them).
# Installed with a policy-rc.d that keeps the packages from starting them:
# the recipes start what they need, with SysV scripts (no systemd here).
RECIPE_PACKAGES=(nginx uwsgi-emperor uwsgi-plugin-python3 php-fpm postfix postgresql logrotate curl openssl ssl-cert)

install_recipe_packages() {
  local missing=()
  for p in "${RECIPE_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q " installed$" || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "testbed: installing ${missing[*]}" >&2
  echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
  echo "postfix postfix/mailname string gofab-testbed.invalid" | debconf-set-selections
  local policy=/usr/sbin/policy-rc.d had_policy=
  [ -e "$policy" ] && had_policy=1 && cp -a "$policy" "$policy.gofab-saved"
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy"
  apt_install "${missing[@]}"
  if [ -n "$had_policy" ]; then mv "$policy.gofab-saved" "$policy"; else rm -f "$policy"; fi
}

make_user() {
  local u=$1
  id "$u" >/dev/null 2>&1 || useradd -m -s /bin/bash "$u"
  echo "$u:$PASSWORD" | chpasswd
  install -d -m 700 -o "$u" -g "$u" "/home/$u/.ssh"
  install -m 600 -o "$u" -g "$u" "$DIR/id_ed25519.pub" "/home/$u/.ssh/authorized_keys"
}

# The real sops tool, the oracle for gofab's SOPS files (built from its Go
# module, the registry CI reaches; kept between runs).
SOPS_VERSION=v3.13.3

install_sops() {
  [ -x "$DIR/bin/sops-$SOPS_VERSION" ] && return 0
  echo "testbed: building sops $SOPS_VERSION (once)" >&2
  install -d -m 755 "$DIR/bin"
  GOBIN="$DIR/bin" GOFLAGS=-mod=mod go install "github.com/getsops/sops/v3/cmd/sops@$SOPS_VERSION" >&2
  mv "$DIR/bin/sops" "$DIR/bin/sops-$SOPS_VERSION"
}

up() {
  [ "$(id -u)" = 0 ] || die "must run as root (it installs packages, adds users and starts sshd)"
  install_packages
  install_recipe_packages
  install -d -m 755 "$DIR"
  install_sops
  [ -f "$DIR/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C gofab-testbed-host -f "$DIR/host_ed25519"
  [ -f "$DIR/other_host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C gofab-other-host -f "$DIR/other_host_ed25519"
  [ -f "$DIR/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C gofab-test-user -f "$DIR/id_ed25519"
  [ -f "$DIR/id_encrypted" ] || ssh-keygen -q -t ed25519 -N 'key-passphrase' -C gofab-encrypted -f "$DIR/id_encrypted"
  make_user "$SUDO_USER"
  make_user "$NP_USER"
  cat "$DIR/id_encrypted.pub" >> "/home/$SUDO_USER/.ssh/authorized_keys"
  cat > /etc/sudoers.d/gofab-testbed <<SUDO
Defaults:$SUDO_USER timestamp_timeout=0, !lecture, !mail_badpass
$SUDO_USER ALL=(ALL:ALL) ALL
$NP_USER ALL=(ALL:ALL) NOPASSWD: ALL
SUDO
  chmod 440 /etc/sudoers.d/gofab-testbed

  # One known_hosts line covers every loopback "host" on the port.
  local hostkey
  hostkey=$(cut -d' ' -f1,2 "$DIR/host_ed25519.pub")
  printf '[127.*]:%s %s\n[localhost]:%s %s\n[::1]:%s %s\n' "$PORT" "$hostkey" "$PORT" "$hostkey" "$PORT" "$hostkey" > "$DIR/known_hosts"

  cat > "$DIR/sshd_config" <<CFG
Port $PORT
ListenAddress 0.0.0.0
$(ip -6 addr show lo 2>/dev/null | grep -q ::1 && echo "ListenAddress [::1]:$PORT")
HostKey $DIR/host_ed25519
PidFile $DIR/sshd.pid
AllowUsers *@127.0.0.0/8 *@::1
PermitRootLogin no
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
PrintMotd no
LogLevel ERROR
MaxStartups 2000:30:4000
PerSourceMaxStartups none
MaxAuthTries 10
MaxSessions 10
Subsystem sftp internal-sftp
CFG
  install -d -m 755 /run/sshd
  /usr/sbin/sshd -t -f "$DIR/sshd_config" || die "sshd rejected its configuration"
  if [ -f "$DIR/sshd.pid" ] && kill -0 "$(cat "$DIR/sshd.pid")" 2>/dev/null; then
    kill "$(cat "$DIR/sshd.pid")"; sleep 0.2
  fi
  /usr/sbin/sshd -f "$DIR/sshd_config" -E "$DIR/sshd.log"
  for _ in $(seq 50); do
    (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break
    sleep 0.1
  done
  (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null || die "sshd did not start; see $DIR/sshd.log"

  cat > "$DIR/env" <<ENV
GOFAB_TB_DIR=$DIR
GOFAB_TB_PORT=$PORT
GOFAB_TB_USER=$SUDO_USER
GOFAB_TB_NP_USER=$NP_USER
GOFAB_TB_PASSWORD=$PASSWORD
GOFAB_TB_KEY=$DIR/id_ed25519
GOFAB_TB_ENCRYPTED_KEY=$DIR/id_encrypted
GOFAB_TB_KEY_PASSPHRASE=key-passphrase
GOFAB_TB_KNOWN_HOSTS=$DIR/known_hosts
GOFAB_TB_OTHER_HOST_KEY=$DIR/other_host_ed25519.pub
GOFAB_SOPS=$DIR/bin/sops-$SOPS_VERSION
ENV
  echo "$DIR/env"
}

down() {
  [ -f "$DIR/sshd.pid" ] && kill "$(cat "$DIR/sshd.pid")" 2>/dev/null || true
  # What the recipe tests started and configured (the packages stay).
  for s in nginx uwsgi-emperor postfix postgresql $(ls /etc/init.d | grep '^php.*-fpm$'); do
    [ -x "/etc/init.d/$s" ] && service "$s" stop >/dev/null 2>&1 || true
  done
  rm -f /etc/nginx/sites-enabled/{site,php-streaming,blog,basic-auth} /etc/nginx/sites-available/{site,php-streaming,blog,basic-auth} /etc/nginx/gofab-basic-auth.htpasswd
  rm -f /etc/uwsgi-emperor/vassals/app[12].ini /etc/php/*/fpm/conf.d/99-streaming.ini /etc/logrotate.d/gofabtest-*
  rm -rf /srv/webapps /var/lib/webapps /var/www/php-streaming /var/www/blog /var/www/basic-auth /var/log/gofabtest-*
  userdel -r "$SUDO_USER" 2>/dev/null || true
  userdel -r "$NP_USER" 2>/dev/null || true
  rm -f /etc/sudoers.d/gofab-testbed
  rm -rf "$DIR"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) die "usage: $0 up|down" ;;
esac
