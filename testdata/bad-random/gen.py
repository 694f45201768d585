#!/usr/bin/env python3
"""4 KiB of pseudo-random bytes (fixed seed): not a capture at all."""
import os, random
r = random.Random(4475)
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'capture.bin'), 'wb').write(
    bytes(r.randrange(256) for _ in range(4096)))
