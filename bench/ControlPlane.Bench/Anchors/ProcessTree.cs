using System.Globalization;
using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Anchors;

/// <summary>
/// The processes of a node as <c>/proc</c> shows them. The anchors' agents fork helpers that rename themselves
/// (pg_autoctl's "node active", Patroni's PostgreSQL children), so a node is found by its process tree and a whole
/// run by a marker variable in the environment every child inherits, not by command lines.
/// </summary>
public static class ProcessTree
{
    /// <summary>The parent pid in a <c>/proc/PID/stat</c> line; null when the line is not one. The command name may hold spaces and parentheses, so the fields are read after the last ')'.</summary>
    public static int? ParentOf(string statLine)
    {
        ArgumentNullException.ThrowIfNull(statLine);
        var close = statLine.LastIndexOf(')');
        if (close < 0) return null;
        var fields = statLine[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 1 && int.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var ppid) ? ppid : null;
    }

    /// <summary>Whether a <c>/proc/PID/environ</c> image (NUL-separated) holds exactly <paramref name="variable"/>=<paramref name="value"/>.</summary>
    public static bool EnvironmentHas(string environ, string variable, string value)
    {
        ArgumentNullException.ThrowIfNull(environ);
        var wanted = variable + "=" + value;
        return environ.Split('\0').Any(e => e == wanted);
    }

    /// <summary><paramref name="root"/> and every descendant living now, parents first.</summary>
    public static IReadOnlyList<int> Of(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (var pid in Pids())
        {
            if (Read($"/proc/{pid}/stat") is { } stat && ParentOf(stat) is { } ppid) parents[pid] = ppid;
        }
        var tree = new List<int>();
        if (!parents.ContainsKey(root)) return tree;
        tree.Add(root);
        for (var i = 0; i < tree.Count; i++)
        {
            tree.AddRange(parents.Where(p => p.Value == tree[i]).Select(p => p.Key));
        }
        return tree;
    }

    /// <summary>A direct child of <paramref name="parent"/> whose process title (its <c>/proc/PID/cmdline</c>, which PostgreSQL rewrites to "postgres: checkpointer") holds <paramref name="title"/>; null when none.</summary>
    public static int? ChildTitled(int parent, string title)
    {
        foreach (var pid in Pids())
        {
            if (Read($"/proc/{pid}/stat") is { } stat && ParentOf(stat) == parent
                && Read($"/proc/{pid}/cmdline") is { } cmdline && TitleHas(cmdline, title))
            {
                return pid;
            }
        }
        return null;
    }

    /// <summary>Whether a <c>/proc/PID/cmdline</c> image (arguments NUL-separated; a rewritten title may pad with NULs or spaces) names <paramref name="title"/> as a word.</summary>
    public static bool TitleHas(string cmdline, string title)
    {
        ArgumentNullException.ThrowIfNull(cmdline);
        return cmdline.Replace('\0', ' ').Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(title, StringComparer.Ordinal);
    }

    /// <summary>Every process whose environment carries the run's marker.</summary>
    public static IReadOnlyList<int> Marked(string variable, string value) =>
        Pids().Where(pid => Read($"/proc/{pid}/environ") is { } env && EnvironmentHas(env, variable, value)).ToList();

    /// <summary>Sends <paramref name="signal"/> to the whole tree of <paramref name="root"/>, collected first so a dying parent's children are not missed.</summary>
    public static int Signal(int root, int signal)
    {
        var tree = Of(root);
        foreach (var pid in tree) UnixSignals.Send(pid, signal);
        return tree.Count;
    }

    /// <summary>The postmaster's pid from <c>postmaster.pid</c> in <paramref name="dataDirectory"/>, when it is running.</summary>
    public static int? Postmaster(string dataDirectory)
    {
        var text = Read(Path.Combine(dataDirectory, "postmaster.pid"));
        if (text is null) return null;
        var first = text.Split('\n')[0].Trim();
        return int.TryParse(first, NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) && Directory.Exists($"/proc/{pid}") ? pid : null;
    }

    private static IEnumerable<int> Pids()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid)) yield return pid;
        }
    }

    private static string? Read(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return null; }
    }
}
