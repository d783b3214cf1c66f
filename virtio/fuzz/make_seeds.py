#!/usr/bin/env python3
"""Writes the hand-written seed inputs of the virtio fuzz targets.

Each seed is a short, named scenario spelled in the targets' input formats
(documented at the top of memory_service_fuzzer.cc and pci_config_fuzzer.cc),
so the fuzzers start from inputs that already reach the interesting paths:
preparation, dynamic regions, cache-type rules, invalid requests, injected
Vm failures, moves; BAR sizing and moves, CF8/CFC accesses, the capability
chain. Run from the repository root after changing a format:

    python3 virtio/fuzz/make_seeds.py

It rewrites the seed_* files of virtio/fuzz/memory_service_corpus and
virtio/fuzz/pci_config_corpus and leaves every other file (saved crash
inputs, named crash-*) alone.
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------------------
# memory_service_fuzzer

REGISTER, MAP, UNMAP, MOVE, INJECT, UNREGISTER = range(6)
# Sources.
MEMFD1, MEMFD3, MEMFD8, MEMFD24, READ_ONLY, PIPE, CLOSED, NEGATIVE = range(8)
SHARED_ALLOC, FROM_FD_ALLOC, ANON_ALLOC, NULL_ALLOC = range(8, 12)
# Protection and cache bits of map's a5.
R, W, NC = 1, 2, 4
# Injected methods.
ADD_REGION, REMOVE_REGION, ADD_FD, REMOVE_FD = range(4)
# Vm configuration byte.
CAP_NC, CAP_RO, FOREIGN = 1, 2, 4


def config(caps, slots=17):
    assert 2 <= slots <= 17
    return bytes([caps | ((slots - 2) << 4)])


def rec(op, *args):
    assert len(args) <= 7
    return bytes([op] + list(args) + [0] * (7 - len(args)))


def register(page, pages, dynamic=False, noncoherent=False, flags=0):
    return rec(REGISTER, (1 if dynamic else 0) | (2 if noncoherent else 0),
               page & 0xff, page >> 8, pages, flags)


def map_(region, source, offset, pages, fd_offset=0, prot=R | W, flags=0):
    return rec(MAP, region, source, offset, pages, fd_offset, prot, flags)


def unmap(region, offset, flags=0):
    return rec(UNMAP, region, offset, flags)


def move(region, page, flags=0):
    return rec(MOVE, region, page & 0xff, page >> 8, flags)


def inject(method, skip=0):
    return rec(INJECT, method, skip)


def unregister(region):
    return rec(UNREGISTER, region)


MEMORY_SEEDS = {
    "prepared_basic": config(CAP_NC | CAP_RO) + b"".join([
        register(0x100, 16),
        map_(0, MEMFD3, 0, 3),
        map_(0, MEMFD8, 4, 2, fd_offset=3, prot=R),
        unmap(0, 0),
        map_(0, MEMFD1, 0, 1),
        move(0, 0x200),
        unmap(0, 4),
        unregister(0),
    ]),
    "dynamic_basic": config(CAP_NC | CAP_RO) + b"".join([
        register(0x100, 32, dynamic=True),
        map_(0, MEMFD24, 2, 4, fd_offset=4),
        map_(0, MEMFD8, 8, 8, prot=R | W | NC),
        map_(0, MEMFD3, 20, 3, prot=R),
        move(0, 0x300),
        unmap(0, 1, flags=1),
        unregister(0),
    ]),
    "cache_rules": config(0) + b"".join([
        register(0x100, 8, noncoherent=True),
        map_(0, MEMFD1, 0, 1),             # needs kMemNoncoherentDma
        register(0x200, 8),
        map_(1, MEMFD1, 0, 1, prot=R | W | NC),  # NC into coherent
        map_(1, MEMFD1, 0, 1),
        map_(1, MEMFD3, 2, 3, prot=R | W | NC),
        register(0x300, 8, dynamic=True),
        map_(2, MEMFD1, 0, 1, prot=R | W | NC),
        map_(2, MEMFD1, 0, 1, prot=R),     # read-only needs its capability
    ]),
    "cache_rules_with_caps": config(CAP_NC | CAP_RO) + b"".join([
        register(0x100, 8, noncoherent=True),
        map_(0, MEMFD1, 0, 1),             # coherent into non-coherent: fine
        map_(0, MEMFD3, 1, 3, prot=R | W | NC),
        register(0x200, 8, dynamic=True),
        map_(1, MEMFD1, 0, 1, prot=R | W | NC),
        map_(1, MEMFD1, 1, 1, prot=R),
    ]),
    "invalid_requests": config(CAP_NC | CAP_RO) + b"".join([
        register(0x100, 8),
        map_(0, MEMFD1, 0, 1, flags=1),    # unaligned offset
        map_(0, MEMFD1, 0, 1, flags=2),    # unaligned size
        map_(0, MEMFD1, 0, 1, flags=4),    # unaligned file offset
        map_(0, MEMFD1, 0, 0),             # size zero
        map_(0, MEMFD8, 6, 4),             # past the region's end
        map_(0, MEMFD3, 0, 3, fd_offset=2),  # past the file's end
        map_(0, MEMFD8, 0, 1, flags=8),    # file offset near 2^64
        map_(0, MEMFD8, 0, 1, flags=16),   # size near 2^64
        map_(0, NEGATIVE, 0, 1),
        map_(0, CLOSED, 0, 1),
        map_(0, PIPE, 0, 1),
        map_(0, READ_ONLY, 0, 1),          # read-only fd, write protection
        map_(0, READ_ONLY, 0, 1, prot=R),
        map_(0, MEMFD3, 0, 2),             # overlaps
        map_(2, MEMFD1, 0, 1),             # unknown region
        unmap(0, 5),                       # no mapping there
        unmap(0, 0, flags=2),
        unmap(0, 0),
        unmap(0, 0),                       # double remove
        unregister(1),
    ]),
    "placement": config(CAP_RO, slots=4) + b"".join([
        register(0, 4),                    # 0..: (no RAM here)
        register(0x10, 0),                 # size zero
        register(0x10, 4, flags=1),        # unaligned address
        register(0x10, 4, flags=2),        # unaligned size
        register(0xfffe, 4),               # past the limit
        register(0x2, 4),                  # overlaps region 0
        register(0x40, 4, dynamic=True),
        move(1, 0x2),                      # onto region 0
        move(1, 0x4),
        move(0, 0xfffc),
        move(0, 2, flags=2),               # limit - 2 pages: too short
        move(0, 0x41, flags=1),
    ]),
    "placement_foreign": (config(CAP_RO | FOREIGN, slots=4) + b"".join([
        register(0x8, 16),                 # overlaps the RAM at [0, 16)
        register(0x10, 16),
        map_(0, MEMFD1, 0, 1),
        move(0, 0x4),                      # onto the RAM
        move(0, 0x20),
    ])),
    "slots": config(CAP_RO, slots=3) + b"".join([
        register(0x100, 16, dynamic=True),
        map_(0, MEMFD1, 0, 1),
        map_(0, MEMFD1, 1, 1),
        map_(0, MEMFD1, 2, 1),
        map_(0, MEMFD1, 3, 1),             # no slot left
        register(0x200, 16),
        map_(1, MEMFD1, 0, 1),             # no slot for the arena
        unmap(0, 0),
        map_(1, MEMFD1, 0, 1),
        map_(1, MEMFD1, 1, 1),             # no new slot needed
    ]),
    "host_allocations": config(CAP_NC | CAP_RO) + b"".join([
        register(0x100, 16),
        register(0x200, 16, dynamic=True),
        map_(0, SHARED_ALLOC, 0, 2),
        map_(0, FROM_FD_ALLOC, 2, 4, fd_offset=8),
        map_(0, ANON_ALLOC, 6, 2),         # anonymous into prepared
        map_(0, NULL_ALLOC, 6, 2),
        map_(0, FROM_FD_ALLOC, 8, 4, fd_offset=22),  # past memfd 3's end
        map_(1, SHARED_ALLOC, 0, 2),
        map_(1, FROM_FD_ALLOC, 2, 4, fd_offset=8, prot=R),
        map_(1, ANON_ALLOC, 6, 2),
        map_(1, SHARED_ALLOC, 8, 2, flags=2),  # unaligned allocation
        move(0, 0x300),
        move(1, 0x400),
        unmap(0, 2),
        unmap(1, 6),
    ]),
    "inject_prepared": config(CAP_NC | CAP_RO) + b"".join([
        register(0x100, 16),
        inject(ADD_REGION), map_(0, MEMFD1, 0, 1),    # preparation refused
        inject(ADD_FD), map_(0, MEMFD1, 0, 1),        # first map undone
        inject(REMOVE_REGION), map_(0, PIPE, 0, 1),   # undo refused
        map_(0, MEMFD3, 1, 3),
        inject(REMOVE_FD), unmap(0, 1),
        inject(REMOVE_REGION), move(0, 0x200),        # nothing moves
        inject(ADD_REGION), move(0, 0x300),           # the arena is lost
        map_(0, MEMFD1, 0, 1),
        inject(REMOVE_REGION), unregister(0),
        unregister(0),
    ]),
    "inject_dynamic": config(CAP_NC | CAP_RO) + b"".join([
        register(0x100, 16, dynamic=True),
        map_(0, MEMFD1, 0, 1),
        map_(0, MEMFD3, 2, 3),
        map_(0, MEMFD8, 8, 8),
        inject(ADD_REGION), map_(0, MEMFD1, 6, 1),
        inject(REMOVE_REGION), unmap(0, 0),
        inject(ADD_REGION, skip=1), move(0, 0x200),   # second re-add refused
        inject(REMOVE_REGION, skip=2), move(0, 0x300),
        inject(REMOVE_REGION, skip=1), unregister(0),  # stops part way
        unregister(0),
    ]),
}

# ---------------------------------------------------------------------------
# pci_config_fuzzer

(DEV_READ, DEV_WRITE, BUS_ADDRESS, BUS_READ, BUS_WRITE, SIZE_BAR,
 PROGRAM_BAR, COMMAND) = range(8)


def pci_config(dynamic=False, length_pages=4, shmid=1, mapped=True,
               noncoherent=False):
    return bytes([(1 if dynamic else 0) | (2 if noncoherent else 0) |
                  (4 if mapped else 0), length_pages, shmid])


def pci_rec(op, *args):
    assert len(args) <= 7
    return bytes([op] + list(args) + [0] * (7 - len(args)))


def dev_read(offset):
    return pci_rec(DEV_READ, offset)


def dev_write(offset, size, value):
    return pci_rec(DEV_WRITE, offset, size, *struct.pack("<I", value))


def bus_address(value):
    return pci_rec(BUS_ADDRESS, *struct.pack("<I", value))


def bus_read(byte, size):
    return pci_rec(BUS_READ, byte, size)


def bus_write(byte, size, value):
    return pci_rec(BUS_WRITE, byte, size, *struct.pack("<I", value))


def size_bar(bar):
    return pci_rec(SIZE_BAR, bar)


def program_bar(page):
    return pci_rec(PROGRAM_BAR, *struct.pack("<I", page))


def command(value):
    return pci_rec(COMMAND, value & 0xff, value >> 8)


def config_address(device, function, offset, enable=True):
    return ((1 << 31) if enable else 0) | (device << 11) | (function << 8) | offset


MEMORY_ON = 0x2
PCI_SEEDS = {
    "read_everything": pci_config() + b"".join(
        dev_read(offset) for offset in range(0, 0x100, 4)),
    "size_bars": pci_config(length_pages=3) + b"".join([
        size_bar(2), dev_read(0x18), dev_read(0x1c),
        size_bar(3), dev_read(0x1c),
        size_bar(0), dev_read(0x10),
        program_bar(0x1000), command(MEMORY_ON),
        size_bar(2),                        # sizing with decoding on
        command(0), size_bar(2), size_bar(3), program_bar(0x2000),
        command(MEMORY_ON),
    ]),
    "bar_moves": pci_config(length_pages=16) + b"".join([
        command(MEMORY_ON),
        program_bar(0x4000),
        dev_write(0x18, 2, 0x5000),
        dev_write(0x1a, 2, 0x0001),
        dev_write(0x1c, 4, 0x1),            # above 4 GiB
        dev_write(0x1c, 4, 0x0),
        dev_write(0x18, 1, 0xff),
        command(0),
        program_bar(0x6000),
        command(MEMORY_ON | 0x4),
    ]),
    "read_only_registers": pci_config() + b"".join([
        dev_write(0x00, 4, 0xffffffff),
        dev_write(0x08, 4, 0xffffffff),
        dev_write(0x0c, 4, 0xffffffff),
        dev_write(0x2c, 4, 0xffffffff),
        dev_write(0x34, 1, 0x80),
        dev_write(0x40, 4, 0xffffffff),
        dev_write(0x44, 2, 0xffff),
        dev_write(0x4b, 1, 0xff),
        dev_write(0x50, 4, 0xffffffff),
        dev_write(0x06, 2, 0xffff),
        dev_write(0x3c, 1, 0x0b),
        dev_write(0x3d, 1, 0x01),
        dev_write(0xfe, 2, 0xffff),          # crosses nothing, unused space
        dev_write(0xff, 2, 0xffff),          # crosses the end
        dev_write(0x13, 4, 0xffffffff),      # crosses a register
    ]),
    "bus_accesses": pci_config() + b"".join([
        bus_address(config_address(1, 0, 0x00)), bus_read(0, 4),
        bus_read(2, 2), bus_read(3, 1), bus_read(3, 2),
        bus_address(config_address(1, 0, 0x04)), bus_write(0, 2, MEMORY_ON),
        bus_address(config_address(1, 0, 0x18)), bus_write(0, 4, 0xffffffff),
        bus_read(0, 4),
        bus_write(0, 4, 0x00300000),
        bus_address(config_address(1, 0, 0x34)), bus_read(0, 1),
        bus_address(config_address(2, 0, 0x00)), bus_read(0, 4),
        bus_address(config_address(1, 1, 0x00)), bus_read(0, 4),
        bus_address(config_address(1, 0, 0x00, enable=False)), bus_read(0, 4),
        bus_address(config_address(1, 0, 0x00) | (1 << 16)), bus_read(0, 4),
        bus_address(config_address(1, 0, 0x03)), bus_read(1, 2),
        pci_rec(BUS_ADDRESS, 0, 0, 0, 0x80, 2),  # a 2-byte CONFIG_ADDRESS
        bus_write(1, 3, 0xffffff),
    ]),
    "unmapped_half_page": pci_config(length_pages=0, mapped=False) + b"".join([
        command(MEMORY_ON), program_bar(0x10), program_bar(0x7),
        program_bar(0xffffffff), size_bar(2), size_bar(3),
    ]),
    "dynamic_device": pci_config(dynamic=True, length_pages=5,
                                 noncoherent=True) + b"".join([
        size_bar(2), dev_read(0x18), command(MEMORY_ON), program_bar(0x3000),
        dev_write(0x1c, 4, 0x2),
    ]),
}


def write_corpus(directory, seeds):
    path = os.path.join(HERE, directory)
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.startswith("seed_"):
            os.remove(os.path.join(path, name))
    for name, data in seeds.items():
        with open(os.path.join(path, "seed_" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    write_corpus("memory_service_corpus", MEMORY_SEEDS)
    write_corpus("pci_config_corpus", PCI_SEEDS)
