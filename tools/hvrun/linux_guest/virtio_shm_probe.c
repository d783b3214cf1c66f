/* virtio_shm_probe: runs inside a Linux guest of hvrun (hvrun_linux_boot_test).
 *
 *   virtio_shm_probe /sys/bus/pci/devices/0000:00:03.0
 *
 * Walks the device's PCI capability list (its sysfs `config` file), prints
 * each virtio shared-memory capability (virtio 1.2, 4.1.4.7: vendor-specific
 * capability 0x09 with cfg_type 8, a struct virtio_pci_cap64), then maps
 * the BAR the first one names through sysfs (resourceN) and prints the
 * NUL-terminated text at the region's start. Built static: the guest has no
 * shared libraries. Exits 1 with a message on any failure. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t le32(const uint8_t* p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: virtio_shm_probe /sys/bus/pci/devices/DEVICE\n");
    return 1;
  }
  char path[512];
  snprintf(path, sizeof path, "%s/config", argv[1]);
  uint8_t config[256];
  int fd = open(path, O_RDONLY);
  if (fd < 0 || read(fd, config, sizeof config) != (ssize_t)sizeof config) {
    perror(path);
    return 1;
  }
  close(fd);
  if ((config[0x06] & 0x10) == 0) {
    printf("virtio-shm-probe: no capability list\n");
    return 1;
  }
  int found = 0, bar = -1;
  uint64_t offset = 0, length = 0;
  for (uint8_t at = config[0x34] & 0xfc, hops = 0; at != 0 && hops < 48;
       at = config[at + 1] & 0xfc, ++hops) {
    if (at > 256 - 24) break;
    const uint8_t* cap = config + at;
    if (cap[0] != 0x09 || cap[3] != 8 || cap[2] < 24) continue;  /* shared memory */
    const uint64_t cap_offset = le32(cap + 8) | (uint64_t)le32(cap + 16) << 32;
    const uint64_t cap_length = le32(cap + 12) | (uint64_t)le32(cap + 20) << 32;
    printf("virtio-shm-probe: shared memory capability at %#x: id %u, BAR %u, offset %#llx, "
           "length %#llx\n",
           at, cap[5], cap[4], (unsigned long long)cap_offset, (unsigned long long)cap_length);
    if (!found) {
      found = 1;
      bar = cap[4];
      offset = cap_offset;
      length = cap_length;
    }
  }
  if (!found) {
    printf("virtio-shm-probe: no shared memory capability\n");
    return 1;
  }
  snprintf(path, sizeof path, "%s/resource%d", argv[1], bar);
  fd = open(path, O_RDONLY);
  struct stat info;
  if (fd < 0 || fstat(fd, &info) != 0) {
    perror(path);
    return 1;
  }
  const long page = sysconf(_SC_PAGESIZE);
  const uint64_t map_offset = offset & ~(uint64_t)(page - 1);
  size_t size = (size_t)page;
  if (length < (uint64_t)size || offset + size > (uint64_t)info.st_size) {
    printf("virtio-shm-probe: the region [%#llx, +%#llx) does not fit %s (%lld bytes)\n",
           (unsigned long long)offset, (unsigned long long)length, path,
           (long long)info.st_size);
    return 1;
  }
  const uint8_t* base = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, (off_t)map_offset);
  if (base == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  const char* text = (const char*)base + (offset - map_offset);
  printf("virtio-shm-probe: blob: %.*s\n", (int)strnlen(text, size - (offset - map_offset)),
         text);
  return 0;
}
