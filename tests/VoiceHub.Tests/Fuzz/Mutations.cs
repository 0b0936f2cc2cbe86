using System.Buffers.Binary;
using CsCheck;

namespace VoiceHub.Tests.Fuzz;

/// <summary>One change to a valid input, at a position given as a fraction of its length (so it scales with the input).</summary>
public abstract record Mutation
{
    public abstract byte[] Apply(byte[] input);

    protected static int At(double fraction, int length) => Math.Clamp((int)(fraction * length), 0, length);
}

public sealed record FlipByte(double Where, byte Value) : Mutation
{
    public override byte[] Apply(byte[] input)
    {
        if (input.Length == 0)
        {
            return input;
        }

        var output = (byte[])input.Clone();
        output[At(Where, input.Length - 1)] ^= Value == 0 ? (byte)1 : Value;
        return output;
    }
}

public sealed record Truncate(double Where) : Mutation
{
    public override byte[] Apply(byte[] input) => input[..At(Where, input.Length)];
}

public sealed record Insert(double Where, byte[] Bytes) : Mutation
{
    public override byte[] Apply(byte[] input)
    {
        var at = At(Where, input.Length);
        return [.. input.AsSpan(0, at), .. Bytes, .. input.AsSpan(at)];
    }
}

public sealed record Delete(double Where, int Count) : Mutation
{
    public override byte[] Apply(byte[] input)
    {
        var at = At(Where, input.Length);
        var end = Math.Min(input.Length, at + Count);
        return [.. input.AsSpan(0, at), .. input.AsSpan(end)];
    }
}

/// <summary>A boundary integer (0, 1, -1, max, min, a huge count) over a 4- or 8-byte field: how headers lie.</summary>
public sealed record InterestingInteger(double Where, ulong Value, bool Wide) : Mutation
{
    public override byte[] Apply(byte[] input)
    {
        var width = Wide ? 8 : 4;
        if (input.Length < width)
        {
            return input;
        }

        var output = (byte[])input.Clone();
        var at = At(Where, (input.Length - width) / 4) * 4; // fields in these formats are 4-byte aligned more often than not
        if (Wide)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(output.AsSpan(at), Value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(output.AsSpan(at), (uint)Value);
        }

        return output;
    }
}

/// <summary>A piece of the input copied over another place (repeats a chunk, a key, a header).</summary>
public sealed record CopyWithin(double From, double To, int Count) : Mutation
{
    public override byte[] Apply(byte[] input)
    {
        var from = At(From, input.Length);
        var count = Math.Min(Count, input.Length - from);
        var to = At(To, input.Length);
        return [.. input.AsSpan(0, to), .. input.AsSpan(from, count), .. input.AsSpan(to)];
    }
}

public static class MutationGen
{
    private static readonly ulong[] s_interesting = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000, long.MaxValue, ulong.MaxValue, 1000, 65536];

    // Bytes that mean something in YAML and JSON, so text mutations reach the parsers' corners.
    private static readonly byte[] s_syntax = "[]{}:,-\"'&*!|>%@`#?\n \t\\0.~"u8.ToArray();

    public static Gen<Mutation> Binary { get; } = Gen.OneOf<Mutation>(
        Gen.Select(Gen.Double[0, 1], Gen.Byte, (w, b) => (Mutation)new FlipByte(w, b)),
        Gen.Double[0, 1].Select(w => (Mutation)new Truncate(w)),
        Gen.Select(Gen.Double[0, 1], Gen.Byte.Array[1, 16], (w, b) => (Mutation)new Insert(w, b)),
        Gen.Select(Gen.Double[0, 1], Gen.Int[1, 64], (w, n) => (Mutation)new Delete(w, n)),
        Gen.Select(Gen.Double[0, 1], Gen.Int[0, s_interesting.Length - 1], Gen.Bool, (w, i, wide) => (Mutation)new InterestingInteger(w, s_interesting[i], wide)),
        Gen.Select(Gen.Double[0, 1], Gen.Double[0, 1], Gen.Int[1, 256], (f, t, n) => (Mutation)new CopyWithin(f, t, n)));

    public static Gen<Mutation> Text { get; } = Gen.OneOf<Mutation>(
        Binary,
        Gen.Select(Gen.Double[0, 1], Gen.Int[0, s_syntax.Length - 1].Array[1, 4], (w, i) => (Mutation)new Insert(w, [.. i.Select(x => s_syntax[x])])),
        Gen.Select(Gen.Double[0, 1], Gen.Int[0, s_syntax.Length - 1], (w, i) => (Mutation)new FlipByte(w, s_syntax[i])));

    /// <summary>A valid input with one to eight changes applied.</summary>
    public static Gen<byte[]> Of(byte[] valid, Gen<Mutation> mutation) =>
        mutation.Array[1, 8].Select(ms => ms.Aggregate(valid, (input, m) => m.Apply(input)));
}
