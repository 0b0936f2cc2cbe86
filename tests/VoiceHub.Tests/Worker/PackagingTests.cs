using System.Diagnostics;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Worker;

/// <summary>
/// The .deb and the SD-card image, built by the scripts in image-build/ (root and Debian's archive
/// needed, as in CI), then the arm64 .deb. One test builds them in turn: they share the dotnet
/// publish and the cached debootstrap root, and two at once would only fight over two cores.
/// </summary>
[Trait("needs", "root")]
[Trait("needs", "native")]
public sealed class PackagingTests
{
    private static Task<string> Script(string name, params string[] arguments) =>
        Run(Path.Combine(TestPaths.Root, "image-build", name), arguments);

    [Fact]
    public async Task The_deb_installs_and_purges_cleanly_and_the_image_has_its_partitions_unit_and_config()
    {
        var deb = (await Script("build-deb.sh")).Trim();
        Assert.EndsWith("_amd64.deb", deb, StringComparison.Ordinal);

        var install = await Script("test-deb.sh", deb);
        Assert.Contains("ok   voicehub.service enabled", install, StringComparison.Ordinal);
        Assert.Contains("ok   the installed voicehub doctor finds both engines", install, StringComparison.Ordinal);
        Assert.Contains("ok   purged: nothing left", install, StringComparison.Ordinal);

        var image = (await Script("build-image.sh", "--deb", deb)).Trim().Split('\n')[^1];
        var verified = await Script("verify-image.sh", image);
        Assert.Contains("ok   GPT with partitions: vh-boot vh-root vh-data", verified, StringComparison.Ordinal);
        Assert.Contains("verify-image.sh: PASS", verified, StringComparison.Ordinal);

        // The Raspberry Pi's package, structurally (its image takes half an hour to build and boot:
        // image-build/build-image.sh --arch arm64 and boot-qemu.sh --arch arm64 are scripts).
        using var temp = new TempDirectory();
        var arm64 = (await Script("build-deb.sh", "--arch", "arm64", "--out", temp.Path)).Trim();
        Assert.EndsWith("_arm64.deb", arm64, StringComparison.Ordinal);
        await Run("dpkg-deb", "-x", arm64, temp.File("root"));
        var lib = temp.File("root/usr/lib/voicehub");
        foreach (var binary in new[] { "VoiceHub.App", "runtimes/linux-arm64/native/libllama.so", "runtimes/linux-arm64/libwhisper.so", "libSystem.Native.so" })
        {
            Assert.Contains("ARM aarch64", await Run("file", "-b", Path.Combine(lib, binary)), StringComparison.Ordinal);
        }

        Assert.Equal(["linux-arm64"], Directory.GetDirectories(Path.Combine(lib, "runtimes")).Select(Path.GetFileName));
    }

    private static async Task<string> Run(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var errors = process.StandardError.ReadToEndAsync();
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{Path.GetFileName(file)} exited {process.ExitCode}:\n{output}\n{await errors}");
        return output;
    }
}
