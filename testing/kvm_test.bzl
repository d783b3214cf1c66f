"""hv_kvm_test: a C++ test that needs a real /dev/kvm, wherever it runs.

    hv_kvm_test(
        name = "kvm_vm_test",
        srcs = ["kvm_vm_test.cc"],
        deps = ["//hypervisor/kvm", "@debian//:gmock_main"],
    )

The test binary runs directly where the host has a usable /dev/kvm and can
run it natively. Otherwise (a machine that is itself a nested PVM guest, for
one, or an aarch64 binary cross-built on an x86_64 host) it runs on the
standard KVM of a throwaway QEMU VM of the binary's own architecture, read
from its ELF header (tools/vmtest; aarch64: a real arm64 KVM at emulated
EL2), and says so on stderr: the test still exercises a real KVM, never a
fake or qemu-user, and it fails if neither is available. Tagged
`requires_kvm`.

aarch64 tests pass `target_compatible_with = ["@platforms//cpu:aarch64"]`
and run with `tools/bazel test --config=aarch64-kvm ...` (static build, one
VM at a time) or under plain `--config=aarch64` (dynamic build: the runner
copies the arm64 shared libraries into the VM).
"""

def hv_kvm_test(
        name,
        srcs,
        deps = [],
        data = [],
        size = "medium",
        tags = [],
        args = [],
        # Most KVM tests run x86_64 guest programs, so x86_64 is the
        # default; aarch64 tests pass @platforms//cpu:aarch64 (see above).
        target_compatible_with = ["@platforms//cpu:x86_64"],
        **kwargs):
    # KVM is Linux: every other OS (--config=windows) skips these tests.
    target_compatible_with = target_compatible_with + ["@platforms//os:linux"]
    native.cc_binary(
        name = name + "_bin",
        testonly = True,
        srcs = srcs,
        deps = deps,
        data = data,
        tags = ["manual"],
        target_compatible_with = target_compatible_with,
        **kwargs
    )
    native.sh_test(
        name = name,
        size = size,
        target_compatible_with = target_compatible_with,
        srcs = ["//testing:run_with_kvm.sh"],
        args = ["$(rootpath :%s_bin)" % name] + args,
        data = [
            ":" + name + "_bin",
            "//tools/vmtest:run_in_vm",
        ],
        # Unsandboxed: where the test goes to a VM, QEMU and the runner's
        # kernel cache (HV_VMTEST_CACHE, set by tools/bazel) live outside
        # the sandbox.
        # "external": the result depends on the hypervisor the test meets,
        # which Bazel cannot see, so it is never taken from a cache.
        tags = tags + ["requires_kvm", "no-sandbox", "external"],
    )
