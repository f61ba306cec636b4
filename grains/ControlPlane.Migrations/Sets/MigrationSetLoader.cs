using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace ControlPlane.Migrations.Sets;

/// <summary>
/// Reads a migration set: <c>V&lt;version&gt;__&lt;name&gt;.sql</c> forward files and optional
/// <c>U&lt;version&gt;__&lt;name&gt;.sql</c> undo files. Every problem is collected and reported together, each naming its
/// file, so an author fixes a directory in one pass. Files not ending in <c>.sql</c> are not part of the set.
/// </summary>
public static partial class MigrationSetLoader
{
    /// <summary>Header directive: the file runs outside a transaction (CREATE INDEX CONCURRENTLY needs that).</summary>
    public const string NoTransactionDirective = "controlplane:no-transaction";

    /// <summary>Header directive: the file is the contract step of an expand/contract change (drops are intended).</summary>
    public const string ContractDirective = "controlplane:contract";

    public static MigrationSet FromDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (!Directory.Exists(directory))
        {
            throw new MigrationSetException([new MigrationSetError("", $"directory '{directory}' does not exist")]);
        }
        var files = Directory.EnumerateFiles(directory, "*.sql", SearchOption.TopDirectoryOnly)
            .Select(path => new MigrationSource(Path.GetFileName(path), File.ReadAllBytes(path)));
        return FromFiles(files);
    }

    /// <summary>Builds a set from file names and contents (a directory, or an upload).</summary>
    public static MigrationSet FromFiles(IEnumerable<MigrationSource> files)
    {
        var errors = new List<MigrationSetError>();
        var forwards = new Dictionary<long, (ParsedName Name, MigrationScript Script)>();
        var undos = new Dictionary<long, (ParsedName Name, MigrationScript Script)>();
        foreach (var file in files.OrderBy(f => f.FileName, StringComparer.Ordinal))
        {
            if (ParseName(file.FileName, errors) is not { } name || ReadScript(file, errors) is not { } script)
            {
                continue;
            }
            var into = name.Undo ? undos : forwards;
            if (into.TryGetValue(name.Version, out var other))
            {
                errors.Add(new MigrationSetError(file.FileName,
                    $"version {name.Version} is already {(name.Undo ? "undone" : "defined")} by {other.Script.FileName}"));
                continue;
            }
            into[name.Version] = (name, script);
        }
        foreach (var (version, undo) in undos)
        {
            if (!forwards.ContainsKey(version))
            {
                errors.Add(new MigrationSetError(undo.Script.FileName,
                    $"undo of version {version} has no forward file V{version}__*.sql"));
            }
        }
        if (errors.Count == 0 && forwards.Count == 0)
        {
            errors.Add(new MigrationSetError("", "the set has no V<version>__<name>.sql files"));
        }
        if (errors.Count > 0)
        {
            throw new MigrationSetException(errors);
        }
        return new MigrationSet(forwards
            .OrderBy(f => f.Key)
            .Select(f => new Migration(f.Key, f.Value.Name.Name, f.Value.Script,
                undos.TryGetValue(f.Key, out var undo) ? undo.Script : null))
            .ToArray());
    }

    /// <summary>The sha256 of a file's bytes, lower-case hex: what a target's history records.</summary>
    public static string Checksum(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(SHA256.HashData(content));

    private static ParsedName? ParseName(string fileName, List<MigrationSetError> errors)
    {
        var match = FileNamePattern().Match(fileName);
        if (!match.Success)
        {
            errors.Add(new MigrationSetError(fileName,
                "is not named V<version>__<name>.sql or U<version>__<name>.sql (version: digits; name: letters, digits, _ or -)"));
            return null;
        }
        if (!long.TryParse(match.Groups["version"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            || version <= 0)
        {
            errors.Add(new MigrationSetError(fileName,
                $"version '{match.Groups["version"].Value}' is not a positive number below 2^63"));
            return null;
        }
        return new ParsedName(match.Groups["kind"].Value == "U", version, match.Groups["name"].Value);
    }

    private static MigrationScript? ReadScript(MigrationSource file, List<MigrationSetError> errors)
    {
        string sql;
        try
        {
            sql = new UTF8Encoding(false, true).GetString(file.Content);
        }
        catch (DecoderFallbackException)
        {
            errors.Add(new MigrationSetError(file.FileName, "is not valid UTF-8"));
            return null;
        }
        if (sql.Length > 0 && sql[0] == '\uFEFF')
        {
            sql = sql[1..];
        }
        var header = HeaderDirectives(sql);
        return new MigrationScript(file.FileName, sql, Checksum(file.Content),
            !header.Contains(NoTransactionDirective), header.Contains(ContractDirective));
    }

    // Directives live in the file's header: the leading lines that are blank or '--' comments. Such a line is a
    // comment whatever follows, so reading it needs no parser; anything after the first statement is never a header.
    private static HashSet<string> HeaderDirectives(string sql)
    {
        var directives = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rawLine in sql.AsSpan().EnumerateLines())
        {
            var line = rawLine.Trim();
            if (line.IsEmpty)
            {
                continue;
            }
            if (!line.StartsWith("--"))
            {
                break;
            }
            var words = line[2..].Trim().ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length > 0 && words[0].StartsWith("controlplane:", StringComparison.Ordinal))
            {
                directives.Add(words[0]);
            }
        }
        return directives;
    }

    [GeneratedRegex(@"^(?<kind>[VU])(?<version>[0-9]+)__(?<name>[A-Za-z0-9_\-]+)\.sql$", RegexOptions.CultureInvariant)]
    private static partial Regex FileNamePattern();

    private sealed record ParsedName(bool Undo, long Version, string Name);
}

/// <summary>A file offered to a set: its name (no directory) and its bytes.</summary>
public sealed record MigrationSource(string FileName, byte[] Content);
