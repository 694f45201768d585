#!/bin/sh
# Small source lint: banned functions in the library, and every global symbol
# of the library prefixed sl_ (libosipparser2 exports unprefixed names such as
# `logfile` and `parser_init`; ours must never interpose over them).
set -u
build=${1:-build}
rc=0
banned='\b(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|gets|atoi|atol|alloca|printf|exit)[[:space:]]*\('
if grep -nE "$banned" lib/*/*.c lib/*.c 2>/dev/null | grep -v 'snprintf\|vsnprintf\|fprintf' ; then
    echo "lint: banned function in lib/ (see STYLE.md 5.2)" >&2
    rc=1
fi
bad=$(nm -g --defined-only "$build"/libsiplint.a 2>/dev/null | awk 'NF==3 && $3 !~ /^sl_/ {print $3}')
if [ -n "$bad" ]; then
    echo "lint: global symbols without the sl_ prefix:" $bad >&2
    rc=1
fi
[ $rc -eq 0 ] && echo "lint: ok"
exit $rc
