"""hv_kvm_test: a C++ test that needs a real /dev/kvm, wherever it runs.

    load("//hypervisor/kvm:kvm_test.bzl", "hv_kvm_test")

    hv_kvm_test(
        name = "kvm_vm_test",
        srcs = ["kvm_vm_test.cc"],
        deps = [":kvm", "@debian//:gmock_main"],
    )

Builds the test as `<name>_bin` and runs it through run_with_kvm.sh: directly
where the host has a usable /dev/kvm and can run the binary natively;
otherwise (a machine that is itself a nested PVM guest, say, or an aarch64
binary cross-built on an x86_64 host) on the standard KVM of a throwaway
QEMU VM of the binary's own architecture, read from its ELF header
(tools/vmtest: an SVM KVM for x86_64, an arm64 KVM at emulated EL2 for
aarch64), saying so on stderr. Either way the test exercises a real KVM,
never a fake or qemu-user, and it fails if neither is available. Tagged
`requires_kvm`.

The target architecture is the test's own choice, since a KVM test runs
guest code of one architecture: the default is x86_64; a test of the
aarch64 backend passes `target_compatible_with =
["@platforms//cpu:aarch64"]` and runs with `tools/bazel test
--config=aarch64-kvm ...` (static build, one VM at a time) or under plain
`--config=aarch64` (dynamic build: the runner copies the arm64 shared
libraries into the VM). Every other OS (--config=windows) skips it.
"""

def hv_kvm_test(
        name,
        srcs,
        deps = [],
        data = [],
        size = "medium",
        tags = [],
        args = [],
        env = {},
        flaky = False,
        # The architecture of the test's guest code (see above).
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
        srcs = ["//hypervisor/kvm:run_with_kvm.sh"],
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
        # e.g. HV_KVM_TEST_IN_VM=1 for a test that must always run in the VM.
        env = env,
        flaky = flaky,
    )
