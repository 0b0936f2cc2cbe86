namespace VoiceHub.Native.ModelFiles;

/// <summary>One tensor element type of ggml: how many elements a block holds and its size in bytes.</summary>
public sealed record GgmlType(int Id, string Name, int BlockSize, int TypeSize)
{
    public bool IsSupported => BlockSize > 0;

    /// <summary>Bytes of a tensor of this type with the given shape, or null when the first dimension does not fill whole blocks.</summary>
    public long? ByteSize(IReadOnlyList<long> shape)
    {
        if (!IsSupported || shape.Count == 0 || shape[0] % BlockSize != 0)
        {
            return null;
        }

        var bytes = (decimal)TypeSize * (shape[0] / BlockSize);
        for (var i = 1; i < shape.Count; i++)
        {
            bytes *= shape[i];
            if (bytes > long.MaxValue)
            {
                return null;
            }
        }

        return (long)bytes;
    }
}

/// <summary>
/// ggml's type table (ggml.h of the pinned engines; the ABI tests compare it with what each engine's
/// ggml reports). Removed types keep their ids with a block size of 0.
/// </summary>
public static class GgmlTypes
{
    /// <summary>Number of type ids whisper.cpp 1.9.1's ggml knows; later ids would hit an assertion there.</summary>
    public const int WhisperTypeCount = 42;

    /// <summary>Number of type ids the pinned llama.cpp's ggml knows.</summary>
    public const int LlamaTypeCount = 43;

    private static readonly GgmlType[] s_types =
    [
        new(0, "f32", 1, 4), new(1, "f16", 1, 2), new(2, "q4_0", 32, 18), new(3, "q4_1", 32, 20),
        new(4, "q4_2 (removed)", 0, 0), new(5, "q4_3 (removed)", 0, 0), new(6, "q5_0", 32, 22), new(7, "q5_1", 32, 24),
        new(8, "q8_0", 32, 34), new(9, "q8_1", 32, 36), new(10, "q2_K", 256, 84), new(11, "q3_K", 256, 110),
        new(12, "q4_K", 256, 144), new(13, "q5_K", 256, 176), new(14, "q6_K", 256, 210), new(15, "q8_K", 256, 292),
        new(16, "iq2_xxs", 256, 66), new(17, "iq2_xs", 256, 74), new(18, "iq3_xxs", 256, 98), new(19, "iq1_s", 256, 50),
        new(20, "iq4_nl", 32, 18), new(21, "iq3_s", 256, 110), new(22, "iq2_s", 256, 82), new(23, "iq4_xs", 256, 136),
        new(24, "i8", 1, 1), new(25, "i16", 1, 2), new(26, "i32", 1, 4), new(27, "i64", 1, 8),
        new(28, "f64", 1, 8), new(29, "iq1_m", 256, 56), new(30, "bf16", 1, 2), new(31, "q4_0_4_4 (removed)", 0, 0),
        new(32, "q4_0_4_8 (removed)", 0, 0), new(33, "q4_0_8_8 (removed)", 0, 0), new(34, "tq1_0", 256, 54), new(35, "tq2_0", 256, 66),
        new(36, "iq4_nl_4_4 (removed)", 0, 0), new(37, "iq4_nl_4_8 (removed)", 0, 0), new(38, "iq4_nl_8_8 (removed)", 0, 0), new(39, "mxfp4", 32, 17),
        new(40, "nvfp4", 64, 36), new(41, "q1_0", 128, 18), new(42, "q2_0", 64, 18),
    ];

    public static IReadOnlyList<GgmlType> All => s_types;

    public static GgmlType F32 => s_types[0];

    public static GgmlType F16 => s_types[1];

    /// <summary>The type for an id, or null when the id is unknown to an engine that knows <paramref name="typeCount"/> ids or the type was removed.</summary>
    public static GgmlType? Find(long id, int typeCount) =>
        id >= 0 && id < typeCount && id < s_types.Length && s_types[id].IsSupported ? s_types[id] : null;
}
