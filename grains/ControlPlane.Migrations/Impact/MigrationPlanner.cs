using ControlPlane.Migrations.Sets;

namespace ControlPlane.Migrations.Impact;

/// <summary>One version as it would run: its statements' impacts, with duration classes when sizes are known.</summary>
public sealed record PlannedMigration(
    long Version, string FileName, bool Transactional, IReadOnlyList<PlannedStatement> Statements)
{
    /// <summary>The strongest lock any statement of the version takes.</summary>
    public LockLevel Lock => Statements.Count == 0 ? LockLevel.None : Statements.Max(s => s.Impact.Lock);
}

/// <summary>A statement's impact and, given a target's table sizes, how long it holds its locks.</summary>
public sealed record PlannedStatement(StatementImpact Impact, DurationClass Duration, string Sql);

/// <summary>
/// The pure part of a change's plan: for the versions a target still needs (from
/// <see cref="History.HistoryComparer"/>), what each statement locks, rewrites and scans. The grain calls it once per
/// target with that target's <see cref="ITableSizes"/>; without sizes every table-touching statement is Unknown.
/// </summary>
public static class MigrationPlanner
{
    public static IReadOnlyList<PlannedMigration> Plan(ParsedMigrationSet set, IEnumerable<long>? versions = null, ITableSizes? sizes = null)
    {
        ArgumentNullException.ThrowIfNull(set);
        var wanted = versions?.ToHashSet();
        return set.Migrations
            .Where(m => wanted is null || wanted.Contains(m.Migration.Version))
            .Select(m => new PlannedMigration(
                m.Migration.Version,
                m.Migration.Forward.FileName,
                m.Migration.Forward.Transactional,
                m.Forward.Statements
                    .Select(s => ImpactAnalyzer.Analyze(s))
                    .Select((impact, i) => new PlannedStatement(impact, DurationEstimator.Classify(impact, sizes), m.Forward.Statements[i].Text))
                    .ToArray()))
            .ToArray();
    }
}
