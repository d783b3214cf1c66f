"""apt_source_repository: a Debian source package unpacked in hv's cache.

    apt_source_repository(
        name = "abseil_src",
        source_package = "abseil",
    )

The tree is $HV_SRC_CACHE/<source_package> (default ~/.cache/hv/src/...),
which tools/toolchains/fetch_debian_sources.sh fills when tools/bazel is run
with --config=windows. This rule downloads nothing: it links the unpacked
tree's top-level entries into the repository and, when `build_file` is
given, uses it as the repository's BUILD file. It runs only when a target
of the repository is needed, so builds that never use it (the default and
aarch64 builds) work on a machine where the cache does not exist; a build
that needs it and finds no tree fails with the command that fetches it.
"""

def _cache_dir(repository_ctx):
    env = repository_ctx.os.environ
    if env.get("HV_SRC_CACHE"):
        return env["HV_SRC_CACHE"]
    base = env.get("XDG_CACHE_HOME") or (env.get("HOME", "") + "/.cache")
    return base + "/hv/src"

def _impl(repository_ctx):
    tree = repository_ctx.path(_cache_dir(repository_ctx) + "/" + repository_ctx.attr.source_package)
    stamp = tree.get_child(".hv-source")
    if not stamp.exists:
        fail(("Debian source package '{pkg}' is not unpacked in {tree}. " +
              "Run the build through tools/bazel with the configuration that needs it " +
              "(--config=windows, --config=aarch64), which fetches it " +
              "(tools/toolchains/fetch_debian_sources.sh, fetch_debian_debs.sh).").format(
            pkg = repository_ctx.attr.source_package,
            tree = tree,
        ))

    # Re-run when the stamp changes (another version fetched).
    repository_ctx.read(stamp)
    for entry in tree.readdir():
        if entry.basename in ("BUILD", "BUILD.bazel", "WORKSPACE", "WORKSPACE.bazel") and \
           repository_ctx.attr.build_file:
            continue
        repository_ctx.symlink(entry, entry.basename)
    if repository_ctx.attr.build_file:
        repository_ctx.symlink(repository_ctx.attr.build_file, "BUILD.bazel")
    if not repository_ctx.path("WORKSPACE").exists:
        repository_ctx.file("WORKSPACE", "workspace(name = \"{}\")\n".format(repository_ctx.name))

apt_source_repository = repository_rule(
    implementation = _impl,
    attrs = {
        # The Debian source package's name (the directory in the cache).
        "source_package": attr.string(mandatory = True),
        # A BUILD file replacing the package's own (optional).
        "build_file": attr.label(allow_single_file = True),
    },
    environ = ["HV_SRC_CACHE", "XDG_CACHE_HOME", "HOME"],
    local = True,
)
