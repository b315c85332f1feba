#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Writes the demo's fake binaries into DIR: ELF64 headers whose program headers
lie past the first 256 bytes (what exec hands binfmt_misc), so the handlers must
read the file: elf-aarch64 and elf-riscv64 for demo_foreign, and app/bin/tool,
an x86-64 ELF whose PT_INTERP is "$ORIGIN/../lib/ld-demo.so", with a stand-in
app/lib/ld-demo.so, for demo_origin.

    make_demo_binaries.py DIR
"""
import os
import struct
import sys

PHOFF = 512
INTERP_AT = 600


def elf(machine, interp=None):
    """An ELF64 little-endian header, with one PT_INTERP program header if asked."""
    head = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9) + struct.pack(
        "<HHIQQQIHHHHHH", 2, machine, 1, 0, PHOFF if interp else 0, 0, 0,
        64, 56, 1 if interp else 0, 0, 0, 0)
    out = bytearray(head) + bytearray(1024 - len(head))
    if interp:
        s = interp.encode() + b"\0"
        out[PHOFF:PHOFF + 56] = struct.pack("<IIQQQQQQ", 3, 4, INTERP_AT, 0, 0,
                                            len(s), len(s), 1)
        out[INTERP_AT:INTERP_AT + len(s)] = s
    return bytes(out)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o755)


def main():
    d = sys.argv[1]
    write(d + "/elf-aarch64", elf(183))
    write(d + "/elf-riscv64", elf(243))
    os.makedirs(d + "/app/bin")
    os.makedirs(d + "/app/lib")
    write(d + "/app/bin/tool", elf(62, "$ORIGIN/../lib/ld-demo.so"))
    write(d + "/app/lib/ld-demo.so",
          b'#!/bin/sh\necho "  [stand-in loader $0] asked to run: $*"\n')


main()
