using ControlPlane.Migrations.Impact;
using ControlPlane.Migrations.Parsing;
using ControlPlane.Migrations.Sets;

namespace ControlPlane.Migrations.Lint;

/// <summary>
/// What a rule sees: the statement, its impact, the file around it and what earlier statements established (tables
/// created in this file, lock_timeout set, constraints validated anywhere earlier in the set).
/// </summary>
public sealed class StatementContext
{
    internal StatementContext(ParsedMigration migration, SetFacts facts)
    {
        Migration = migration;
        Facts = facts;
    }

    public ParsedMigration Migration { get; }

    public MigrationScript Script => Migration.Migration.Forward;

    public bool Transactional => Script.Transactional;

    /// <summary>The file says it is the contract step of an expand/contract change.</summary>
    public bool Contract => Script.Contract;

    public ParsedScript? Undo => Migration.Undo;

    public ParsedStatement Statement { get; internal set; } = null!;

    public StatementImpact Impact { get; internal set; } = null!;

    /// <summary>Relations created by earlier statements of this file: empty, so locking them harms no one.</summary>
    public List<TableName> CreatedInFile { get; } = [];

    /// <summary>A SET lock_timeout (non-zero) ran earlier in this file.</summary>
    public bool LockTimeoutSet { get; internal set; }

    /// <summary>An earlier statement of this file already waited for a blocking lock with no lock_timeout.</summary>
    public bool LockTakenWithoutTimeout { get; internal set; }

    /// <summary>Where a node (anything with a "location" byte offset) sits in the file.</summary>
    public SourcePosition At(System.Text.Json.JsonElement node) =>
        node.Int("location") is var at and > 0 ? Migration.Forward.Map.PositionOf(at) : Statement.Position;

    /// <summary>Lock-taking ALTERs so far in this file, per table (for one-transaction pile-ups).</summary>
    public Dictionary<string, int> LockingAlters { get; } = new(StringComparer.Ordinal);

    internal SetFacts Facts { get; }

    /// <summary>The table exists before this file (so it may hold data and serve traffic).</summary>
    public bool Existing(TableName table) => !CreatedInFile.Any(table.Matches);

    /// <summary>A validated CHECK (column IS NOT NULL) exists on the table, from this set's earlier statements.</summary>
    public bool HasValidatedNotNullCheck(TableName table, string column) =>
        Facts.ValidatedNotNull.Any(v => v.Table.Matches(table) && v.Column == column);
}

/// <summary>Facts accumulated over the whole set, in version order.</summary>
internal sealed class SetFacts
{
    public List<(TableName Table, string Constraint, string Column)> NotNullChecks { get; } = [];

    public List<(TableName Table, string Column)> ValidatedNotNull { get; } = [];
}
