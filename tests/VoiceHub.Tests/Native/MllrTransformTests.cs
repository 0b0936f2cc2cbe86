using System.Globalization;
using VoiceHub.Native;
using VoiceHub.Native.Pocketsphinx;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Native;

/// <summary>MLLR transforms of the acoustic model are checked in managed code: pocketsphinx reads them without checking shapes.</summary>
public sealed class MllrTransformTests : IDisposable
{
    private const string ModelDirectory = "/usr/share/pocketsphinx/model/en-us";
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A transform as mllr_solve writes it: per stream, its length, A (identity), b, the variance scales.</summary>
    private static string Transform(int classes = 1, int[]? lengths = null, double bias = 0)
    {
        lengths ??= [13, 13, 13];
        var lines = new List<string> { classes.ToString(CultureInfo.InvariantCulture), lengths.Length.ToString(CultureInfo.InvariantCulture) };
        foreach (var n in lengths)
        {
            lines.Add(n.ToString(CultureInfo.InvariantCulture));
            lines.AddRange(Enumerable.Range(0, n).Select(r => string.Join(' ', Enumerable.Range(0, n).Select(c => r == c ? "1.000000" : "0.000000"))));
            lines.Add(string.Join(' ', Enumerable.Repeat(bias.ToString("0.000000", CultureInfo.InvariantCulture), n)));
            lines.Add(string.Join(' ', Enumerable.Repeat("1.0", n)));
        }

        return string.Join('\n', lines) + "\n";
    }

    [Fact]
    [Trait("needs", "native")]
    public void The_streams_of_a_model_come_from_the_header_of_its_means()
    {
        Assert.Equal([13, 13, 13], MllrTransform.StreamLengths(Path.Combine(ModelDirectory, "en-us")));

        // One stream of 39 (cepstra with both differences), as sphinxtrain writes a continuous model's means.
        using (var writer = new BinaryWriter(File.Create(_dir.File("means"))))
        {
            writer.Write("s3\nversion 1.0\n  endhdr\n"u8);
            foreach (var value in new[] { 0x11223344, 1000, 1, 8, 39, 1000 * 8 * 39 })
            {
                writer.Write(value);
            }
        }

        Assert.Equal([39], MllrTransform.StreamLengths(_dir.Path));
        File.WriteAllText(_dir.File("means"), "hello\n");
        Assert.Contains("not a sphinxtrain means file", Assert.Throws<ModelFormatException>(() => MllrTransform.StreamLengths(_dir.Path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_transform_as_mllr_solve_writes_it_passes_the_check()
    {
        File.WriteAllText(_dir.File("good.mllr"), Transform());
        MllrTransform.Check(_dir.File("good.mllr"), [13, 13, 13]);
    }

    [Theory]
    [InlineData("classes", "has several classes")]
    [InlineData("streams", "is for 1 feature streams, the acoustic model has 3")]
    [InlineData("length", "stream 2 has 12 coefficients, the acoustic model's 13")]
    [InlineData("truncated", "it ends before stream 3's coefficients")]
    [InlineData("nan", "'NaN' where stream 1's coefficients belongs is no finite number")]
    [InlineData("text", "'hello' where the class count belongs is no finite number")]
    [InlineData("trailing", "goes on after its last stream ('7')")]
    [InlineData("missing", "cannot read the MLLR transform")]
    public void A_transform_of_the_wrong_shape_or_not_one_at_all_is_refused_with_the_file_and_the_problem(string kind, string problem)
    {
        var path = _dir.File(kind + ".mllr");
        var good = Transform();
        switch (kind)
        {
            case "classes": File.WriteAllText(path, Transform(classes: 2)); break;
            case "streams": File.WriteAllText(path, Transform(lengths: [39])); break;
            case "length": File.WriteAllText(path, Transform(lengths: [13, 12, 13])); break;
            case "truncated": File.WriteAllText(path, good[..(good.Length * 3 / 4)]); break;
            case "nan": File.WriteAllText(path, good.Replace("0.000000", "NaN", StringComparison.Ordinal)); break;
            case "text": File.WriteAllText(path, "hello world\n"); break;
            case "trailing": File.WriteAllText(path, good + "7\n"); break;
            default: break;
        }

        var error = Assert.Throws<ModelFormatException>(() => MllrTransform.Check(path, [13, 13, 13]));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Softened_half_way_a_transform_moves_each_mean_half_as_far_and_at_zero_not_at_all()
    {
        File.WriteAllText(_dir.File("solved.mllr"), Transform(bias: 4).Replace("1.000000 0.000000", "3.000000 2.000000", StringComparison.Ordinal));
        MllrTransform.Check(_dir.File("solved.mllr"), [13, 13, 13]);

        MllrTransform.Soften(_dir.File("solved.mllr"), _dir.File("half.mllr"), 0.5);
        MllrTransform.Soften(_dir.File("solved.mllr"), _dir.File("none.mllr"), 0);

        var half = File.ReadAllLines(_dir.File("half.mllr"));
        Assert.StartsWith("2 1 0 ", half[3], StringComparison.Ordinal); // A's first row: 1 + (3 - 1)/2, (2 - 0)/2
        Assert.StartsWith("2 2 2 ", half[16], StringComparison.Ordinal); // b: 4/2
        static double[] Numbers(string text) => [.. text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(n => double.Parse(n, CultureInfo.InvariantCulture))];
        Assert.Equal(Numbers(Transform()), Numbers(File.ReadAllText(_dir.File("none.mllr")))); // the identity: A = I, b = 0
        MllrTransform.Check(_dir.File("half.mllr"), [13, 13, 13]);
    }

    [Fact]
    [Trait("needs", "native")]
    public void Debian_models_quantized_mixture_weights_unpack_to_weights_that_sum_to_one_per_senone_and_stream()
    {
        SendumpFile.WriteMixtureWeights(Path.Combine(ModelDirectory, "en-us", "sendump"), _dir.File("mixture_weights"));

        var bytes = File.ReadAllBytes(_dir.File("mixture_weights"));
        Assert.Equal("s3\nversion 1.0\n  endhdr\n", System.Text.Encoding.ASCII.GetString(bytes, 0, 24));
        Assert.Equal([0x11223344, 5126, 3, 128, 5126 * 3 * 128], Enumerable.Range(0, 5).Select(i => BitConverter.ToInt32(bytes, 24 + (4 * i))));
        Assert.Equal(24 + 20 + (5126 * 3 * 128 * 4), bytes.Length);
        foreach (var senone in new[] { 0, 2000, 5125 })
        {
            for (var stream = 0; stream < 3; stream++)
            {
                var start = 44 + (((senone * 3) + stream) * 128 * 4);
                var sum = Enumerable.Range(0, 128).Sum(d => BitConverter.ToSingle(bytes, start + (4 * d)));
                Assert.InRange(sum, 0.9, 1.1); // quantized to 1.0001^-1024 steps: about 10% at worst
            }
        }
    }

    [Fact]
    [Trait("needs", "native")]
    public void A_sendump_cut_short_is_refused_naming_the_file()
    {
        var original = File.ReadAllBytes(Path.Combine(ModelDirectory, "en-us", "sendump"));
        File.WriteAllBytes(_dir.File("sendump"), original.AsSpan(0, original.Length / 2).ToArray());

        var error = Assert.Throws<ModelFormatException>(() => SendumpFile.WriteMixtureWeights(_dir.File("sendump"), _dir.File("mixture_weights")));

        Assert.Contains(_dir.File("sendump"), error.Message, StringComparison.Ordinal);
        Assert.Contains("do not fill the file's", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("needs", "native")]
    public void The_decoder_applies_a_transform_and_refuses_a_bad_one_before_pocketsphinx_reads_it()
    {
        var audio = VoiceHub.Core.Audio.AudioFile.ReadMono16k(TestPaths.Fixture("coffee-iced-mocha.wav")).Select(s => (short)Math.Clamp(s * 32767, -32768, 32767)).ToArray();
        string Heard(string? transform)
        {
            var settings = transform is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["-mllr"] = transform };
            using var decoder = new PocketsphinxDecoder(new PocketsphinxOptions { ModelDirectory = ModelDirectory, Settings = settings });
            decoder.SetPhoneLoop("phones");
            decoder.Use("phones");
            return decoder.Decode(audio).Text;
        }

        File.WriteAllText(_dir.File("identity.mllr"), Transform());
        File.WriteAllText(_dir.File("shifted.mllr"), Transform(bias: 3));
        File.WriteAllText(_dir.File("other-model.mllr"), Transform(lengths: [39]));

        // Scores are relative to each frame's best, so a transform shows in the phones heard, not in the score.
        var plain = Heard(null);
        Assert.Equal(plain, Heard(_dir.File("identity.mllr")));
        Assert.NotEqual(plain, Heard(_dir.File("shifted.mllr")));
        Assert.Throws<ModelFormatException>(() => Heard(_dir.File("other-model.mllr")));
    }
}
