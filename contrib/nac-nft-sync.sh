#!/bin/sh
# nac-nft-sync.sh: keep a router's nftables quarantine sets in step with
# firmward (issue 6, requirement 4).
#
# It polls GET /api/v1/nac/nft, and when the ruleset changed, checks it
# with `nft -c -f` and applies it with `nft -f` (the ruleset replaces its
# own table, `inet firmward`, in one transaction; nothing else on the
# router is touched). Runs on OpenWrt (ash, uclient-fetch or wget) and on
# any Linux router with curl or wget.
#
# Settings (environment):
#   FIRMWARD_SERVER   base URL of firmward, e.g. https://firmward.lan:8080 (required)
#   FIRMWARD_TOKEN    an API token; the viewer role is enough (required)
#   NAC_ALLOW         space-separated IPv4 addresses/prefixes quarantined devices
#                     may still reach (firmward, DNS), e.g. "192.168.1.1 192.168.1.10"
#   NAC_INTERVAL      seconds between polls (default 30)
#   NAC_STATE_DIR     where the last applied ruleset is kept (default /tmp/firmward-nac)
# Usage:
#   nac-nft-sync.sh          poll forever
#   nac-nft-sync.sh --once   poll once (for cron); exit status 0 applied or unchanged, 1 failed
#
# If firmward is unreachable the last applied ruleset stays in force
# (fail-static): quarantined devices stay blocked, released ones stay free.
set -u

server=${FIRMWARD_SERVER:?set FIRMWARD_SERVER to firmward base URL}
token=${FIRMWARD_TOKEN:?set FIRMWARD_TOKEN to an API token (viewer role)}
interval=${NAC_INTERVAL:-30}
state=${NAC_STATE_DIR:-/tmp/firmward-nac}
mkdir -p "$state" || exit 1
umask 077

url="$server/api/v1/nac/nft?format=nft"
for a in ${NAC_ALLOW:-}; do
	url="$url&allow=$a"
done

log() { logger -t firmward-nac "$*" 2>/dev/null || echo "firmward-nac: $*" >&2; }

fetch() { # $1: output file
	if command -v curl >/dev/null 2>&1; then
		curl -fsS --max-time 20 -H "Authorization: Bearer $token" -o "$1" "$url"
	elif command -v uclient-fetch >/dev/null 2>&1; then
		uclient-fetch -q -T 20 --header="Authorization: Bearer $token" -O "$1" "$url"
	else
		wget -q -T 20 --header="Authorization: Bearer $token" -O "$1" "$url"
	fi
}

sync_once() {
	new="$state/ruleset.new"
	if ! fetch "$new"; then
		log "cannot fetch $server/api/v1/nac/nft; keeping the last applied ruleset"
		return 1
	fi
	if [ -f "$state/ruleset.applied" ] && cmp -s "$new" "$state/ruleset.applied"; then
		return 0
	fi
	if ! out=$(nft -c -f "$new" 2>&1); then
		log "firmward sent a ruleset nft refuses; not applied: $out"
		return 1
	fi
	if ! out=$(nft -f "$new" 2>&1); then
		log "nft -f failed: $out"
		return 1
	fi
	mv "$new" "$state/ruleset.applied"
	log "applied: $(head -n 1 "$state/ruleset.applied")"
	return 0
}

if [ "${1:-}" = "--once" ]; then
	sync_once
	exit $?
fi
while :; do
	sync_once
	sleep "$interval"
done
