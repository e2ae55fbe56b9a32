#!/usr/bin/env python3
"""A device whose link has no carrier yet, sending DHCP INFORMs into a TAP.

    tap-dhcp.py NAME COUNT CARRIER_AFTER LISTEN

Creates the TAP NAME with its carrier off and waits until it is attached to
usbvnet0 (the caller runs "ip link set NAME master usbvnet0"). Then writes
COUNT INFORMs (always answered), raises the carrier CARRIER_AFTER seconds
later (negative: never), reads what comes back for LISTEN seconds and
prints "replies=N" (DHCP replies, UDP 67 -> 68). The TAP goes with the
process.
"""
import fcntl
import os
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
TUNSETCARRIER = 0x400454E2
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000


def checksum(data: bytes) -> int:
    total = sum(struct.unpack(f'!{len(data) // 2}H', data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def inform(mac: bytes, ciaddr: bytes, xid: int) -> bytes:
    bootp = struct.pack('!BBBBIHH4s4s4s4s16s64s128s4s', 1, 1, 6, 0, xid, 0, 0,
                        ciaddr, bytes(4), bytes(4), bytes(4), mac, b'', b'', bytes([99, 130, 83, 99]))
    bootp += bytes([53, 1, 8, 255])
    bootp += bytes(300 - len(bootp))
    udp = struct.pack('!HHHH', 68, 67, 8 + len(bootp), 0) + bootp
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, ciaddr, bytes([255] * 4))
    ip = ip[:10] + struct.pack('!H', checksum(ip)) + ip[12:]
    return b'\xff' * 6 + mac + b'\x08\x00' + ip + udp


def is_reply(frame: bytes) -> bool:
    return (len(frame) >= 42 and frame[12:14] == b'\x08\x00' and frame[23] == 17
            and frame[34:38] == struct.pack('!HH', 67, 68))


def main() -> int:
    name, count, carrier_after, listen = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    fd = os.open('/dev/net/tun', os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', name.encode(), IFF_TAP | IFF_NO_PI))
    fcntl.ioctl(fd, TUNSETCARRIER, struct.pack('i', 0))
    print('created', flush=True)
    deadline = time.monotonic() + 10
    while not os.path.exists(f'/sys/class/net/usbvnet0/lower_{name}'):
        if time.monotonic() > deadline:
            print('never attached', flush=True)
            return 1
        time.sleep(0.02)
    mac = bytes([0x02, 0x7a, 0x70]) + os.urandom(3)
    for i in range(count):
        os.write(fd, inform(mac, bytes([100, 127, 254, 50]), 0x7a700000 + i))
    print('sent', flush=True)
    start = time.monotonic()
    raised = carrier_after < 0
    replies = 0
    while time.monotonic() - start < listen:
        if not raised and time.monotonic() - start >= carrier_after:
            fcntl.ioctl(fd, TUNSETCARRIER, struct.pack('i', 1))
            raised = True
        ready, _, _ = select.select([fd], [], [], 0.02)
        if ready and is_reply(os.read(fd, 2048)):
            replies += 1
    print(f'replies={replies}', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
