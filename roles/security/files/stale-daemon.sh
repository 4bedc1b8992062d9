#!/bin/sh
# stale-daemon.sh UNIT FILE... : prints "stale" when UNIT is active and started before the newest
# FILE last changed (its configuration changed after it started), else "current".
# Shipped by vaultcube.demobox (security and docker roles); changes nothing.
unit=$1; shift
[ "$(systemctl is-active "$unit")" = active ] || { echo current; exit 0; }
started=$(date -d "$(systemctl show -p ActiveEnterTimestamp --value "$unit")" +%s 2>/dev/null) || started=0
newest=0
for f in "$@"; do
  [ -e "$f" ] || continue
  m=$(stat -c %Y "$f")
  [ "$m" -gt "$newest" ] && newest=$m
done
if [ "$newest" -gt "${started:-0}" ]; then echo stale; else echo current; fi
