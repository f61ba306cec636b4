using System.Text.RegularExpressions;
using ControlPlane.Postgres.Monitoring;

namespace ControlPlane.Grains.Monitoring;

/// <summary>
/// Index advice from one heavy sample, pure: unused and duplicate indexes to drop, invalid ones to rebuild, and
/// missing-index candidates on tables read mostly by large sequential scans, with the filtering columns when the
/// statements reveal them. Every piece of advice carries the SQL that acts on it; the control plane never runs it.
/// </summary>
public static partial class IndexAdvisor
{
    /// <summary>A table smaller than this is cheap to scan; a missing index there is not worth advising.</summary>
    public const long MinRowsForMissingIndex = 10_000;

    /// <summary>Average rows per sequential scan above which the scans are the expensive kind.</summary>
    public const long MinRowsPerScan = 5_000;

    public static IReadOnlyList<IndexAdvice> Advise(HeavySample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        var advice = new List<IndexAdvice>();
        foreach (var index in sample.Indexes.Where(i => !i.Valid))
        {
            advice.Add(new(AdviceKind.RebuildInvalidIndex, index.Schema, index.Table, index.Index,
                "invalid (a failed concurrent build): maintained on every write, used by no read",
                $"REINDEX INDEX CONCURRENTLY {Qualified(index.Schema, index.Index)};", index.SizeBytes, []));
        }
        foreach (var group in sample.Indexes.Where(i => i.Valid).GroupBy(i => i.Signature).Where(g => g.Count() > 1))
        {
            // Keep the one that enforces something (primary key, unique), else the most used, else the first by name.
            var keep = group.OrderByDescending(i => i.Primary).ThenByDescending(i => i.Unique).ThenByDescending(i => i.Scans).ThenBy(i => i.Index, StringComparer.Ordinal).First();
            foreach (var dup in group.Where(i => i != keep && !i.Primary && !i.Unique))
            {
                advice.Add(new(AdviceKind.DropDuplicateIndex, dup.Schema, dup.Table, dup.Index, $"duplicates {keep.Index}",
                    $"DROP INDEX CONCURRENTLY {Qualified(dup.Schema, dup.Index)};", dup.SizeBytes, []));
            }
        }
        var duplicates = advice.Where(a => a.Kind == AdviceKind.DropDuplicateIndex).Select(a => a.Index).ToHashSet(StringComparer.Ordinal);
        foreach (var index in sample.Indexes.Where(i => i.Valid && i.Scans == 0 && !i.Unique && !i.Primary && !duplicates.Contains(i.Index)))
        {
            advice.Add(new(AdviceKind.DropUnusedIndex, index.Schema, index.Table, index.Index,
                "never scanned since the statistics were reset (check every replica that serves reads before dropping)",
                $"DROP INDEX CONCURRENTLY {Qualified(index.Schema, index.Index)};", index.SizeBytes, []));
        }
        foreach (var table in SeqScanHeavy(sample.Tables))
        {
            var columns = FilterColumns(table.Table, sample.Statements, ColumnsOf(sample.Indexes, table));
            var target = Qualified(table.Schema, table.Table);
            var command = columns.Count > 0
                ? $"CREATE INDEX CONCURRENTLY ON {target} ({string.Join(", ", columns.Select(Quote))});"
                : $"-- {target}: find the filtering columns of its statements, then CREATE INDEX CONCURRENTLY ON {target} (...);";
            advice.Add(new(AdviceKind.AddMissingIndex, table.Schema, table.Table, "",
                $"{table.SeqScans} sequential scans read {table.SeqRowsRead} rows ({table.SeqRowsRead / Math.Max(1, table.SeqScans)} per scan) of {table.LiveRows}; {table.IndexScans} index scans",
                command, table.SizeBytes, columns));
        }
        return advice;
    }

    /// <summary>Tables big enough to matter whose reads are mostly large sequential scans.</summary>
    public static IEnumerable<TableScans> SeqScanHeavy(IEnumerable<TableScans> tables) =>
        tables.Where(t => t.LiveRows >= MinRowsForMissingIndex && t.SeqScans > 0 && t.SeqRowsRead / t.SeqScans >= MinRowsPerScan && t.SeqScans > t.IndexScans)
            .OrderByDescending(t => t.SeqRowsRead);

    /// <summary>
    /// Columns compared with a parameter (<c>col = $1</c>, <c>col &lt; $2</c>, <c>col IN ($3)</c>) in statements that
    /// read <paramref name="table"/>, most frequent first, leaving out columns an index already leads with.
    /// </summary>
    public static IReadOnlyList<string> FilterColumns(string table, IEnumerable<StatementStats> statements, IReadOnlySet<string> indexed)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var tableWord = new Regex($@"\b(from|join)\s+(""?\w+""?\.)?""?{Regex.Escape(table)}""?(\s|$|,|\))", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        foreach (var s in statements.Where(s => tableWord.IsMatch(s.Query)))
        {
            foreach (Match m in Comparison().Matches(s.Query))
            {
                var column = m.Groups["col"].Value.Trim('"').ToLowerInvariant();
                if (indexed.Contains(column)) continue;
                counts[column] = counts.GetValueOrDefault(column) + s.Calls;
            }
        }
        return counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Key).Take(3).ToList();
    }

    /// <summary>First columns of the table's valid indexes, read from their definitions.</summary>
    private static HashSet<string> ColumnsOf(IEnumerable<IndexUsage> indexes, TableScans table) =>
        indexes.Where(i => i.Valid && i.Schema == table.Schema && i.Table == table.Table)
            .Select(i => LeadingColumn().Match(i.Definition))
            .Where(m => m.Success)
            .Select(m => m.Groups[1].Value.Trim('"').ToLowerInvariant())
            .ToHashSet(StringComparer.Ordinal);

    private static string Qualified(string schema, string name) => $"{Quote(schema)}.{Quote(name)}";

    private static string Quote(string identifier) =>
        SimpleIdentifier().IsMatch(identifier) ? identifier : "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    [GeneratedRegex(@"(?:\b\w+\.)?(?<col>""?[A-Za-z_][A-Za-z0-9_]*""?)\s*(?:=|<>|!=|<=|>=|<|>|\bin\b|\blike\b|\bilike\b|\bbetween\b)\s*\(?\s*\$\d+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Comparison();

    [GeneratedRegex(@"USING \w+ \(([^,\s)]+)", RegexOptions.CultureInvariant)]
    private static partial Regex LeadingColumn();

    [GeneratedRegex("^[a-z_][a-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex SimpleIdentifier();
}
