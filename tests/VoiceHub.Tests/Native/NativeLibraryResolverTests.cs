using VoiceHub.Native;

namespace VoiceHub.Tests.Native;

[Trait("needs", "root")]
[Trait("needs", "native")]
public sealed class NativeLibraryResolverTests
{
    [Fact]
    public void A_missing_system_library_names_the_debian_package()
    {
        // libgpiod.so.3 (the v2 API) is not packaged in bookworm, so it is absent on every test machine.
        var error = Assert.Throws<NativeLibraryNotFoundException>(() => NativeLibraryResolver.Load("gpiod3"));

        Assert.Equal("libgpiod.so.3: not installed: run: sudo apt-get install -y libgpiod3", error.Message);
    }

    [Fact]
    public void An_installed_system_library_is_found_by_its_soname()
    {
        Assert.Equal("libc.so.6", NativeLibraryResolver.FindSystemLibrary("libc", out var packages));
        Assert.Equal("libc6", packages);
    }
}
