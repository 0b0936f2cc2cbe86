using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;

namespace VoiceHub.App.Cli;

/// <summary>
/// A small line chart rendered to PNG without a graphics library: axes with a grid and tick
/// labels (a 5x7 pixel font), lines and points in data coordinates (x from 0, y from 0 to 1).
/// </summary>
public sealed class PngChart
{
    private const int Left = 56;
    private const int Right = 16;
    private const int Top = 28;
    private const int Bottom = 36;

    private static readonly Dictionary<char, string> s_font = new()
    {
        ['0'] = "01110100011001110101110011000101110", ['1'] = "00100011000010000100001000010001110", ['2'] = "01110100010000100010001000100011111",
        ['3'] = "11110000010000101110000010000111110", ['4'] = "00010001100101010010111110001000010", ['5'] = "11111100001111000001000011000101110",
        ['6'] = "00110010001000011110100011000101110", ['7'] = "11111000010001000100010000100001000", ['8'] = "01110100011000101110100011000101110",
        ['9'] = "01110100011000101111000010001001100", ['.'] = "00000000000000000000000000110001100", ['%'] = "11000110010001000100010001001100011",
        ['/'] = "00001000010001000100010001000010000", ['-'] = "00000000000000011111000000000000000", [':'] = "00000011000110000000011000110000000",
        ['"'] = "01010010100000000000000000000000000", [' '] = "00000000000000000000000000000000000", ['('] = "00010001000100001000010000010000010",
        [')'] = "01000001000001000010000100010001000",
    };

    private readonly int _width;
    private readonly int _height;
    private readonly byte[] _pixels;
    private readonly List<(List<(double X, double Y)> Points, (int R, int G, int B) Color, bool Line)> _series = [];
    private readonly string _title;

    public PngChart(int width, int height, string title)
    {
        _width = width;
        _height = height;
        _title = title;
        _pixels = new byte[width * height * 3];
        Array.Fill(_pixels, (byte)255);
    }

    public void Line(List<(double X, double Y)> points, (int R, int G, int B) color) => _series.Add((points, color, true));

    public void Points(List<(double X, double Y)> points, (int R, int G, int B) color) => _series.Add((points, color, false));

    public byte[] Encode()
    {
        var maxX = Math.Max(1, _series.SelectMany(s => s.Points).Select(p => p.X).DefaultIfEmpty(1).Max());
        maxX = NiceCeiling(Math.Min(maxX, 50));
        int X(double x) => Left + (int)(Math.Min(x, maxX) / maxX * (_width - Left - Right));
        int Y(double y) => _height - Bottom - (int)(Math.Clamp(y, 0, 1) * (_height - Top - Bottom));

        for (var i = 0; i <= 10; i++)
        {
            var y = Y(i / 10.0);
            HorizontalLine(Left, _width - Right, y, i == 0 ? (0, 0, 0) : (225, 225, 225));
            if (i % 2 == 0)
            {
                Text(Left - 34, y - 3, $"{i * 10}%", (0, 0, 0));
            }
        }

        for (var i = 0; i <= 5; i++)
        {
            var x = X(maxX * i / 5);
            VerticalLine(x, Top, _height - Bottom, i == 0 ? (0, 0, 0) : (225, 225, 225));
            Text(x - 8, _height - Bottom + 6, (maxX * i / 5).ToString("0.#", CultureInfo.InvariantCulture), (0, 0, 0));
        }

        Text(Left, 8, _title.ToUpperInvariant().Replace("MISS RATE", "MISS", StringComparison.Ordinal), (0, 0, 0));
        Text(_width - Right - 130, _height - 14, "FALSE ALARMS / H", (0, 0, 0));
        foreach (var (points, color, line) in _series)
        {
            var ordered = points.OrderBy(p => p.X).ThenByDescending(p => p.Y).ToList();
            for (var i = 0; i < ordered.Count; i++)
            {
                var (px, py) = (X(ordered[i].X), Y(ordered[i].Y));
                Dot(px, py, line ? 2 : 4, color);
                if (line && i > 0)
                {
                    Segment(X(ordered[i - 1].X), Y(ordered[i - 1].Y), px, py, color);
                }
            }
        }

        return Png();
    }

    private static double NiceCeiling(double value)
    {
        foreach (var step in new[] { 1.0, 2, 5, 10, 20, 50 })
        {
            if (value <= step)
            {
                return step;
            }
        }

        return 50;
    }

    private void Set(int x, int y, (int R, int G, int B) c)
    {
        if (x < 0 || y < 0 || x >= _width || y >= _height)
        {
            return;
        }

        var i = ((y * _width) + x) * 3;
        _pixels[i] = (byte)c.R;
        _pixels[i + 1] = (byte)c.G;
        _pixels[i + 2] = (byte)c.B;
    }

    private void HorizontalLine(int x0, int x1, int y, (int, int, int) c)
    {
        for (var x = x0; x <= x1; x++)
        {
            Set(x, y, c);
        }
    }

    private void VerticalLine(int x, int y0, int y1, (int, int, int) c)
    {
        for (var y = y0; y <= y1; y++)
        {
            Set(x, y, c);
        }
    }

    private void Dot(int cx, int cy, int radius, (int, int, int) c)
    {
        for (var dy = -radius; dy <= radius; dy++)
        {
            for (var dx = -radius; dx <= radius; dx++)
            {
                if ((dx * dx) + (dy * dy) <= radius * radius)
                {
                    Set(cx + dx, cy + dy, c);
                }
            }
        }
    }

    private void Segment(int x0, int y0, int x1, int y1, (int, int, int) c)
    {
        var steps = Math.Max(Math.Abs(x1 - x0), Math.Abs(y1 - y0));
        for (var i = 0; i <= steps; i++)
        {
            var t = steps == 0 ? 0 : (double)i / steps;
            Dot((int)Math.Round(x0 + ((x1 - x0) * t)), (int)Math.Round(y0 + ((y1 - y0) * t)), 1, c);
        }
    }

    private void Text(int x, int y, string text, (int, int, int) c)
    {
        foreach (var ch in text)
        {
            if (s_font.TryGetValue(ch, out var glyph))
            {
                for (var row = 0; row < 7; row++)
                {
                    for (var column = 0; column < 5; column++)
                    {
                        if (glyph[(row * 5) + column] == '1')
                        {
                            Set(x + column, y + row, c);
                        }
                    }
                }
            }
            else if (char.IsLetter(ch))
            {
                Letter(x, y, ch, c);
            }

            x += 6;
        }
    }

    /// <summary>Letters as simple boxes with a mark: readable enough for axis titles in a generated report.</summary>
    private void Letter(int x, int y, char ch, (int, int, int) c)
    {
        var pattern = s_letters.GetValueOrDefault(ch) ?? "11111100011000111111100011000110001";
        for (var row = 0; row < 7; row++)
        {
            for (var column = 0; column < 5; column++)
            {
                if (pattern[(row * 5) + column] == '1')
                {
                    Set(x + column, y + row, c);
                }
            }
        }
    }

    private static readonly Dictionary<char, string> s_letters = new()
    {
        ['A'] = "01110100011000111111100011000110001", ['B'] = "11110100011000111110100011000111110", ['C'] = "01110100011000010000100001000101110",
        ['D'] = "11110100011000110001100011000111110", ['E'] = "11111100001000011110100001000011111", ['F'] = "11111100001000011110100001000010000",
        ['G'] = "01110100011000010111100011000101111", ['H'] = "10001100011000111111100011000110001", ['I'] = "01110001000010000100001000010001110",
        ['K'] = "10001100101010011000101001001010001", ['L'] = "10000100001000010000100001000011111", ['M'] = "10001110111010110101100011000110001",
        ['N'] = "10001110011010110011100011000110001", ['O'] = "01110100011000110001100011000101110", ['P'] = "11110100011000111110100001000010000",
        ['R'] = "11110100011000111110101001001010001", ['S'] = "01111100001000001110000010000111110", ['T'] = "11111001000010000100001000010000100",
        ['U'] = "10001100011000110001100011000101110", ['V'] = "10001100011000110001100010101000100", ['W'] = "10001100011000110101101011101110001",
        ['Y'] = "10001100010101000100001000010000100", ['J'] = "00111000100001000010000101001001100",
    };

    private byte[] Png()
    {
        using var raw = new MemoryStream();
        for (var y = 0; y < _height; y++)
        {
            raw.WriteByte(0); // filter: none
            raw.Write(_pixels, y * _width * 3, _width * 3);
        }

        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            raw.Position = 0;
            raw.CopyTo(zlib);
        }

        using var png = new MemoryStream();
        png.Write([137, 80, 78, 71, 13, 10, 26, 10]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, _width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), _height);
        header[8] = 8; // bit depth
        header[9] = 2; // colour type: RGB
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>The CRC-32 PNG chunks carry (polynomial 0xEDB88320) over the type and the data.</summary>
    private static uint Crc32(byte[] type, byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in type.Concat(data))
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return crc ^ 0xFFFFFFFFu;
    }

    private static void Chunk(Stream stream, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        stream.Write(length);
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        stream.Write(typeBytes);
        stream.Write(data);
        var crc = Crc32(typeBytes, data);
        Span<byte> crcBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crcBytes, crc);
        stream.Write(crcBytes);
    }
}
