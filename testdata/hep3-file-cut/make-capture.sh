#!/bin/sh
# capture.hep: the first 2100 bytes of ../hep3-file-basic-call/capture.hep, a HEP stream file cut in the
# middle of its 5th packet (which starts at byte 2000 and is 418 bytes long), as a collector's dump is
# when it is copied while still being written.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
head -c 2100 "$here/../hep3-file-basic-call/capture.hep" >"$here/capture.hep"
