using ControlPlane.Migrations.Impact;
using ControlPlane.Migrations.Lint;
using ControlPlane.Migrations.Parsing;
using ControlPlane.Migrations.Sets;
using ControlPlane.Postgres.Changes;

namespace ControlPlane.Grains.Changes;

/// <summary>
/// A change's migration set as the grain uses it: rebuilt from the stored files (so the checksums are the bytes the
/// author uploaded), parsed once per activation, and turned into lint findings, plan rows and per-version scripts.
/// </summary>
internal sealed class ChangeSubmission
{
    private ChangeSubmission(ParsedMigrationSet parsed) => Parsed = parsed;

    public ParsedMigrationSet Parsed { get; }

    public MigrationSet Set => Parsed.Set;

    /// <summary>Reads and parses the files; <see cref="ChangeRefusedException"/> (Invalid) naming every bad file.</summary>
    public static ChangeSubmission From(IEnumerable<ChangeFile> files)
    {
        try
        {
            var set = MigrationSetLoader.FromFiles(files.Select(f => new MigrationSource(f.FileName, f.Content)));
            return new ChangeSubmission(ParsedMigrationSet.Parse(set, SqlParser.Shared));
        }
        catch (MigrationSetException e)
        {
            throw new ChangeRefusedException(ChangeRefusalKind.Invalid,
                "files are not a usable migration set: " + string.Join("; ", e.Errors.Select(x => x.ToString())));
        }
    }

    public IReadOnlyList<ChangeFinding> Lint() =>
        MigrationLinter.Lint(Parsed).Findings
            .Select(f => new ChangeFinding(f.RuleId, f.Severity == Severity.Error, f.FileName, f.Position.Line, f.Message, f.SafeRewrite))
            .ToArray();

    /// <param name="sizes">The targets' table sizes; without them every statement that scans or rewrites is Unknown.</param>
    public IReadOnlyList<ChangePlanStatement> Plan(ITableSizes? sizes = null) =>
        MigrationPlanner.Plan(Parsed, sizes: sizes)
            .SelectMany(m => m.Statements.Select((s, i) => new ChangePlanStatement(
                m.Version, i, s.Impact.Kind, s.Impact.Lock.ToSql(),
                s.Impact.Locks.Select(l => l.Table.ToString()).Distinct().ToArray(), s.Impact.Rewrites, s.Duration.ToString())))
            .ToArray();

    public ScriptRun Forward(long version)
    {
        var m = Parsed.Migrations.First(x => x.Migration.Version == version);
        var script = m.Migration.Forward;
        return new ScriptRun(version, script.FileName, script.Checksum, script.Transactional, m.Forward.Statements.Select(s => s.Text).ToArray());
    }

    /// <summary>The undo of <paramref name="version"/>; null when the set has none.</summary>
    public ScriptRun? Undo(long version)
    {
        var m = Parsed.Migrations.FirstOrDefault(x => x.Migration.Version == version);
        if (m?.Undo is null || m.Migration.Undo is null) return null;
        var script = m.Migration.Undo;
        return new ScriptRun(version, script.FileName, script.Checksum, script.Transactional, m.Undo.Statements.Select(s => s.Text).ToArray());
    }
}
