#!/usr/bin/env bash
# //packaging:install_test: scripts/install into a DESTDIR with the
# binaries Bazel built for this test, then every installed file checked
# (present, mode, content), a second install keeping an edited config,
# `systemd-analyze verify` silent on the unit, and the installed
# uninstaller removing everything but the config (and that too with
# --purge). systemd need not be PID 1: verify loads unit files only.
set -euo pipefail
runfiles="${TEST_SRCDIR:?}/podsandbox"
tmp="${TEST_TMPDIR:?}"
dest="$tmp/dest"
prefix=/opt/psb
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# The binaries as bazel-bin lays them out, from our runfiles.
bin="$tmp/bin"
mkdir -p "$bin/cri" "$bin/sandbox/pause" "$bin/keeper"
cp "$runfiles/cri/podsandboxd" "$runfiles/cri/podsandboxctl" "$bin/cri/"
cp "$runfiles/sandbox/pause/pause" "$bin/sandbox/pause/"
cp "$runfiles/keeper/podsandbox-keeper" "$bin/keeper/"

run_install() {
  local rc=0
  "$runfiles/scripts/install" --prefix "$prefix" --destdir "$dest" \
    --bin-dir "$bin" >"$tmp/install.log" 2>&1 || rc=$?
  if ((rc)); then
    cat "$tmp/install.log" >&2
    fail "scripts/install exited $rc"
  fi
}

# expect_file PATH MODE: PATH (on the node) exists in DESTDIR with MODE.
expect_file() {
  local f="$dest$1"
  if [ ! -f "$f" ]; then
    fail "$1 not installed"
    return
  fi
  local mode
  mode="$(stat -c %a "$f")"
  [ "$mode" = "$2" ] || fail "$1 has mode $mode, want $2"
}

run_install
expect_file "$prefix/bin/podsandboxd" 755
expect_file "$prefix/bin/podsandboxctl" 755
expect_file "$prefix/bin/podsandbox-pause" 755
expect_file "$prefix/bin/podsandbox-keeper" 755
expect_file "$prefix/bin/podsandbox-uninstall" 755
expect_file "$prefix/share/podsandbox/manifest" 644
expect_file "$prefix/share/doc/podsandbox/README.md" 644
expect_file "$prefix/share/doc/podsandbox/config.toml" 644
expect_file /etc/podsandbox/config.toml 644
expect_file /etc/systemd/system/podsandboxd.service 644
expect_file /etc/systemd/system/podsandboxd.socket 644
cmp -s "$runfiles/cri/podsandboxd" "$dest$prefix/bin/podsandboxd" ||
  fail "podsandboxd differs from the built one"
cmp -s "$runfiles/sandbox/pause/pause" "$dest$prefix/bin/podsandbox-pause" ||
  fail "the pause binary differs from the built one"
cmp -s "$runfiles/packaging/config.toml" "$dest/etc/podsandbox/config.toml" ||
  fail "config.toml is not the default"
# Nothing installed that the test does not know of.
expected="$(printf '%s\n' \
  "$prefix/bin/podsandboxd" "$prefix/bin/podsandboxctl" \
  "$prefix/bin/podsandbox-pause" "$prefix/bin/podsandbox-keeper" \
  "$prefix/bin/podsandbox-uninstall" \
  "$prefix/share/podsandbox/manifest" \
  "$prefix/share/doc/podsandbox/README.md" \
  "$prefix/share/doc/podsandbox/config.toml" \
  /etc/podsandbox/config.toml /etc/systemd/system/podsandboxd.service \
  /etc/systemd/system/podsandboxd.socket | sort)"
actual="$(cd "$dest" && find . -type f | sed 's|^\.||' | sort)"
[ "$expected" = "$actual" ] || fail "installed files differ:
$(diff <(echo "$expected") <(echo "$actual"))"
# The manifest lists every installed file but the node's config.
manifest="$(sort "$dest$prefix/share/podsandbox/manifest")"
[ "$manifest" = "$(grep -v '^/etc/podsandbox/' <<<"$expected")" ] ||
  fail "manifest differs: $manifest"

# The unit: the issue's settings, our paths, no placeholder left.
unit="$dest/etc/systemd/system/podsandboxd.service"
for line in "Type=notify" "KillMode=process" "Delegate=yes" \
  "Restart=on-failure" "LimitNOFILE=1048576" "RuntimeDirectory=podsandbox" \
  "RuntimeDirectoryPreserve=yes" \
  "ExecStart=$prefix/bin/podsandboxd --config /etc/podsandbox/config.toml"; do
  grep -qxF "$line" "$unit" || fail "unit lacks '$line'"
done
grep -q @ "$unit" && fail "unit has a placeholder left: $(grep @ "$unit")"
# systemd-analyze checks ExecStart's binary exists: point it into DESTDIR.
# It exits 0 on some bad values (it only warns), so any output fails.
sed "s|^ExecStart=$prefix|ExecStart=$dest$prefix|" "$unit" \
  >"$tmp/podsandboxd.service"
cp "$dest/etc/systemd/system/podsandboxd.socket" "$tmp/"
grep -qxF "ListenStream=/run/podsandbox/podsandboxd.sock" \
  "$tmp/podsandboxd.socket" || fail "socket unit lacks the CRI socket"
if ! out="$(systemd-analyze verify "$tmp/podsandboxd.service" \
  "$tmp/podsandboxd.socket" 2>&1)" || [ -n "$out" ]; then
  fail "systemd-analyze verify: $out"
fi

# The installed daemon and CLI run and say what they are.
"$dest$prefix/bin/podsandboxd" --version | grep -q '^podsandboxd ' ||
  fail "podsandboxd --version"
"$dest$prefix/bin/podsandboxctl" --version >/dev/null ||
  fail "podsandboxctl --version"

# A second install keeps the operator's config.
echo "# edited" >>"$dest/etc/podsandbox/config.toml"
run_install
grep -q '^# edited$' "$dest/etc/podsandbox/config.toml" ||
  fail "a second install overwrote the edited config"
grep -q "config.toml kept" "$tmp/install.log" ||
  fail "the second install did not say it kept the config"

# The installed uninstaller finds its DESTDIR; it keeps the config.
"$dest$prefix/bin/podsandbox-uninstall" >"$tmp/uninstall.log" 2>&1 ||
  fail "uninstall failed: $(cat "$tmp/uninstall.log")"
left="$(cd "$dest" && find . -type f | sed 's|^\.||' | sort)"
[ "$left" = /etc/podsandbox/config.toml ] ||
  fail "uninstall left: $left"
[ -d "$dest$prefix/share/podsandbox" ] &&
  fail "uninstall left $prefix/share/podsandbox"

# --purge also removes the config.
run_install
"$dest$prefix/bin/podsandbox-uninstall" --purge >/dev/null 2>&1 ||
  fail "uninstall --purge failed"
left="$(cd "$dest" && find . -type f)"
[ -z "$left" ] || fail "uninstall --purge left: $left"

if ((failures)); then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "PASS"
