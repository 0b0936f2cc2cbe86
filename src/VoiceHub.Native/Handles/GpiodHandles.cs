namespace VoiceHub.Native;

/// <summary>A <c>struct gpiod_chip</c> of libgpiod 1.x: an open /dev/gpiochipN.</summary>
public sealed class GpiodChipHandle : NativeHandle
{
    internal static GpiodChipHandle Wrap(nint pointer)
    {
        var handle = new GpiodChipHandle();
        handle.Initialize(pointer);
        return handle;
    }

    private protected override void Free(nint pointer) => Interop.Gpiod.gpiod_chip_close(pointer);
}

/// <summary>A requested line of a libgpiod 1.x chip; releasing it gives the line back. Keeps its chip open.</summary>
public sealed class GpiodLineHandle : NativeHandle
{
    internal static GpiodLineHandle Wrap(GpiodChipHandle chip, nint line)
    {
        var handle = new GpiodLineHandle();
        handle.SetParent(chip);
        handle.Initialize(line);
        return handle;
    }

    private protected override void Free(nint pointer) => Interop.Gpiod.gpiod_line_release(pointer);
}

/// <summary>A <c>struct gpiod_chip</c> of libgpiod 2.x.</summary>
public sealed class Gpiod3ChipHandle : NativeHandle
{
    internal static Gpiod3ChipHandle Wrap(nint pointer)
    {
        var handle = new Gpiod3ChipHandle();
        handle.Initialize(pointer);
        return handle;
    }

    private protected override void Free(nint pointer) => Interop.Gpiod3.gpiod_chip_close(pointer);
}

/// <summary>A <c>struct gpiod_line_request</c> of libgpiod 2.x (lines claimed together). Keeps its chip open.</summary>
public sealed class Gpiod3RequestHandle : NativeHandle
{
    internal static Gpiod3RequestHandle Wrap(Gpiod3ChipHandle chip, nint request)
    {
        var handle = new Gpiod3RequestHandle();
        handle.SetParent(chip);
        handle.Initialize(request);
        return handle;
    }

    private protected override void Free(nint pointer) => Interop.Gpiod3.gpiod_line_request_release(pointer);
}
