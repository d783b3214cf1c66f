"""hv_cc_test: a cc_test with hv's defaults.

    load("//tools/build_defs:cc.bzl", "hv_cc_test")

    hv_cc_test(
        name = "fault_plan_test",
        deps = [":fault_plan", "@debian//:gmock_main"],
    )

is `cc_test(name = "fault_plan_test", size = "small",
srcs = ["fault_plan_test.cc"], ...)`: hv's unit tests are small (Abseil's
style), and a test of one file is named after it. Every other attribute
passes through.
"""

def hv_cc_test(name, srcs = None, size = "small", **kwargs):
    native.cc_test(
        name = name,
        size = size,
        srcs = [name + ".cc"] if srcs == None else srcs,
        **kwargs
    )
