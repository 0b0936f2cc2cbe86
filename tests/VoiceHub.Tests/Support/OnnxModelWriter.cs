using System.Text;

namespace VoiceHub.Tests.Support;

/// <summary>
/// Writes a tiny ONNX model (protobuf by hand: the fields onnxruntime reads) whose input and
/// output sizes are left open, as exporters write them with dynamic axes: a file that passes a
/// shape check and fails only when run on the wrong amount of data.
/// </summary>
public static class OnnxModelWriter
{
    /// <summary>
    /// A wake head made for windows of <paramref name="embeddings"/> embeddings of <paramref name="width"/>:
    /// input "x" (float, rank 3, every size open) plus a [embeddings, width] weight, summed to one
    /// score "y" ([1, 1, 1]). Run on a window of another length, the addition cannot broadcast.
    /// </summary>
    public static void WriteHead(string path, int embeddings, int width)
    {
        var weight = Message(Packed(1, [embeddings, width]), Varint(2, 1), Text(8, "w"), Field(9, new byte[embeddings * width * sizeof(float)])); // dims, FLOAT, name, raw_data
        var add = Message(Text(1, "x"), Text(1, "w"), Text(2, "sum"), Text(3, "add"), Text(4, "Add"));
        var reduce = Message(Text(1, "sum"), Text(2, "y"), Text(3, "score"), Text(4, "ReduceSum"));
        var graph = Message(Field(1, add), Field(1, reduce), Text(2, "head"), Field(5, weight), Field(11, OpenFloat("x", 3)), Field(12, OpenFloat("y", 3)));
        var opset = Message(Text(1, string.Empty), Varint(2, 13));
        File.WriteAllBytes(path, Message(Varint(1, 8), Text(2, "voicehub-tests"), Field(7, graph), Field(8, opset)));
    }

    /// <summary>A float tensor's value info with <paramref name="rank"/> sizes, each a named open one.</summary>
    private static byte[] OpenFloat(string name, int rank)
    {
        var dims = Enumerable.Range(0, rank).Select(i => Field(1, Text(2, $"{name}{i}"))).ToArray(); // dim { dim_param }
        var tensorType = Message(Varint(1, 1), Field(2, Message(dims))); // elem_type FLOAT, shape
        return Message(Text(1, name), Field(2, Field(1, tensorType))); // name, type { tensor_type }
    }

    private static byte[] Message(params byte[][] fields) => [.. fields.SelectMany(f => f)];

    private static byte[] Field(int number, byte[] body) => [.. Key(number, 2), .. VarintBytes((ulong)body.Length), .. body];

    private static byte[] Text(int number, string text) => Field(number, Encoding.UTF8.GetBytes(text));

    private static byte[] Varint(int number, long value) => [.. Key(number, 0), .. VarintBytes((ulong)value)];

    private static byte[] Packed(int number, long[] values) => Field(number, [.. values.SelectMany(v => VarintBytes((ulong)v))]);

    private static byte[] Key(int number, int wireType) => VarintBytes((ulong)((number << 3) | wireType));

    private static byte[] VarintBytes(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            var low = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value == 0 ? low : (byte)(low | 0x80));
        }
        while (value != 0);
        return [.. bytes];
    }
}
