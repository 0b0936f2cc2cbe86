using VoiceHub.Core.Audio;
using VoiceHub.Tests.Support;

namespace VoiceHub.Tests.Audio;

/// <summary>44.1 and 48 kHz recordings become the engines' 16 kHz through libsoxr or NAudio's WDL resampler alike.</summary>
[Trait("needs", "native")]
public sealed class ResamplerTests
{
    [Theory]
    [InlineData(48000, ResamplerKind.Soxr)]
    [InlineData(48000, ResamplerKind.Wdl)]
    [InlineData(44100, ResamplerKind.Soxr)]
    [InlineData(44100, ResamplerKind.Wdl)]
    public void A_tone_keeps_its_length_pitch_and_level(int rate, ResamplerKind kind)
    {
        using var temp = new TempDirectory();
        const double Hz = 440;
        var seconds = 2.0;
        var tone = new float[(int)(rate * seconds)];
        for (var i = 0; i < tone.Length; i++)
        {
            tone[i] = (float)(0.5 * Math.Sin(2 * Math.PI * Hz * i / rate));
        }

        WavWriter.Write(temp.File("tone.wav"), tone, rate);

        var mono = AudioFile.ReadMono16k(temp.File("tone.wav"), resampler: kind);

        Assert.InRange(mono.Length, 32000 - 16, 32000 + 16);
        // Compare the middle against the ideal 16 kHz tone, allowing the converter's delay (search ±40 samples).
        var best = Enumerable.Range(-40, 81).Max(shift =>
        {
            double dot = 0, a = 0, b = 0;
            for (var i = 4000; i < 28000; i++)
            {
                var ideal = 0.5 * Math.Sin(2 * Math.PI * Hz * (i + shift) / 16000);
                dot += mono[i] * ideal;
                a += mono[i] * mono[i];
                b += ideal * ideal;
            }

            return dot / Math.Sqrt(a * b);
        });
        Assert.True(best > 0.999, $"correlation with the ideal tone {best:F5}");
        Assert.InRange(Math.Sqrt(mono.Skip(4000).Take(24000).Average(s => s * s)), 0.34, 0.37); // RMS of a 0.5 sine
    }
}
