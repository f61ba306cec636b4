using System.Globalization;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Failover;

/// <summary>A term as a managed instance carries it: the highest row of its <c>controlplane.term_history</c>.</summary>
public sealed record TermMark(long Term, string Primary);

/// <summary>
/// The tier's term kept in the managed instances themselves, so that a failover decided while the catalog is
/// unreachable is still fenced: a promoted instance writes its new term before clients are routed to it, the
/// standbys get the row by replication, and it survives pg_rewind and base backups. A control plane that reads a
/// higher term on any instance never acts in a lower one. The table is created idempotently (at provisioning for
/// local fleets, by the tier on its primary otherwise); the probe reads it without ever failing when it is absent.
/// </summary>
public static class TermHistory
{
    internal const string EnsureSql = """
        CREATE SCHEMA IF NOT EXISTS controlplane;
        CREATE TABLE IF NOT EXISTS controlplane.term_history (
            term bigint PRIMARY KEY,
            primary_name text NOT NULL,
            decided_at timestamptz NOT NULL DEFAULT now(),
            decided_by text NOT NULL DEFAULT ''
        )
        """;

    // The new primary's standbys are not set up yet in its first moments: the row must not wait for them.
    internal const string LocalCommit = "SET LOCAL synchronous_commit TO local";
    internal const string HighestSql = "SELECT term, primary_name FROM controlplane.term_history ORDER BY term DESC LIMIT 1";
    internal const string InsertSql =
        "INSERT INTO controlplane.term_history (term, primary_name, decided_by) VALUES ($1, $2, $3) ON CONFLICT (term) DO NOTHING";

    /// <summary>
    /// One probe column: "term primary" of the highest row, or null when the table does not exist (yet) or cannot
    /// be read. The query is dynamic (query_to_xml) because a statement naming a missing table fails to plan, and
    /// it only runs on the CASE branch taken; has_table_privilege on a null regclass is null, not an error. The
    /// result is a whole XML document (tableforest off) even for an empty table, which xpath then finds no row in.
    /// </summary>
    public const string ProbeColumnSql = """
        CASE WHEN has_table_privilege(to_regclass('controlplane.term_history'), 'SELECT')
             THEN (xpath('//t/text()', query_to_xml(
                      'SELECT term::text || '' '' || primary_name AS t FROM controlplane.term_history ORDER BY term DESC LIMIT 1',
                      false, false, '')))[1]::text
        END
        """;

    /// <summary>Parses <see cref="ProbeColumnSql"/>'s value; null for null or anything unexpected.</summary>
    public static TermMark? Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var space = value.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || space == value.Length - 1) return null;
        return long.TryParse(value.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out var term) && term > 0
            ? new TermMark(term, value[(space + 1)..])
            : null;
    }

    /// <summary>Creates the control table if missing (safe to race: a concurrent creator's win is success).</summary>
    public static async Task EnsureAsync(ReplicaEndpoint primary, CancellationToken ct)
    {
        await using var connection = await OpenAsync(primary, ct).ConfigureAwait(false);
        await EnsureAsync(connection, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Records <paramref name="term"/> with <paramref name="primaryName"/> on the writable instance at
    /// <paramref name="primary"/>, creating the table if needed. Answers the instance's highest term afterwards:
    /// equal to the recorded one on success; higher when the instance already carries a newer term (the caller is
    /// stale and must not route to it); a different primary in the same term means the term was decided twice.
    /// </summary>
    public static async Task<TermMark> RecordAsync(ReplicaEndpoint primary, long term, string primaryName, string decidedBy, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(term, 1);
        ArgumentException.ThrowIfNullOrWhiteSpace(primaryName);
        await using var connection = await OpenAsync(primary, ct).ConfigureAwait(false);
        await EnsureAsync(connection, ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        await using (var local = new NpgsqlCommand(LocalCommit, connection, tx))
        {
            await local.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        var highest = await HighestAsync(connection, tx, ct).ConfigureAwait(false);
        if (highest is null || highest.Term < term)
        {
            await using var insert = new NpgsqlCommand(InsertSql, connection, tx)
            {
                Parameters = { new() { Value = term }, new() { Value = primaryName }, new() { Value = decidedBy } },
            };
            await insert.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            highest = await HighestAsync(connection, tx, ct).ConfigureAwait(false);
        }
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return highest ?? throw new InvalidOperationException($"term {term} was not recorded on {primary.Name}");
    }

    /// <summary>The instance's highest term, or null when it has none (or no table).</summary>
    public static async Task<TermMark?> ReadAsync(ReplicaEndpoint endpoint, CancellationToken ct)
    {
        await using var connection = await OpenAsync(endpoint, ct).ConfigureAwait(false);
        await using var cmd = new NpgsqlCommand($"SELECT {ProbeColumnSql}", connection);
        return Parse(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false) as string);
    }

    private static async Task EnsureAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        try
        {
            await using var cmd = new NpgsqlCommand(EnsureSql, connection);
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable
                                              or PostgresErrorCodes.DuplicateSchema)
        {
            // IF NOT EXISTS is not atomic against a concurrent creator; the table exists either way.
        }
    }

    private static async Task<TermMark?> HighestAsync(NpgsqlConnection connection, NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(HighestSql, connection, tx);
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false) ? new TermMark(reader.GetInt64(0), reader.GetString(1)) : null;
    }

    private static Task<NpgsqlConnection> OpenAsync(ReplicaEndpoint endpoint, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return AdminSql.OpenAsync(new NpgsqlConnectionStringBuilder(AdminSql.ConnectionString(endpoint))
        {
            Timeout = SqlFailoverOps.ConnectTimeoutSeconds,
            CommandTimeout = SqlFailoverOps.CommandTimeoutSeconds,
            CancellationTimeout = -1,
            ApplicationName = "controlplane-failover",
        }.ConnectionString, ct);
    }
}
