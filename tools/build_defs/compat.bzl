"""target_compatible_with values that several of hv's packages share.

    load("//tools/build_defs:compat.bzl", "LINUX_X86_64")

    cc_test(
        name = "guest_test",
        ...
        target_compatible_with = LINUX_X86_64,
    )

Each is a list of constraints or a select() whose default is
`@platforms//:incompatible`, so a target outside them reports SKIPPED.
"""

# Linux on x86_64 (x86 guest code in ELF objects, the SVM VM, gcc -static).
LINUX_X86_64 = [
    "@platforms//os:linux",
    "@platforms//cpu:x86_64",
]

# The OS layer's platforms: Linux and Windows, any CPU.
LINUX_OR_WINDOWS = select({
    "@platforms//os:linux": [],
    "@platforms//os:windows": [],
    "//conditions:default": ["@platforms//:incompatible"],
})

# Where KVM is built: Linux on x86_64 or aarch64.
LINUX_X86_64_OR_AARCH64 = select({
    "//tools/platforms:is_linux_x86_64": [],
    "//tools/platforms:is_linux_aarch64": [],
    "//conditions:default": ["@platforms//:incompatible"],
})

# Where a machine runs payloads: the above and Windows x86_64 (WHPX, HAXM).
HV_PLATFORMS = select({
    "//tools/platforms:is_linux_x86_64": [],
    "//tools/platforms:is_linux_aarch64": [],
    "//tools/platforms:is_windows_x86_64": [],
    "//conditions:default": ["@platforms//:incompatible"],
})

# Linux on aarch64 (aarch64 guest code in ELF objects).
LINUX_AARCH64 = [
    "@platforms//cpu:aarch64",
    "@platforms//os:linux",
]
