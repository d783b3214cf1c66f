"""hv_fuzzer: a libFuzzer target plus a regression test over its corpus.

    hv_fuzzer(
        name = "spec_parser_fuzzer",
        srcs = ["spec_parser_fuzzer.cc"],
        corpus = glob(["spec_parser_corpus/*"]),
        deps = ["//hypervisor"],
    )

makes `:spec_parser_fuzzer`, a libFuzzer binary under --config=fuzz and a
corpus replayer otherwise, and `:spec_parser_fuzzer_regression`, a test that
replays every corpus file (seeds and saved crash inputs) in every
configuration, sanitizers included.
"""

def hv_fuzzer(name, srcs, corpus, deps = [], **kwargs):
    native.cc_binary(
        name = name,
        srcs = srcs,
        testonly = True,
        linkopts = select({
            "//tools/platforms:fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        deps = deps + select({
            "//tools/platforms:fuzzing": [],
            "//conditions:default": ["//testing/fuzz:standalone_fuzz_main"],
        }),
        tags = ["fuzzer"],
        **kwargs
    )
    native.sh_test(
        name = name + "_regression",
        size = "small",
        srcs = ["//testing/fuzz:replay_corpus.sh"],
        args = ["$(location :%s)" % name] + ["$(location %s)" % c for c in corpus],
        data = [":" + name] + corpus,
    )
