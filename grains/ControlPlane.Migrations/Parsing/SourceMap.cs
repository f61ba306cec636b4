using System.Text;

namespace ControlPlane.Migrations.Parsing;

/// <summary>Turns the parser's UTF-8 byte offsets into lines, columns and text of the source.</summary>
public sealed class SourceMap
{
    private readonly byte[] utf8;
    private readonly List<int> lineStarts = [0];

    public SourceMap(byte[] utf8)
    {
        this.utf8 = utf8;
        for (var i = 0; i < utf8.Length; i++)
        {
            if (utf8[i] == (byte)'\n')
            {
                lineStarts.Add(i + 1);
            }
        }
    }

    public int ByteLength => utf8.Length;

    public SourcePosition PositionOf(int byteOffset)
    {
        var offset = Math.Clamp(byteOffset, 0, utf8.Length);
        var line = lineStarts.BinarySearch(offset);
        if (line < 0)
        {
            line = ~line - 1;
        }
        var column = Encoding.UTF8.GetCharCount(utf8, lineStarts[line], offset - lineStarts[line]) + 1;
        return new SourcePosition(line + 1, column);
    }

    public string Text(int byteStart, int byteLength)
    {
        var start = Math.Clamp(byteStart, 0, utf8.Length);
        return Encoding.UTF8.GetString(utf8, start, Math.Clamp(byteLength, 0, utf8.Length - start));
    }
}
