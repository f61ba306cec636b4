namespace ControlPlane.Migrations.Sets;

/// <summary>One SQL file of a set, exactly as read: its text, the sha256 of its bytes and its header directives.</summary>
public sealed record MigrationScript(string FileName, string Sql, string Checksum, bool Transactional, bool Contract);

/// <summary>A version of the schema: the forward script and, when the author wrote one, the undo that reverses it.</summary>
public sealed record Migration(long Version, string Name, MigrationScript Forward, MigrationScript? Undo);

/// <summary>A migration set: versions in ascending numeric order, each at most once.</summary>
public sealed record MigrationSet(IReadOnlyList<Migration> Migrations)
{
    public Migration? Find(long version)
    {
        foreach (var migration in Migrations)
        {
            if (migration.Version == version)
            {
                return migration;
            }
        }
        return null;
    }

    public long? Newest => Migrations.Count == 0 ? null : Migrations[^1].Version;
}

/// <summary>A problem with one file of a set (or with the set as a whole when <see cref="FileName"/> is empty).</summary>
public sealed record MigrationSetError(string FileName, string Message)
{
    public override string ToString() => FileName.Length == 0 ? Message : $"{FileName}: {Message}";
}

/// <summary>The set cannot be used: every problem found, each naming its file.</summary>
public sealed class MigrationSetException(IReadOnlyList<MigrationSetError> errors)
    : Exception(string.Join(Environment.NewLine, errors))
{
    public IReadOnlyList<MigrationSetError> Errors { get; } = errors;
}
