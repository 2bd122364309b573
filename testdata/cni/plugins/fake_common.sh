# Sourced by every fake CNI plugin here. Reads the config from stdin, records
# the call when the config names a "recordFile" (one line per call:
# "<CNI_COMMAND> <plugin> <stdin>", and "<recordFile>.env" gets the CNI_*
# environment of the latest call), answers VERSION, and succeeds quietly on
# every command but ADD, so that rollback DELs work. Only ADD misbehaves.

CNI_STDIN=$(cat)

# The value of a top-level string field of the (single-line) config.
field() {
  sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" <<<"$CNI_STDIN" | head -n 1
}

fake_record=$(field recordFile)
if [ -n "$fake_record" ]; then
  printf '%s %s %s\n' "$CNI_COMMAND" "$(basename "$0")" "$CNI_STDIN" \
    >>"$fake_record"
  env | grep '^CNI_' | sort >"$fake_record.env"
fi

case "$CNI_COMMAND" in
  VERSION)
    echo '{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0"]}'
    exit 0
    ;;
  ADD) ;;
  *) exit 0 ;;
esac
