#!/usr/bin/env python3
"""Send one OSC message to Chronus (UDP, 127.0.0.1) and print its answer.

Usage: chronus-osc.py [-t SECONDS] PORT ADDRESS [TYPES ARG...]

TYPES and ARGs as for liblo's oscsend: one letter per argument, i (int32),
f (float32), s (string); e.g.

    chronus-osc.py 5005 /patch/create ss lfo1 lfo
    chronus-osc.py 5005 /mod/osc/pitch f 1.0
    chronus-osc.py 5005 /patch/get

Prints the answer (e.g. "/chronus/ack /patch/create") and exits 0, or 1
for /chronus/error, or 2 if none came within SECONDS (default 2).  Python's
standard library only (see docs/osc.md).
"""
import socket
import struct
import sys


def pad(b):
    return b + b"\0" * (4 - len(b) % 4)  # at least one NUL, to 4 bytes


def encode(address, types, args):
    body = b""
    for t, a in zip(types, args):
        if t == "i":
            body += struct.pack(">i", int(a))
        elif t == "f":
            body += struct.pack(">f", float(a))
        elif t == "s":
            body += pad(a.encode())
        else:
            sys.exit("type '%s' not supported here (i, f, s)" % t)
    return pad(address.encode()) + pad(("," + types).encode()) + body


def decode(data):
    def string(at):
        end = data.index(b"\0", at)
        return data[at:end].decode(errors="replace"), (end + 4) & ~3
    address, at = string(0)
    types, at = string(at)
    args = []
    for t in types[1:]:
        if t == "s":
            s, at = string(at)
            args.append(s)
        elif t in "if":
            args.append(struct.unpack(">" + t, data[at:at + 4])[0])
            at += 4
    return address, args


def main(argv):
    timeout = 2.0
    if argv[:1] == ["-t"]:
        timeout, argv = float(argv[1]), argv[2:]
    if len(argv) < 2:
        sys.exit(__doc__)
    port, address = int(argv[0]), argv[1]
    types, args = (argv[2], argv[3:]) if len(argv) > 2 else ("", [])
    if len(types) != len(args):
        sys.exit("%d types but %d arguments" % (len(types), len(args)))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    sock.sendto(encode(address, types, args), ("127.0.0.1", port))
    try:
        answer, args = decode(sock.recvfrom(65536)[0])
    except socket.timeout:
        print("no answer within %g s" % timeout, file=sys.stderr)
        return 2
    except (ConnectionRefusedError, ValueError) as e:
        print("no answer: %s" % e, file=sys.stderr)
        return 2
    print(" ".join([answer] + ["%g" % a if isinstance(a, float) else str(a)
                               for a in args]))
    return 1 if answer == "/chronus/error" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
