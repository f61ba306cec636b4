using ControlPlane.Migrations.Parsing;

namespace ControlPlane.Migrations.Sets;

/// <summary>A migration with its forward (and undo) script parsed by PostgreSQL's grammar.</summary>
public sealed record ParsedMigration(Migration Migration, ParsedScript Forward, ParsedScript? Undo);

/// <summary>A set whose every file parsed: what lint and the planner read. Parsing happens once per set.</summary>
public sealed record ParsedMigrationSet(MigrationSet Set, IReadOnlyList<ParsedMigration> Migrations)
{
    /// <summary>Parses every file; all syntax errors are reported together, each with file, line and column.</summary>
    public static ParsedMigrationSet Parse(MigrationSet set, SqlParser parser)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(parser);
        var errors = new List<MigrationSetError>();
        var parsed = new List<ParsedMigration>();
        foreach (var migration in set.Migrations)
        {
            var forward = TryParse(migration.Forward, parser, errors);
            var undo = migration.Undo is null ? null : TryParse(migration.Undo, parser, errors);
            if (forward is not null && (migration.Undo is null || undo is not null))
            {
                parsed.Add(new ParsedMigration(migration, forward, undo));
            }
        }
        if (errors.Count > 0)
        {
            throw new MigrationSetException(errors);
        }
        return new ParsedMigrationSet(set, parsed);
    }

    private static ParsedScript? TryParse(MigrationScript script, SqlParser parser, List<MigrationSetError> errors)
    {
        try
        {
            return parser.Parse(script.Sql);
        }
        catch (SqlSyntaxException e)
        {
            errors.Add(new MigrationSetError(script.FileName, $"{e.Position}: {e.ParserMessage}"));
            return null;
        }
    }
}
