"""The facts about this machine that hv's reports print beside their numbers.

One copy for bench_report, vs_qemu and overhead_report, which each take this
file as data and put its folder on sys.path:

  import host_facts
  usable, why = host_facts.kvm_usable()
  print(host_facts.cpu_model(), host_facts.kvm_modules(), host_facts.kernel())
"""
import fcntl
import os
import platform

# KVM_GET_API_VERSION: _IO(KVMIO = 0xAE, 0x00) (include/uapi/linux/kvm.h);
# every KVM since Linux 2.6.22 answers 12.
KVM_GET_API_VERSION = 0xAE00
KVM_API_VERSION = 12


def kvm_usable():
    """(True, "") when /dev/kvm opens read-write and speaks API 12, else
    (False, why)."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        return False, "/dev/kvm: %s" % e.strerror
    try:
        version = fcntl.ioctl(fd, KVM_GET_API_VERSION)
        if version != KVM_API_VERSION:
            return False, "/dev/kvm: KVM_GET_API_VERSION is %d, not %d" % (
                version, KVM_API_VERSION)
    except OSError as e:
        return False, "/dev/kvm: KVM_GET_API_VERSION: %s" % e.strerror
    finally:
        os.close(fd)
    return True, ""


def kvm_modules():
    """The KVM modules in /sys/module, which lists built-in modules as well
    as loaded ones (kvm_pvm is built into some hosts' kernels, so
    /proc/modules may lack it): e.g. "kvm, kvm_amd", or "none"."""
    try:
        names = sorted(n for n in os.listdir("/sys/module") if n.startswith("kvm"))
    except OSError:
        return "unknown (no /sys/module)"
    return ", ".join(names) or "none"


def cpu_model():
    """/proc/cpuinfo's first model name, else the machine type."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def kernel():
    """The running kernel's release, e.g. "6.1.0-27-amd64"."""
    return platform.release()
