namespace ControlPlane.IntegrationTests.Docs;

/// <summary>
/// A shell block of docs/*.md marked runnable (<c>```sh runnable</c>, optionally <c>exit=N</c>), with the output the
/// doc shows right after it (a <c>```text expected</c> block: each non-empty line must appear in what it prints).
/// </summary>
public sealed record RunnableBlock(string File, int Line, string Script, int ExpectedExit, IReadOnlyList<string> Expected)
{
    /// <summary>docs/cli.md:42, what a failing test names.</summary>
    public string Id => $"{File}:{Line}";
}

/// <summary>Extracts the runnable blocks of a markdown page. Pure: lines in, blocks out.</summary>
public static class RunnableBlocks
{
    private const string Fence = "```";

    public static IReadOnlyList<RunnableBlock> Extract(string file, IReadOnlyList<string> lines)
    {
        var blocks = new List<RunnableBlock>();
        for (var i = 0; i < lines.Count; i++)
        {
            var info = Info(lines[i]);
            if (info is null) continue;
            var end = Close(lines, i + 1);
            if (info.Length >= 2 && info[0] is "sh" or "bash" && info.Contains("runnable"))
            {
                var exit = info.Select(w => w.StartsWith("exit=", StringComparison.Ordinal) && int.TryParse(w[5..], out var n) ? n : (int?)null).FirstOrDefault(n => n is not null) ?? 0;
                var script = string.Join('\n', lines.Skip(i + 1).Take(end - i - 1));
                var expected = new List<string>();
                var next = end + 1;
                while (next < lines.Count && lines[next].Trim().Length == 0) next++;
                if (next < lines.Count && Info(lines[next]) is { } outputInfo && outputInfo.Contains("expected"))
                {
                    var outputEnd = Close(lines, next + 1);
                    expected.AddRange(lines.Skip(next + 1).Take(outputEnd - next - 1).Where(l => l.Trim().Length > 0).Select(l => l.Trim()));
                    end = outputEnd;
                }
                blocks.Add(new RunnableBlock(file, i + 1, script, exit, expected));
            }
            i = end;
        }
        return blocks;
    }

    /// <summary>The words of a fence's info string, or null when the line opens no fence.</summary>
    private static string[]? Info(string line) =>
        line.StartsWith(Fence, StringComparison.Ordinal) ? line[Fence.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries) : null;

    private static int Close(IReadOnlyList<string> lines, int from)
    {
        for (var j = from; j < lines.Count; j++)
            if (lines[j].TrimEnd() == Fence) return j;
        return lines.Count;
    }

    /// <summary>Every runnable block of docs/*.md under <paramref name="repositoryRoot"/>, file by file.</summary>
    public static IReadOnlyList<RunnableBlock> InDocs(string repositoryRoot) =>
        Directory.EnumerateFiles(Path.Combine(repositoryRoot, "docs"), "*.md").Order(StringComparer.Ordinal)
            .SelectMany(f => Extract("docs/" + Path.GetFileName(f), File.ReadAllLines(f))).ToList();

    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ControlPlane.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("ControlPlane.sln not found above " + AppContext.BaseDirectory);
    }
}
