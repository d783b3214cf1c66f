"""gcc_cross_toolchain: a registrable C++ toolchain for a Debian cross gcc.

    gcc_cross_toolchain(
        name = "aarch64_linux_gnu",
        target_compatible_with = ["@platforms//os:linux", "@platforms//cpu:aarch64"],
        toolchain_identifier = "aarch64-linux-gnu-gcc-12",
        tool_prefix = "/usr/bin/aarch64-linux-gnu-",
        target_cpu = "aarch64",
        target_system_name = "aarch64-linux-gnu",
        builtin_include_directories = [...],
    )

makes <name>_config (a gcc_cross_toolchain_config, the rule below),
<name>_cc_toolchain and <name>_toolchain, the target WORKSPACE registers.

Debian's cross compilers are built with --with-sysroot=/ and multiarch, so
they find the target architecture's -dev packages (libabsl-dev:arm64, ...)
in /usr/include and /usr/lib/<triplet> with no sysroot flags; the flags here
follow Bazel's autoconfigured unix toolchain (what the host build uses).
Flags from .bazelrc (--copt, --cxxopt, --linkopt) come after these.

For Windows (target_os = "windows", Debian's mingw-w64): the gcc driver,
cpp and gcov carry `tool_suffix` ("-posix": the POSIX-threads variant, so
std::thread and std::mutex work), executables are named *.exe, the ELF-only
link flags and the stack protector (which needs libssp on mingw) are left
out, and `extra_link_flags` adds what the target needs (-static).
"""

load("@bazel_tools//tools/build_defs/cc:action_names.bzl", "ACTION_NAMES")
load(
    "@bazel_tools//tools/cpp:cc_toolchain_config_lib.bzl",
    "feature",
    "flag_group",
    "artifact_name_pattern",
    "flag_set",
    "tool_path",
    "with_feature_set",
)

_COMPILE_ACTIONS = [
    ACTION_NAMES.assemble,
    ACTION_NAMES.preprocess_assemble,
    ACTION_NAMES.c_compile,
    ACTION_NAMES.cpp_compile,
    ACTION_NAMES.linkstamp_compile,
    ACTION_NAMES.cpp_header_parsing,
    ACTION_NAMES.cpp_module_compile,
    ACTION_NAMES.cpp_module_codegen,
]

_LINK_ACTIONS = [
    ACTION_NAMES.cpp_link_executable,
    ACTION_NAMES.cpp_link_dynamic_library,
    ACTION_NAMES.cpp_link_nodeps_dynamic_library,
]

def _flags(actions, flags, mode = None):
    """A flag_set of `flags` for `actions`, only in compilation `mode` if given."""
    return flag_set(
        actions = actions,
        flag_groups = [flag_group(flags = flags)],
        with_features = [with_feature_set(features = [mode])] if mode else [],
    )

def _impl(ctx):
    prefix = ctx.attr.tool_prefix
    suffixed = ["gcc", "cpp", "gcov"]
    tool_paths = [
        tool_path(
            name = name,
            path = prefix + name + (ctx.attr.tool_suffix if name in suffixed else ""),
        )
        for name in ["gcc", "cpp", "ar", "ld", "nm", "objcopy", "objdump", "strip", "gcov", "dwp"]
    ] + [tool_path(name = "llvm-cov", path = "/bin/false")]
    windows = ctx.attr.target_os == "windows"

    # ELF and glibc specifics; mingw has neither (its -fstack-protector and
    # _FORTIFY_SOURCE need libssp).
    hardening_flags = [] if windows else ["-fstack-protector"]
    fortify_flags = [] if windows else ["-D_FORTIFY_SOURCE=1"]
    elf_link_flags = [] if windows else ["-Wl,-no-as-needed", "-Wl,-z,relro,-z,now"]

    features = [
        # mingw code is position independent by nature; Bazel then links
        # the static archives (no per-test DLLs).
        feature(name = "supports_pic", enabled = not windows),
        feature(name = "dbg"),
        feature(name = "opt"),
        feature(name = "fastbuild"),
        feature(
            name = "default_compile_flags",
            enabled = True,
            flag_sets = [
                _flags(_COMPILE_ACTIONS, [
                    "-U_FORTIFY_SOURCE",
                ] + hardening_flags + [
                    "-Wall",
                    "-Wunused-but-set-parameter",
                    "-Wno-free-nonheap-object",
                    "-fno-omit-frame-pointer",
                ]),
                _flags(_COMPILE_ACTIONS, ["-g"], mode = "dbg"),
                _flags(_COMPILE_ACTIONS, [
                    "-g0",
                    "-O2",
                ] + fortify_flags + [
                    "-DNDEBUG",
                    "-ffunction-sections",
                    "-fdata-sections",
                ], mode = "opt"),
            ],
        ),
        feature(
            name = "default_link_flags",
            enabled = True,
            flag_sets = [
                _flags(_LINK_ACTIONS, elf_link_flags + ctx.attr.extra_link_flags + [
                    "-pass-exit-codes",
                    "-lstdc++",
                    "-lm",
                ]),
                _flags(_LINK_ACTIONS, ["-Wl,--gc-sections"], mode = "opt"),
            ],
        ),
        # Last on the compile line, as in Bazel's own toolchains.
        feature(
            name = "unfiltered_compile_flags",
            enabled = True,
            flag_sets = [_flags(_COMPILE_ACTIONS, [
                "-no-canonical-prefixes",
                # Otherwise gcc names headers reached through a symlinked
                # -isystem directory by their resolved path, which Bazel's
                # inclusion check rejects as undeclared.
                "-fno-canonical-system-headers",
                "-Wno-builtin-macro-redefined",
                "-D__DATE__=\"redacted\"",
                "-D__TIMESTAMP__=\"redacted\"",
                "-D__TIME__=\"redacted\"",
            ])],
        ),
    ]

    artifact_name_patterns = []
    if windows:
        features.append(feature(name = "targets_windows", enabled = True))
        artifact_name_patterns = [
            artifact_name_pattern(category_name = "executable", prefix = "", extension = ".exe"),
            artifact_name_pattern(category_name = "dynamic_library", prefix = "", extension = ".dll"),
        ]

    return cc_common.create_cc_toolchain_config_info(
        ctx = ctx,
        features = features,
        cxx_builtin_include_directories = ctx.attr.builtin_include_directories,
        toolchain_identifier = ctx.attr.toolchain_identifier,
        host_system_name = "x86_64-unknown-linux-gnu",
        target_system_name = ctx.attr.target_system_name,
        target_cpu = ctx.attr.target_cpu,
        target_libc = ctx.attr.target_libc,
        compiler = "gcc",
        abi_version = "gcc",
        abi_libc_version = ctx.attr.target_libc,
        tool_paths = tool_paths,
        artifact_name_patterns = artifact_name_patterns,
    )

gcc_cross_toolchain_config = rule(
    implementation = _impl,
    attrs = {
        "toolchain_identifier": attr.string(mandatory = True),
        # Directory and triplet the tools' names start with.
        "tool_prefix": attr.string(mandatory = True),
        "target_cpu": attr.string(mandatory = True),
        "target_system_name": attr.string(mandatory = True),
        # What `<prefix>g++ -E -v -xc++ /dev/null` searches, for Bazel's
        # check that every included header is declared.
        "builtin_include_directories": attr.string_list(mandatory = True),
        # Appended to the gcc, cpp and gcov names ("-posix" for mingw-w64).
        "tool_suffix": attr.string(default = ""),
        "target_os": attr.string(default = "linux", values = ["linux", "windows"]),
        "target_libc": attr.string(default = "glibc"),
        # Link flags every link of the target needs.
        "extra_link_flags": attr.string_list(default = []),
    },
    provides = [CcToolchainConfigInfo],
)

def gcc_cross_toolchain(name, target_compatible_with, toolchain_identifier, **config):
    """The config, cc_toolchain and toolchain of one cross gcc (see above).

    The compilers are installed in /usr, not inputs of the build, so every
    file group of the cc_toolchain is the package's empty ":empty". It runs
    on Linux x86_64 hosts; `config` is the gcc_cross_toolchain_config's
    other attributes.
    """
    gcc_cross_toolchain_config(
        name = name + "_config",
        toolchain_identifier = toolchain_identifier,
        **config
    )
    native.cc_toolchain(
        name = name + "_cc_toolchain",
        all_files = ":empty",
        compiler_files = ":empty",
        dwp_files = ":empty",
        linker_files = ":empty",
        objcopy_files = ":empty",
        strip_files = ":empty",
        supports_param_files = True,
        toolchain_config = ":" + name + "_config",
        toolchain_identifier = toolchain_identifier,
    )
    native.toolchain(
        name = name + "_toolchain",
        exec_compatible_with = [
            "@platforms//os:linux",
            "@platforms//cpu:x86_64",
        ],
        target_compatible_with = target_compatible_with,
        toolchain = ":" + name + "_cc_toolchain",
        toolchain_type = "@bazel_tools//tools/cpp:toolchain_type",
    )
